"""The scaled stack's generated files (bot/scale/config.py): HAProxy accepts its configuration, and Rasa's
endpoints name the lock store, the event broker and no secret."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.scale.config import Ports, check_event_broker, endpoints_yaml, event_broker_environment, haproxy_cfg
from bot.settings import Settings, SettingsError

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
PORTS = Ports(public=18000, rasa_balancer=18001, actions_balancer=18002, gateways=(18010, 18011),
              rasa=(18020, 18021, 18022), actions=(18030,), redis=18040)  # fmt: skip


def test_haproxy_accepts_the_generated_configuration(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.cfg"
    path.write_text(haproxy_cfg(PORTS))
    result = subprocess.run([HAPROXY, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    text = path.read_text()
    assert text.count("server rasa") == 2 * 3 and text.count("server gateway") == 2 * 2  # with the fail-open backups
    assert text.count("server actions") == 2
    assert "timeout tunnel" in text and "option httpchk GET /health" in text


def test_endpoints_name_lock_store_and_event_broker_but_no_secret() -> None:
    endpoints = yaml.safe_load(endpoints_yaml("127.0.0.1", 18040, "varde_events"))
    assert endpoints["lock_store"] == {
        "type": "redis",
        "url": "127.0.0.1",
        "port": 18040,
        "db": 1,
        "key_prefix": "varde",
    }
    assert endpoints["event_broker"]["queues"] == ["varde_events"]
    assert endpoints["event_broker"]["password"] == "${BOT_EVENT_BROKER_PASSWORD}"
    assert endpoints["tracker_store"]["url"] == "${BOT_TRACKER_DATABASE_URL}"


def test_event_broker_environment_from_one_url() -> None:
    assert event_broker_environment("amqp://varde:s3cret@mq.example:5673") == {
        "BOT_EVENT_BROKER_HOST": "mq.example", "BOT_EVENT_BROKER_PORT": "5673",
        "BOT_EVENT_BROKER_USERNAME": "varde", "BOT_EVENT_BROKER_PASSWORD": "s3cret",
    }  # fmt: skip


def test_a_production_scaled_stack_refuses_rabbitmqs_guest_login() -> None:
    for url in ("amqp://guest:guest@127.0.0.1:5672", "amqp://127.0.0.1:5672"):
        check_event_broker(Settings(event_broker_url=url))  # development: the local RabbitMQ as it comes
        with pytest.raises(SettingsError, match="guest/guest"):
            check_event_broker(Settings(env="production", event_broker_url=url))
    check_event_broker(Settings(env="production", event_broker_url="amqp://varde:s3cret@mq.example:5672"))
