"""Run several `rasa` commands in one Python process: `python -m bot.training.rasa_runner CMD_JSON...`.

Each argument is one Rasa command line as a JSON list, e.g. '["test", "nlu", "--nlu", "tests/nlu/nb.yml"]'.
Rasa's own CLI code runs each of them, exactly as `rasa ...` would, but the interpreter starts and
imports TensorFlow once instead of once per command. Between commands the runner prints marker
lines (`@@varde step N/M start|exit CODE`) that bot.training.rasa_jobs reads. The first command that
fails ends the run: scoring a model that failed to train, say, would only add noise to the log.

skops.io is imported before Rasa on purpose: on import it looks up each of its ~800 trusted type
names in every module in sys.modules, which takes about 10 s once Rasa and TensorFlow are loaded and
well under a second before. The Logistic Regression classifier imports it to save and load itself.

Rasa's training cache names the output of an NLU step by its key instead of hashing its content
(bot/training/output_fingerprints.py): 9 of the 46 s of a trainer's fine-tuning.

`python -m bot.training.rasa_runner --wait` is a warm runner: it imports Rasa and TensorFlow first,
prints a ready line, then reads its commands from standard input (one line: a JSON list of command
lists). bot.training.rasa_jobs keeps one ready for the trainers' next job, which then skips those
5-10 s of imports; each runner still does one job only, so no state is carried from job to job.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence

STEP_MARKER = "@@varde step"
READY_MARKER = "@@varde ready"


# What `rasa train` and `rasa test` import anyway, in this order (skops first, see above).
PRELOAD = (
    "skops.io",
    "rasa.__main__",
    "rasa.model_training",
    "rasa.model_testing",
    "rasa.core.policies.ted_policy",  # TensorFlow
    "rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer",
    "bot.nlu.classifier",
)


def preload() -> None:
    for module in PRELOAD:
        importlib.import_module(module)
    from bot.language import warm_up

    warm_up()  # the MiniLM featurizer checks each new example's language: lingua's models, loaded ahead


def wait_for_commands() -> int:
    preload()
    print(READY_MARKER, flush=True)
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # the parent went away (or let this spare go) without a job
    commands = json.loads(line)
    if not _valid(commands):
        print("the job must be a JSON list of command lists", file=sys.stderr)
        return 2
    return run_commands(commands)


def _valid(commands: object) -> bool:
    return isinstance(commands, list) and all(
        isinstance(c, list) and all(isinstance(part, str) for part in c) for c in commands
    )


def run_commands(commands: Sequence[Sequence[str]]) -> int:
    import skops.io  # noqa: F401  (see the module docstring: import order saves ~10 s)
    from rasa.__main__ import main as rasa_main

    from bot.training import output_fingerprints

    output_fingerprints.install()

    for number, command in enumerate(commands, start=1):
        print(f"{STEP_MARKER} {number}/{len(commands)} start {json.dumps(list(command))}", flush=True)
        sys.argv = ["rasa", *command]
        try:
            rasa_main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except Exception as error:  # one failed command must not hide the results of the others
            print(f"{type(error).__name__}: {error}", file=sys.stderr, flush=True)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        print(f"{STEP_MARKER} {number}/{len(commands)} exit {code}", flush=True)
        if code != 0:
            return code
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments == ["--wait"]:
        return wait_for_commands()
    if not arguments:
        print(__doc__, file=sys.stderr)
        return 2
    commands = [json.loads(argument) for argument in arguments]
    if not _valid(commands):
        print("every argument must be a JSON list of strings", file=sys.stderr)
        return 2
    return run_commands(commands)


if __name__ == "__main__":
    sys.exit(main())
