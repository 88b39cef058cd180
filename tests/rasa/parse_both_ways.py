"""`python -m tests.rasa.parse_both_ways MODEL`: parse the held-out texts with the trained model through
Rasa's own DaskGraphRunner.run and through bot/graph_runner.py; print one JSON line with both parses of
each text. Run in its own process (tests/rasa/test_graph_runner_parses.py), so TensorFlow and the model
load there, not in the test run."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import skops.io  # noqa: F401  (before Rasa, as bot/rasa_main.py)
import yaml
from rasa.core.agent import Agent
from rasa.engine.runner.dask import DaskGraphRunner

from bot.graph_runner import run_in_order
from bot.settings import PROJECT_ROOT

TEXTS_PER_LANGUAGE = 60


def held_out_texts() -> list[str]:
    texts = []
    for path in sorted((PROJECT_ROOT / "tests" / "nlu").glob("*.yml")):
        lines = [
            line.strip()[2:]
            for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
            for line in block["examples"].splitlines()
            if line.strip().startswith("- ")
        ]
        texts += lines[:: max(1, len(lines) // TEXTS_PER_LANGUAGE)][:TEXTS_PER_LANGUAGE]
    return texts


def understood(parse: dict[str, Any]) -> dict[str, Any]:
    return {key: parse.get(key) for key in ("intent", "intent_ranking", "entities")}


async def parse_all(agent: Agent, texts: list[str]) -> list[dict[str, Any]]:
    return [understood(await agent.parse_message(text)) for text in texts]


def main(model: str) -> None:
    agent = Agent.load(model)
    texts = held_out_texts()
    rasas = DaskGraphRunner.run
    parses = asyncio.run(parse_all(agent, texts))
    DaskGraphRunner.run = run_in_order  # type: ignore[method-assign]
    ours = asyncio.run(parse_all(agent, texts))
    print(json.dumps({"texts": texts, "rasas": parses, "ours": ours}, default=str))
    DaskGraphRunner.run = rasas  # type: ignore[method-assign]


if __name__ == "__main__":
    main(str(Path(sys.argv[1])))
