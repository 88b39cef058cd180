"""The running Rasa server's HTTP API, as far as the lifecycle needs it: which model it serves, load another
(on every server, or on none).

Requests carry `Authorization: Bearer <JWT>` (HS256, signed with BOT_RASA_JWT_SECRET), never a token in
the query string, where it would end up in logs.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jwt

log = logging.getLogger("bot.training")


class RasaServerError(RuntimeError):
    """The Rasa server could not be reached or refused the request."""


@dataclass(frozen=True)
class ServedModel:
    model_id: str
    model_file: str  # as Rasa reports it: the file's name


@dataclass(frozen=True)
class RasaServer:
    url: str
    jwt_secret: str

    def token(self) -> str:
        payload = {
            "user": {"username": "trainer", "role": "admin"},
            "exp": datetime.now(timezone.utc) + timedelta(minutes=10),
        }
        return jwt.encode(payload, self.jwt_secret, algorithm="HS256")

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 10) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url.rstrip('/')}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token()}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise RasaServerError(f"{method} {self.url}{path}: HTTP {error.code} {detail}") from error
        except (OSError, urllib.error.URLError) as error:
            raise RasaServerError(f"{method} {self.url}{path}: {error}") from error
        return json.loads(raw) if raw.strip() else None

    def status(self) -> ServedModel:
        status = self._request("GET", "/status")
        return ServedModel(model_id=str(status.get("model_id") or ""), model_file=str(status.get("model_file") or ""))

    def load_model(self, model: Path, timeout: float = 180) -> ServedModel:
        """PUT /model: Rasa loads the new model, then swaps it in; conversations stay in the tracker store."""
        self._request("PUT", "/model", {"model_file": str(model.resolve())}, timeout=timeout)
        return self.status()

    def parse(self, text: str) -> dict[str, Any]:
        return self._request("POST", "/model/parse", {"text": text})


def load_everywhere(servers: Sequence[RasaServer], model: Path, model_id: str | None, fallback: Path | None) -> None:
    """PUT /model on every server, each of which must then report `model_id` (when given). If one fails,
    the ones already switched go back to `fallback` (when given), and its RasaServerError is raised."""
    switched: list[RasaServer] = []
    for server in servers:
        try:
            served = server.load_model(model)
            if model_id and served.model_id != model_id:
                raise RasaServerError(f"{server.url} reports model id {served.model_id}, expected {model_id}")
            switched.append(server)
            log.info("%s now serves %s", server.url, model.name)
        except RasaServerError:
            for done in switched:
                if fallback is not None:
                    try:
                        done.load_model(fallback)
                    except RasaServerError:
                        log.exception("could not put %s back on %s", fallback.name, done.url)
            raise
