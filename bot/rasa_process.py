"""Rasa's processes as Varde starts them: their environment, the Rasa server and the action server.

`python -m bot rasa` and `python -m bot actions` end here (the process becomes Rasa's); training,
tests and the benchmark take the same environment for every Rasa process they start.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from bot.settings import PROJECT_ROOT, Settings, get_settings


def rasa_environment(settings: Settings) -> dict[str, str]:
    """The environment endpoints.yml reads (${...}) plus our own settings, for Rasa's processes."""
    env = dict(os.environ)
    env.update(
        BOT_TRACKER_DATABASE_URL=settings.tracker_database_url,
        BOT_ACTION_SERVER_WEBHOOK=f"{settings.action_server_url}/webhook",
        BOT_DATABASE_URL=settings.database_url,
        PYTHONPATH=str(PROJECT_ROOT),
        TF_CPP_MIN_LOG_LEVEL="2",
        # The sentence encoder on one core: on every core a busy machine stalled one message for up to 1.5 s
        # (bot/nlu/sentence_encoder.py).
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
        # Rasa's own tracker store uses SQLAlchemy 1.x APIs; its 2.0 notice is not ours to act on.
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


# A Rasa server answers one message at a time on its event loop; TensorFlow's default pools (a thread per
# core for each op, and for ops side by side) only make the policy's small per-message graphs wait for
# threads the other Rasa servers' work holds: with two Rasa servers on a 2-core machine, 44 ms of Rasa CPU
# per answered message and 24.6 msg/s, against 35 ms and 31.0 msg/s with one thread each (bot bench
# --scale, bench/results/scale-6-december-amd-*.md). Training keeps every core. An operator's value wins.
SERVING_THREADS = {"TF_INTER_OP_PARALLELISM_THREADS": "1", "TF_INTRA_OP_PARALLELISM_THREADS": "1"}


def with_serving_threads(env: dict[str, str]) -> dict[str, str]:
    """`env` for a Rasa server: TensorFlow on one thread (SERVING_THREADS), unless `env` says otherwise."""
    return {**SERVING_THREADS, **env}


def serving_environment(settings: Settings) -> dict[str, str]:
    """rasa_environment for a Rasa server."""
    return with_serving_threads(rasa_environment(settings))


def run_rasa(port: int, extra: Sequence[str]) -> None:
    """Become the Rasa server (localhost only, JWT-protected API) with the model it should serve."""
    settings = get_settings()
    settings.check_production()
    from bot.training.history import serving_model
    from bot.training.model_files import latest_model

    # The live model of the models' history (it survives a restart), unless `train` made a newer one.
    model = serving_model(latest_model())
    if model is None:
        raise SystemExit("No model in models/: run `python -m bot train` first.")
    command = [
        sys.executable, "-m", "bot.rasa_main", "run", "--model", str(model), "--port", str(port),
        "--interface", "127.0.0.1", "--enable-api", "--jwt-secret", settings.rasa_jwt_secret,
        "--jwt-method", "HS256", "--cors", "[]", *extra,
    ]  # fmt: skip
    os.execvpe(command[0], command, serving_environment(settings))


def run_actions(port: int) -> None:
    """Become the action server (localhost only)."""
    settings = get_settings()
    settings.check_production()
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    env = rasa_environment(settings)
    env["SANIC_HOST"] = "127.0.0.1"  # rasa_sdk has no --interface flag; localhost only
    os.execvpe(command[0], command, env)
