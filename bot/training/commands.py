"""`python -m bot nlu ...` and `python -m bot models ...`: the trainer's workflow on the command line.

nlu add --intent order_status --language nb "hvor er pakka mi nå"
models train [--by NAME] [--deploy]    train a candidate and score it; --deploy: then deploy it
models evaluate ID                      score a model again (and the live one, if its scores are stale)
models deploy ID                        put it live if it is not worse than the live model
models list [--json]                    the history: scores, who trained, status
models rollback ID                      put an earlier live model back

Progress shows in the log lines of bot.training: stage, percent and what happens.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any


def add_commands(commands: Any) -> None:
    """Add the `nlu` and `models` subcommands to bot.cli's parser."""
    nlu = commands.add_parser("nlu", help="NLU training examples in data/nlu/")
    nlu_commands = nlu.add_subparsers(dest="nlu_command", required=True)
    add = nlu_commands.add_parser("add", help="add one example to the intent's file, as one new line")
    add.add_argument("--intent", required=True)
    add.add_argument("--language", required=True)
    add.add_argument("text")

    models = commands.add_parser("models", help="train, score, deploy and roll back models")
    model_commands = models.add_subparsers(dest="models_command", required=True)
    train = model_commands.add_parser("train", help="train a candidate model and score it")
    train.add_argument("--by", default=None, help="who trains it (default: the login name)")
    train.add_argument("--deploy", action="store_true", help="then put it live if it is not worse")
    for name, text in (
        ("evaluate", "score a model on the held-out NLU set and the conversation tests"),
        ("deploy", "put a model live if it is not worse than the live one"),
        ("rollback", "put an earlier live model back"),
    ):
        command = model_commands.add_parser(name, help=text)
        command.add_argument("id", type=int)
    listing = model_commands.add_parser("list", help="every model with its scores and status")
    listing.add_argument("--json", action="store_true")


def _scores(record: Any) -> str:
    nlu = record.nlu_scores or {}
    parts = [f"{lang} F1 {s['macro_f1']:.3f} acc {s['accuracy']:.3f}" for lang, s in sorted(nlu.items())]
    if record.conversations_passed is not None:
        parts.append(
            f"stories {record.conversations_passed}/{record.conversations_passed + record.conversations_failed}"
        )
    return ", ".join(parts) or "not scored"


def _print_record(record: Any) -> None:
    seconds = f"{record.training_seconds:.0f} s" if record.training_seconds is not None else "-"
    print(f"model {record.id} [{record.status}] {record.name}  by {record.trained_by}, trained in {seconds}")
    print(f"  {_scores(record)}")
    for note in (record.notes or "").splitlines():
        print(f"  note: {note}")


def run(args: argparse.Namespace) -> int:
    from bot.training.history import describe
    from bot.training.lifecycle import Lifecycle, LifecycleError
    from bot.training.nlu_files import ExampleRejected, add_example
    from bot.training.teaching import training_workspace

    workspace = training_workspace()  # the project, or BOT_TRAINING_ROOT: as the trainer pages and the inbox
    lifecycle = Lifecycle(workspace)  # progress shows in bot.training's log lines
    try:
        if args.command == "nlu":
            added = add_example(args.intent, args.language, args.text, workspace)
            print(f"added to {added.path}:{added.line_number}: - {added.text}")
            return 0
        command = args.models_command
        if command == "list":
            records = lifecycle.list_models()
            if args.json:
                print(json.dumps([describe(r) for r in records], indent=2))
            elif not records:
                print("No models in the history yet: `python -m bot models train` makes the first candidate.")
            for record in [] if args.json else records:
                _print_record(record)
            return 0
        if command == "train":
            by = args.by or getpass.getuser()
            if args.deploy:
                return _report_deploy(lifecycle.retrain(by))
            _print_record(lifecycle.train_candidate(by))
            return 0
        if command == "evaluate":
            _print_record(lifecycle.evaluate_model(args.id))
            return 0
        if command == "deploy":
            return _report_deploy(lifecycle.deploy(args.id))
        if command == "rollback":
            _print_record(lifecycle.rollback(args.id))
            return 0
    except (ExampleRejected, LifecycleError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    raise AssertionError(f"unhandled command {args}")


def _report_deploy(outcome: Any) -> int:
    _print_record(outcome.record)
    print(("live: " if outcome.deployed else "not deployed: ") + outcome.verdict.summary())
    return 0 if outcome.deployed or outcome.verdict.accepted else 3
