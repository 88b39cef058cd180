"""deploy/ (Kubernetes): `kubectl apply --dry-run=client --validate=false -f deploy/` accepts every manifest,
and the pieces fit together (selectors, the ConfigMaps and ports they name, HAProxy's configuration).

kubectl's client dry run still asks a server which kinds exist (discovery) and whether each object is
there already; with no cluster on this machine, a stub answers that: the kinds we use, and "not found"
for every object. It checks nothing else, so what a cluster would refuse is not caught here."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
KINDS = {  # group/version: (resource, kind, namespaced)
    "v1": [("namespaces", "Namespace", False), ("services", "Service", True), ("configmaps", "ConfigMap", True),
           ("secrets", "Secret", True)],
    "apps/v1": [("deployments", "Deployment", True), ("statefulsets", "StatefulSet", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "networking.k8s.io/v1": [("ingresses", "Ingress", True)],
}  # fmt: skip


def _resources(group_version: str) -> dict:
    return {
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
        "resources": [{"name": name, "singularName": "", "namespaced": namespaced, "kind": kind,
                       "verbs": ["create", "get", "list", "patch", "update", "delete"]}
                      for name, kind, namespaced in KINDS[group_version]],
    }  # fmt: skip


class Discovery(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        groups = [gv for gv in KINDS if "/" in gv]
        body: dict | None = None
        if path == "/api":
            body = {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        elif path == "/apis":
            body = {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": gv.split("/")[0], "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}],
                 "preferredVersion": {"groupVersion": gv, "version": gv.split("/")[1]}} for gv in groups]}  # fmt: skip
        elif path == "/api/v1":
            body = _resources("v1")
        elif path.startswith("/apis/") and path[len("/apis/") :] in KINDS:
            body = _resources(path[len("/apis/") :])
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body or {"kind": "Status", "status": "Failure", "code": 404}).encode())

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def stub_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def manifests() -> list[dict]:
    return [doc for path in sorted(DEPLOY.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_kubectl_client_dry_run_accepts_every_manifest(stub_server: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [KUBECTL, "--server", stub_server, "apply", "--dry-run=client", "--validate=false", "-f", str(DEPLOY)],
        capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(dry run)") == len(manifests())


def test_each_service_and_budget_selects_pods_of_a_deployment() -> None:
    docs = manifests()
    labels = [d["spec"]["template"]["metadata"]["labels"] for d in docs if d["kind"] == "Deployment"]
    for doc in docs:
        if doc["kind"] == "Deployment":
            assert (
                doc["spec"]["selector"]["matchLabels"].items() <= doc["spec"]["template"]["metadata"]["labels"].items()
            )
        selector = doc["spec"].get("selector") if doc["kind"] in ("Service", "PodDisruptionBudget") else None
        if selector:
            selector = selector.get("matchLabels", selector)
            assert any(selector.items() <= pod.items() for pod in labels), doc["metadata"]["name"]


def test_config_maps_named_by_pods_exist_and_rasa_endpoints_scale() -> None:
    docs = manifests()
    config_maps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        named = [v["configMap"]["name"] for v in pod.get("volumes", []) if "configMap" in v]
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            named += [s["configMapRef"]["name"] for s in container.get("envFrom", []) if "configMapRef" in s]
        assert set(named) <= set(config_maps), doc["metadata"]["name"]
    endpoints = yaml.safe_load(config_maps["rasa-endpoints"]["endpoints.yml"])
    assert endpoints["lock_store"]["type"] == "redis"
    assert endpoints["tracker_store"]["type"] == "SQL"
    assert endpoints["event_broker"]["type"] == "pika"
    assert endpoints["action_endpoint"]["enable_selective_domain"] is True  # as endpoints.yml


def test_haproxy_configuration_is_accepted_by_haproxy(tmp_path: Path) -> None:
    config = next(d for d in manifests() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "haproxy")
    path = tmp_path / "haproxy.cfg"
    path.write_text(config["data"]["haproxy.cfg"])
    result = subprocess.run(
        [HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30, env={"REDIS_PASSWORD": "x"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
