"""The training process kept ready: a job runs in it, without the imports, and it never serves twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.settings import get_settings
from bot.training import warm_runner
from bot.training.progress import Progress
from bot.training.rasa_jobs import Step, run_steps
from bot.training.workspace import Workspace

VERSION = Step("version", ("--version",), "asking Rasa for its version")


@pytest.fixture
def workspace(data_copy: Workspace) -> Iterator[Workspace]:
    warm_runner.discard()
    yield data_copy
    warm_runner.discard()


def test_a_job_runs_in_the_runner_kept_ready_and_the_next_one_is_prepared(workspace: Workspace) -> None:
    warm_runner.prepare(workspace)
    assert warm_runner.wait_ready(workspace, timeout=120), "the runner never finished its imports"
    kept = warm_runner._ready
    assert kept is not None

    log_file = workspace.root / "job.log"
    results = run_steps([VERSION], workspace, log_file, Progress(None), "train")

    assert results["version"].exit_code == 0
    log = log_file.read_text(encoding="utf-8")
    assert f"runner kept ready (pid {kept[1].pid})" in log
    assert "3.6.21" in log  # Rasa's own answer, from the runner
    assert kept[1].poll() == 0, "a runner does one job and ends"
    # The next job's runner is on its way, and it is another process.
    following = warm_runner._ready
    assert following is not None and following[1].pid != kept[1].pid and following[1].poll() is None


def test_without_a_runner_ready_a_new_one_starts(workspace: Workspace) -> None:
    other = replace(workspace, root=workspace.root / "data")  # another workspace's runner doesn't fit
    warm_runner.prepare(other)
    log_file = workspace.root / "job.log"

    results = run_steps([VERSION], workspace, log_file, Progress(None), "train")

    assert results["version"].exit_code == 0
    assert "runner started now" in log_file.read_text(encoding="utf-8")


def test_turned_off_no_runner_waits(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TRAINING_WARM_RUNNER", "0")
    get_settings.cache_clear()
    try:
        warm_runner.prepare(workspace)
        assert warm_runner._ready is None
    finally:
        monkeypatch.delenv("BOT_TRAINING_WARM_RUNNER")
        get_settings.cache_clear()


def test_a_bad_job_line_is_refused_without_running_anything(tmp_path: Path, workspace: Workspace) -> None:
    runner, _ = warm_runner.take(workspace)
    assert runner.stdin is not None and runner.stdout is not None
    runner.stdin.write('{"not": "a list"}\n')
    runner.stdin.close()
    output = runner.stdout.read()
    assert runner.wait(timeout=120) == 2
    assert "must be a JSON list of command lists" in output
