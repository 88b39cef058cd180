"""The benchmark's quick mode still works end to end: every section has figures, and nothing was lost.

A benchmark, not a test of speed: no timing is asserted (issue 6). It starts its own action server, Rasa
and gateway on free ports with a temporary database, like `python -m bot bench --quick` does for anyone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.i18n import SUPPORTED_LANGUAGES
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.bench

SECTIONS = (
    "machine",
    "startup",
    "sequential",
    "concurrent",
    "conversation_length",
    "stored_conversations",
    "memory",
    "nlu",
    "training",
    "delivery",
)


@pytest.fixture(scope="module")
def quick_results(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict, str]:
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    command = [sys.executable, "-m", "bot", "bench", "--quick", "--out", str(out)]
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    return result.returncode, json.loads(out.read_text()), result.stdout[-4000:] + result.stderr[-4000:]


def test_quick_run_succeeds_with_every_section(quick_results: tuple[int, dict, str]) -> None:
    code, results, output = quick_results
    assert code == 0, output
    assert results["failed_sections"] == [], output
    for section in SECTIONS:
        assert section in results, f"{section} missing"
        assert "error" not in results[section], results[section]
    for path in ("stock", "rest", "channel", "gateway"):  # stock: Rasa as shipped, the baseline
        assert results["sequential"][path]["latency"]["n"] > 0
    for customers in ("1", "10", "50"):
        for path in ("stock", "rest", "gateway"):
            assert results["concurrent"][customers][path]["throughput_msg_s"] > 0
    assert set(results["nlu"]["languages"]) == set(SUPPORTED_LANGUAGES)
    added = results["training"]["add_example_to_live"]
    assert added["total_seconds"] > 0
    assert added["finetuned_from"] is not None, added  # a trainer's retrain fine-tunes the served model
    for part in ("actions", "rasa", "gateway"):
        assert results["startup"]["seconds_to_ready"][part] > 0
        assert results["memory"]["at_end"][part]["rss_mib"] > 0


def test_nothing_lost_duplicated_or_out_of_order(quick_results: tuple[int, dict, str]) -> None:
    _, results, _ = quick_results
    delivery = results["delivery"]
    assert delivery["sent"] > 0
    assert (delivery["lost"], delivery["duplicated"], delivery["out_of_order"]) == (0, 0, 0), delivery["problems"]
    assert delivery["clean"] is True
