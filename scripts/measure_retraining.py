"""Measure how long a retrain takes: from scratch, after one new NLU example, and the alternatives.

    .venv/bin/python scripts/measure_retraining.py [--rounds 2]

Each round works in a fresh copy of the project's training files with a cache of its own, and times:
  scratch       empty cache: `rasa train` through bot.training.rasa_runner (what the lifecycle runs)
  unchanged     nothing changed: every component comes from the cache
  one example   one new NLU example (what a trainer adds): NLU trains again, policies from the cache
  plain rasa    the same change, by plain `python -m rasa train` (imports skops.io late: ~10 s slower)
  finetune      another new example, `rasa train --finetune <previous>`: what the lifecycle runs (its
                classifier starts from the previous model's coefficients), in a new process
  finetune warm another new example, fine-tuned in a runner started ahead (bot/training/warm_runner.py),
                as the trainers' page keeps one: timed from handing it the job
  scratch warm  from scratch (a new, empty cache) in a runner started ahead: what the warm runner
                saves on any training
  score 1 proc  rasa test nlu nb + en and rasa test core --e2e in one process (what the lifecycle runs)
  score 3 procs the same three commands as three `python -m rasa test` processes
The repository's own data/ is never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.training.nlu_files import add_example  # noqa: E402
from bot.training.rasa_runner import READY_MARKER  # noqa: E402
from bot.training.workspace import TRAINING_FILES, Workspace  # noqa: E402


def copy_project(target: Path) -> Workspace:
    for name in TRAINING_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return Workspace(root=target, models_dir=target / "models", cache_dir=target / "cache", rasa_urls=())


CPU_SECONDS: dict[str, float] = {}  # wall-clock time suffers when others use the 2 cores; CPU time less so


def timed(command: list[str], workspace: Workspace, log: Path, key: str = "") -> float:
    started, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("a") as output:
        subprocess.run(command, cwd=workspace.root, env=workspace.rasa_env(), stdout=output, stderr=output, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS[key] = CPU_SECONDS.get(key, 0) + after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    return time.monotonic() - started


def timed_warm(command: list[str], workspace: Workspace, log: Path, key: str) -> float:
    """The command in a runner that was started ahead and has imported everything; timed from the job."""
    runner_process = subprocess.Popen(
        runner(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=workspace.root, env=workspace.rasa_env(),
    )  # fmt: skip
    assert runner_process.stdin is not None and runner_process.stdout is not None
    for line in runner_process.stdout:
        if line.startswith(READY_MARKER):
            break
    cpu_before = _process_cpu(runner_process.pid)
    started = time.monotonic()
    runner_process.stdin.write(json.dumps([command]) + "\n")
    runner_process.stdin.close()
    cpu_after = cpu_before
    with log.open("a") as output:
        for line in runner_process.stdout:
            output.write(line)
            cpu_after = _process_cpu(runner_process.pid) or cpu_after
    runner_process.wait()
    seconds = time.monotonic() - started
    if runner_process.returncode != 0:
        raise SystemExit(f"{key} failed: see {log}")
    CPU_SECONDS[key] = CPU_SECONDS.get(key, 0) + max(0.0, cpu_after - cpu_before)
    return seconds


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc); 0 once it has ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def train_args(workspace: Workspace, name: str) -> list[str]:
    return ["train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data", "--out", "models",
            "--fixed-model-name", name]  # fmt: skip


def runner(*commands: list[str]) -> list[str]:
    """The lifecycle's runner: with commands, a new process; without, a runner that waits for its job."""
    return [sys.executable, "-m", "bot.training.rasa_runner", *(json.dumps(c) for c in commands or ())] + (
        [] if commands else ["--wait"]
    )


def one_round(number: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="varde-measure-") as folder:
        workspace = copy_project(Path(folder))
        log = Path(folder) / "measure.log"
        times = {}
        times["scratch"] = timed(runner(train_args(workspace, "scratch")), workspace, log, "scratch")
        times["unchanged"] = timed(runner(train_args(workspace, "unchanged")), workspace, log, "unchanged")
        add_example("order_status", "nb", f"hvor i all verden har pakken min tatt veien {number}", workspace)
        times["one example"] = timed(runner(train_args(workspace, "one")), workspace, log, "one example")
        add_example("order_status", "en", f"where on earth has my parcel gone {number}", workspace)
        plain = [sys.executable, "-m", "rasa", *train_args(workspace, "plain")]
        times["plain rasa"] = timed(plain, workspace, log, "plain rasa")
        add_example("faq_shipping", "en", f"how quickly do parcels reach tromsø {number}", workspace)
        finetune = [*train_args(workspace, "finetuned"), "--finetune", "models/plain.tar.gz"]
        times["finetune"] = timed(runner(finetune), workspace, log, "finetune")
        add_example("faq_shipping", "nb", f"hvor lang tid tar frakten til kirkenes {number}", workspace)
        warm = [*train_args(workspace, "finetuned-warm"), "--finetune", "models/finetuned.tar.gz"]
        times["finetune warm"] = timed_warm(warm, workspace, log, "finetune warm")
        fresh_cache = replace(workspace, cache_dir=Path(folder) / "cache-2")
        times["scratch warm"] = timed_warm(train_args(workspace, "scratch-warm"), fresh_cache, log, "scratch warm")
        model = "models/one.tar.gz"
        tests = [
            ["test", "nlu", "--nlu", "tests/nlu/nb.yml", "--model", model, "--out", "r/nb", "--no-plot"],
            ["test", "nlu", "--nlu", "tests/nlu/en.yml", "--model", model, "--out", "r/en", "--no-plot"],
        ]
        if workspace.stories_file.exists():
            tests.append(["test", "core", "--e2e", "--stories", "tests/test_stories.yml", "--model", model,
                          "--out", "r/core", "--no-plot"])  # fmt: skip
        times["score 1 proc"] = timed(runner(*tests), workspace, log, "score 1 proc")
        times["score 3 procs"] = sum(
            timed([sys.executable, "-m", "rasa", *t], workspace, log, "score 3 procs") for t in tests
        )
        return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rounds = []
    for number in range(1, args.rounds + 1):
        rounds.append(one_round(number))
        print(f"round {number}: " + ", ".join(f"{k} {v:.1f} s" for k, v in rounds[-1].items()), flush=True)
    print("\nmedian over rounds (seconds): wall clock, and CPU time of the Rasa processes (mean)")
    for key in rounds[0]:
        wall = statistics.median(r[key] for r in rounds)
        print(f"  {key:14s} {wall:6.1f} {CPU_SECONDS[key] / len(rounds):6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
