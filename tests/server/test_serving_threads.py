"""A Rasa server runs TensorFlow on one thread (bot/rasa_process.py, SERVING_THREADS); training keeps
every core, and an operator's value wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rasa_process import SERVING_THREADS, rasa_environment, serving_environment
from bot.settings import get_settings
from tests.support import RasaStack

pytestmark = pytest.mark.server


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").partition("=")[::2] for item in raw if b"=" in item)


def test_the_running_rasa_server_has_tensorflow_on_one_thread(rasa_stack: RasaStack) -> None:
    env = environment_of(rasa_stack.processes["rasa"].pid)
    assert env["TF_INTER_OP_PARALLELISM_THREADS"] == "1"
    assert env["TF_INTRA_OP_PARALLELISM_THREADS"] == "1"
    assert env["OMP_NUM_THREADS"] == "1"


def test_training_keeps_tensorflow_defaults_and_an_operator_value_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SERVING_THREADS:
        monkeypatch.delenv(name, raising=False)
    training = rasa_environment(get_settings())
    assert not set(SERVING_THREADS) & set(training)
    monkeypatch.setenv("TF_INTRA_OP_PARALLELISM_THREADS", "2")
    serving = serving_environment(get_settings())
    assert serving["TF_INTRA_OP_PARALLELISM_THREADS"] == "2"
    assert serving["TF_INTER_OP_PARALLELISM_THREADS"] == "1"
