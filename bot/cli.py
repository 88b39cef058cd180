"""`python -m bot ...`: seed the demo shop, train, start Rasa and the action server, sign demo tokens."""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings, SettingsError, get_settings

log = logging.getLogger("bot")

# Everything a trained model depends on; a change in any of these means a new model.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "bot/nlu")  # bot/nlu: our own NLU components
FINGERPRINT_FILE = PROJECT_ROOT / "models" / ".fingerprint"


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


def training_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = PROJECT_ROOT / name
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if path.is_dir()
            else [path]
        )
        for file in files:
            digest.update(str(file.relative_to(PROJECT_ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def latest_model() -> Path | None:
    models = sorted((PROJECT_ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def train(force: bool = False) -> Path:
    """Train when the data changed since the last model (or when forced); return the model."""
    fingerprint = training_fingerprint()
    model = latest_model()
    if not force and model and FINGERPRINT_FILE.exists() and FINGERPRINT_FILE.read_text() == fingerprint:
        log.info("model %s is up to date with the training data", model.name)
        return model
    log.info("training a new model (this shows Rasa's progress)...")
    command = [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "varde", "--out", "models"]
    subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_environment(get_settings()), check=True)
    FINGERPRINT_FILE.write_text(fingerprint)
    model = latest_model()
    assert model is not None
    return model


def run_rasa(port: int, extra: Sequence[str]) -> None:
    settings = get_settings()
    settings.check_production()
    from bot.training.lifecycle import serving_model

    # The live model of the models' history (it survives a restart), unless `train` made a newer one.
    model = serving_model(latest_model())
    if model is None:
        raise SystemExit("No model in models/: run `python -m bot train` first.")
    command = [
        sys.executable, "-m", "bot.rasa_main", "run", "--model", str(model), "--port", str(port),
        "--interface", "127.0.0.1", "--enable-api", "--jwt-secret", settings.rasa_jwt_secret,
        "--jwt-method", "HS256", "--cors", "[]", *extra,
    ]  # fmt: skip
    os.execvpe(command[0], command, rasa_environment(settings))


def run_actions(port: int) -> None:
    settings = get_settings()
    settings.check_production()
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
    env = rasa_environment(settings)
    env["SANIC_HOST"] = "127.0.0.1"  # rasa_sdk has no --interface flag; localhost only
    os.execvpe(command[0], command, env)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed", help="load the demo shop (bot/fixtures/shop.yml) into the database")
    seed.add_argument("--if-stale", action="store_true", help="only when empty or seeded on another day")
    training = commands.add_parser("train", help="train a model when the training data changed")
    training.add_argument("--force", action="store_true")
    rasa = commands.add_parser("rasa", help="start the Rasa server (localhost only, JWT-protected API)")
    rasa.add_argument("--port", type=int, default=5005)
    actions = commands.add_parser("actions", help="start the action server (localhost only)")
    actions.add_argument("--port", type=int, default=5055)
    gateway = commands.add_parser("gateway", help="start the gateway: widget socket, demo page, health")
    gateway.add_argument("--port", type=int, default=None, help="default: BOT_GATEWAY_PORT (8000)")
    commands.add_parser("up", help="run the action server, Rasa and the gateway together until Ctrl-C")
    # bench/ parses its own options (--quick, ...): nothing of it is imported unless it runs.
    commands.add_parser("bench", help="benchmark the real service on ports of its own (bench/)", add_help=False)
    commands.add_parser(
        "nlu-bench", help="the NLU pipeline beside a TF-IDF baseline on public and own sets", add_help=False
    )
    token = commands.add_parser("token", help="sign a demo customer token (development only)")
    token.add_argument("customer_id")
    token.add_argument("--ttl", type=int, default=3600)
    from bot.training.commands import add_commands as add_training_commands

    add_training_commands(commands)
    from bot.training.inbox_commands import add_commands as add_inbox_commands

    add_inbox_commands(commands)
    from bot.console.staff_commands import add_commands as add_staff_commands

    add_staff_commands(commands)
    from bot.privacy_commands import add_commands as add_privacy_commands

    add_privacy_commands(commands)
    from bot.store.migrate import add_commands as add_db_commands

    add_db_commands(commands)
    args, extra = parser.parse_known_args(argv)
    try:
        return _run(args, extra)
    except SettingsError as refused:
        log.error("%s", refused)  # a setting an operator must fix: their words, not a traceback
        return 2


def _run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    if args.command == "seed":
        from bot.store.seed import ensure_seeded, seed_demo

        if args.if_stale:
            log.info("demo database %s", "seeded" if ensure_seeded() else "already seeded today")
        else:
            log.info("seeded the demo shop: %s", seed_demo())
    elif args.command == "train":
        log.info("model: %s", train(force=args.force))
    elif args.command == "rasa":
        run_rasa(args.port, extra)
    elif args.command == "actions":
        run_actions(args.port)
    elif args.command == "gateway":
        get_settings().check_production()
        from bot.gateway.app import run

        run(args.port)
    elif args.command in ("nlu", "models"):
        from bot.training.commands import run as run_training_command

        return run_training_command(args)
    elif args.command == "db":
        from bot.store.migrate import run as run_db_command

        return run_db_command(args)
    elif args.command == "privacy":
        from bot.privacy_commands import run as run_privacy_command

        return run_privacy_command(args)
    elif args.command == "staff":
        from bot.console.staff_commands import run as run_staff_command

        return run_staff_command(args)
    elif args.command == "inbox":
        from bot.training.inbox_commands import run as run_inbox_command

        return run_inbox_command(args)
    elif args.command == "bench":
        from bench.cli import main as bench_main

        return bench_main(extra, prog="python -m bot bench")
    elif args.command == "nlu-bench":
        from bench.nlu import main as nlu_bench_main

        return nlu_bench_main(extra)
    elif args.command == "up":
        from bot.supervisor import run_all

        return run_all()
    elif args.command == "token":
        settings = get_settings()
        if settings.is_production:
            raise SystemExit("Demo tokens are signed by the shop's own site in production.")
        from bot.identity import sign_customer_token

        print(sign_customer_token(args.customer_id, args.ttl))
    return 0
