"""Run Rasa commands (train, test nlu, test core) in one child process and follow their progress.

The child is bot.training.rasa_runner: one interpreter for all steps, so TensorFlow loads once, and
when one was kept ready (bot/training/warm_runner.py) it has loaded already. Its whole output goes to a
log file beside the model; the lines that say how far it got become progress.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.training import warm_runner
from bot.training.progress import Progress
from bot.training.rasa_runner import STEP_MARKER
from bot.training.workspace import Workspace

_MARKER = re.compile(rf"^{re.escape(STEP_MARKER)} (\d+)/(\d+) (start|exit)(?: (-?\d+))?")
# Rasa's training hooks (rasa.engine.training.hooks) log one of these per trainable component.
_COMPONENT = re.compile(r"(Finished training|Restored) component '([^']+)'")
# What Rasa says before the first component trains (10-20 s of loading and checking), as progress.
_PREPARING = {
    "Started validating domain and training data": "checking the domain and the training data",
    "No story structure conflicts found": "training data checked; preparing the training graph",
}
# Components that train nothing, so Rasa logs nothing for them.
_UNTRAINED = re.compile(r"Tokenizer$|^FallbackClassifier$")


@dataclass(frozen=True)
class Step:
    label: str  # e.g. "train", "nlu:nb", "core"
    command: tuple[str, ...]  # the rasa command line, without "rasa"
    description: str  # for people: "training", "testing nb intents"
    weight: float = 1.0  # share of the job's progress bar


@dataclass(frozen=True)
class StepResult:
    label: str
    exit_code: int
    seconds: float  # the first step includes starting Python and importing Rasa: a real cost of it


class RasaJobFailed(RuntimeError):
    def __init__(self, message: str, log_file: Path) -> None:
        super().__init__(f"{message} (log: {log_file})")
        self.log_file = log_file


def trainable_components(config_file: Path) -> int:
    """How many 'Finished/Restored component' lines a training prints, for its progress bar."""
    from ruamel.yaml import YAML

    config = YAML(typ="safe").load(config_file.read_text(encoding="utf-8")) or {}
    names = [str(entry.get("name", "")).rsplit(".", 1)[-1] for entry in config.get("pipeline") or []]
    names += [str(entry.get("name", "")) for entry in config.get("policies") or []]
    return max(1, sum(1 for name in names if not _UNTRAINED.search(name)))


def run_steps(
    steps: Sequence[Step], workspace: Workspace, log_file: Path, progress: Progress, stage: str
) -> dict[str, StepResult]:
    """Run the steps in order in one child, which stops at the first failed step: the results hold the
    steps that ran (a failed one with its exit code), so a missing label means it never ran."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    total_weight = sum(step.weight for step in steps) or 1.0
    components = trainable_components(workspace.config_file)
    results: dict[str, StepResult] = {}
    done_weight, current, components_done = 0.0, -1, 0
    started = step_started = time.monotonic()

    def fraction(inside: float) -> float:
        weight = steps[current].weight if current >= 0 else 0.0
        return (done_weight + weight * min(inside, 0.99)) / total_weight

    child, warm = warm_runner.take(workspace)
    with log_file.open("a", encoding="utf-8") as log, child:
        assert child.stdin is not None and child.stdout is not None
        log.write(f"[varde] runner {'kept ready' if warm else 'started now'} (pid {child.pid})\n")
        try:
            child.stdin.write(json.dumps([list(step.command) for step in steps]) + "\n")
            child.stdin.close()
        except BrokenPipeError:
            pass  # it died while waiting: its exit code below says so
        for line in child.stdout:
            log.write(line)
            marker = _MARKER.match(line)
            if marker and marker.group(3) == "start":
                current = int(marker.group(1)) - 1
                step_started = started if current == 0 else time.monotonic()
                components_done = 0
                progress.report(stage, fraction(0), f"{steps[current].description}...")
            elif marker and marker.group(3) == "exit":
                step = steps[int(marker.group(1)) - 1]
                code = int(marker.group(4) or 0)
                results[step.label] = StepResult(step.label, code, round(time.monotonic() - step_started, 1))
                done_weight += step.weight
                outcome = "done" if code == 0 else f"failed with exit code {code}"
                progress.report(stage, done_weight / total_weight, f"{step.description}: {outcome}")
            elif (
                current >= 0
                and steps[current].label == "train"
                and (message := next((m for key, m in _PREPARING.items() if key in line), None))
            ):
                progress.report(stage, fraction(0.02), message)
            elif current >= 0 and steps[current].label == "train" and (found := _COMPONENT.search(line)):
                components_done += 1
                verb = "trained" if found.group(1).startswith("Finished") else "reused from cache"
                progress.report(stage, fraction(components_done / components), f"{found.group(2)} {verb}")
        child.wait()
    warm_runner.prepare(workspace)  # for the next job, now that this one no longer needs the cores
    if child.returncode != 0 and all(result.exit_code == 0 for result in results.values()):
        # The child died outside any step's own error handling (killed, out of memory).
        raise RasaJobFailed(f"Rasa's process ended with exit code {child.returncode}", log_file)
    return results


def check_steps(steps: Sequence[Step], results: dict[str, StepResult], log_file: Path) -> None:
    """Raise RasaJobFailed, with the log's end, unless every step ran and succeeded."""
    for step in steps:
        result = results.get(step.label)
        if result is None or result.exit_code != 0:
            outcome = "did not run" if result is None else f"failed with exit code {result.exit_code}"
            raise RasaJobFailed(f"{step.description} {outcome}:\n{log_tail(log_file)}", log_file)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PROBLEM = re.compile(r"error|exception|traceback|invalid|not listed|failed|can't|cannot", re.IGNORECASE)
_NOISE = re.compile(r"it/s|Processed |is not used in any story or rule|Deprecat|declare_namespace")


def log_tail(log_file: Path, lines: int = 20) -> str:
    """What went wrong, from a job's log: its problem lines and its last lines, without progress bars,
    colour codes and Rasa's routine warnings (unused responses)."""
    text = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    useful = [_ANSI.sub("", line).strip() for line in text.splitlines()]
    useful = [line for line in useful if line and not _NOISE.search(line)]
    problems = [line for line in useful if _PROBLEM.search(line)][-lines:]
    last = [line for line in useful[-5:] if line not in problems]
    return "\n".join(problems + last)
