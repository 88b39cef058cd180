"""`python -m bot ...`: seed the demo shop, train, start Rasa and the action server, sign demo tokens."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from bot.settings import SettingsError, get_settings

log = logging.getLogger("bot")

# Argument parsing and dispatch only: what each command does lives in its own module, imported when it runs.


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    seed = commands.add_parser("seed", help="load the demo shop (bot/fixtures/shop.yml) into the database")
    seed.add_argument("--if-stale", action="store_true", help="only when empty or seeded on another day")
    seed.add_argument("--history", type=int, metavar="DAYS", help="and a generated history of DAYS days (insights)")
    seed.add_argument("--conversations", type=int, default=None, help="--history: how many (default 60 a day)")
    training = commands.add_parser("train", help="train a model when the training data changed")
    training.add_argument("--force", action="store_true")
    rasa = commands.add_parser("rasa", help="start the Rasa server (localhost only, JWT-protected API)")
    rasa.add_argument("--port", type=int, default=5005)
    actions = commands.add_parser("actions", help="start the action server (localhost only)")
    actions.add_argument("--port", type=int, default=5055)
    gateway = commands.add_parser("gateway", help="start the gateway: widget socket, demo page, health")
    gateway.add_argument("--port", type=int, default=None, help="default: BOT_GATEWAY_PORT (8000)")
    up = commands.add_parser("up", help="run the action server, Rasa and the gateway together until Ctrl-C")
    # Any of these starts the scaled stack (bot/scale/): PostgreSQL, Redis, RabbitMQ and HAProxy in front.
    up.add_argument("--rasa", type=int, default=0, help="Rasa servers (scaled stack)")
    up.add_argument("--gateways", type=int, default=0, help="gateways behind HAProxy (scaled stack)")
    up.add_argument("--actions", type=int, default=0, help="action servers (scaled stack)")
    up.add_argument("--redis", default=None, help="scaled stack: this Redis URL instead of one of its own")
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
        if args.history:
            from bot.store.history import generate_history

            def progress(done: int, total: int) -> None:
                print(f"history: {done}/{total} conversations", flush=True)

            counts = generate_history(days=args.history, conversations=args.conversations, progress=progress)
            log.info("generated a %d-day history: %s", args.history, counts)
    elif args.command == "train":
        from bot.training.project_model import train

        log.info("model: %s", train(force=args.force))
    elif args.command == "rasa":
        from bot.rasa_process import run_rasa

        run_rasa(args.port, extra)
    elif args.command == "actions":
        from bot.rasa_process import run_actions

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
    elif args.command == "up" and (args.rasa or args.gateways or args.actions):
        from bot.scale.command import run_scaled
        from bot.scale.stack import Size

        return run_scaled(Size(args.rasa or 1, args.gateways or 1, args.actions or 1), args.redis)
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
