"""Training data a step made is named by the step's key in Rasa's cache; the raw data keeps its content
hash (bot/training/output_fingerprints.py)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.engine.training.components import PrecomputedValueProvider
from rasa.engine.training.hooks import TrainingHook
from rasa.graph_components.providers.nlu_training_data_provider import NLUTrainingDataProvider
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.training import output_fingerprints


@pytest.fixture
def installed() -> Iterator[None]:
    hook, fingerprint = TrainingHook.on_after_node, TrainingData.fingerprint
    output_fingerprints.install()
    try:
        yield
    finally:
        TrainingHook.on_after_node, TrainingData.fingerprint = hook, fingerprint


def data() -> TrainingData:
    return TrainingData([Message.build("hvor er pakka mi", intent="order_status")])


class Cache:
    def __init__(self) -> None:
        self.outputs: dict[str, str] = {}

    def cache_output(self, fingerprint_key: str, output: Any, output_fingerprint: str, model_storage: Any) -> None:
        self.outputs[fingerprint_key] = output_fingerprint


def hook_for(node_class: type, cache: Cache) -> TrainingHook:
    schema = SimpleNamespace(nodes={"node": SimpleNamespace(uses=node_class)})
    return TrainingHook(cache=cache, model_storage=None, pruned_schema=schema)  # type: ignore[arg-type]


def test_a_steps_training_data_is_named_by_the_steps_key(installed: None) -> None:
    cache, made = Cache(), data()
    hook_for(WhitespaceTokenizer, cache).on_after_node("node", None, {}, made, {"fingerprint_key": "abc"})
    assert cache.outputs == {"abc": output_fingerprints.mark("abc")}
    assert made.fingerprint() == output_fingerprints.mark("abc")  # what the next step's cache key is made of
    assert output_fingerprints.mark("abd") != output_fingerprints.mark("abc")
    assert isinstance(hash(made), int)  # Rasa's TrainingData.__hash__ reads the fingerprint as hex


def test_the_raw_training_data_keeps_its_content_hash(installed: None) -> None:
    cache, raw = Cache(), data()
    content = raw.fingerprint()
    hook_for(NLUTrainingDataProvider, cache).on_after_node("node", None, {}, raw, {"fingerprint_key": "abc"})
    assert cache.outputs == {"abc": content} and content != output_fingerprints.mark("abc")
    # A change to the examples changes it, so a new example reaches every step.
    other = TrainingData([Message.build("hvor er pakken min", intent="order_status")])
    assert other.fingerprint() != content


def test_other_outputs_and_cached_values_are_as_rasa_makes_them(installed: None) -> None:
    cache, domain = Cache(), Domain.from_dict({"intents": ["greet"]})
    hook_for(WhitespaceTokenizer, cache).on_after_node("node", None, {}, domain, {"fingerprint_key": "k1"})
    assert cache.outputs == {"k1": domain.fingerprint()}
    hook_for(PrecomputedValueProvider, cache).on_after_node("node", None, {}, data(), {"fingerprint_key": "k2"})
    assert "k2" not in cache.outputs


def test_installed_twice_wraps_rasas_fingerprint_once(installed: None) -> None:
    output_fingerprints.install()
    assert TrainingHook.on_after_node.__wrapped__.__module__ == TrainingHook.__module__  # type: ignore[attr-defined]
    assert TrainingData.fingerprint.__wrapped__.__module__ == TrainingData.__module__  # type: ignore[attr-defined]
    assert data().fingerprint() == TrainingData.fingerprint.__wrapped__(data())  # type: ignore[attr-defined]
