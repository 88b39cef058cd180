"""Run several `rasa` commands in one Python process: `python -m bot.training.rasa_runner CMD_JSON...`.

Each argument is one Rasa command line as a JSON list, e.g. '["test", "nlu", "--nlu", "tests/nlu/nb.yml"]'.
Rasa's own CLI code runs each of them, exactly as `rasa ...` would, but the interpreter starts and
imports TensorFlow once instead of once per command. Between commands the runner prints marker
lines (`@@varde step N/M start|exit CODE`) that bot.training.rasa_jobs reads. The first command that
fails ends the run: scoring a model that failed to train, say, would only add noise to the log.

skops.io is imported before Rasa on purpose: on import it looks up each of its ~800 trusted type
names in every module in sys.modules, which takes about 10 s once Rasa and TensorFlow are loaded and
well under a second before. The Logistic Regression classifier imports it to save and load itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

STEP_MARKER = "@@varde step"


def run_commands(commands: Sequence[Sequence[str]]) -> int:
    import skops.io  # noqa: F401  (see the module docstring: import order saves ~10 s)
    from rasa.__main__ import main as rasa_main

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
    if not arguments:
        print(__doc__, file=sys.stderr)
        return 2
    commands = [json.loads(argument) for argument in arguments]
    if not all(isinstance(c, list) and all(isinstance(part, str) for part in c) for c in commands):
        print("every argument must be a JSON list of strings", file=sys.stderr)
        return 2
    return run_commands(commands)


if __name__ == "__main__":
    sys.exit(main())
