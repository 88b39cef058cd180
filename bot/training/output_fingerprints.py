"""Rasa's training cache, without hashing every featurized example before and after every NLU step.

Rasa's TrainingHook fingerprints each node's inputs before it runs (its cache key) and its output after
(for the cache), by content. For an NLU step (tokenizer, featurizers) that is the whole training data
with all the features so far: 8 300 examples with sparse and dense matrices, hashed twice per step.
Profiled on a trainer's fine-tuning (one example added): 13 of its 47 s.

A step's output is a function of its key (Rasa's fingerprint key: the component's class and source,
its config and its inputs' fingerprints), so the training data a step made is named by that key: the
step marks the data with it, and the data's fingerprint is then the mark. The raw training data
(NLUTrainingDataProvider's output) is still hashed by content, so a change to stories or the domain
alone still leaves the NLU pipeline in the cache. Rasa's steps change the training data in place and
run one after the other, so the mark always names the last step that changed it, as its content did.
What this gives up: a step whose inputs changed but whose output came out the same no longer lets the
steps after it come from the cache; with a new example every output differs anyway. A mark is a hash
of "key:" and the key, hex like Rasa's own (TrainingData.__hash__ reads it as a number), and can't be
mistaken for a content hash. Unlike Rasa's content hash it does not notice a step's output changing
under the same key (code outside the component's class, which Rasa's key leaves out); Rasa's own
fingerprint run does not notice that either.

bot.training.rasa_runner installs it in the training child (trainers' retrains, scoring, the bench);
`python -m bot train` is Rasa's own command, as it was.
"""

from __future__ import annotations

from typing import Any

KEY_PREFIX = "key:"
_MARK = "_varde_made_by"  # the TrainingData attribute holding the mark


def mark_if_made_by_a_step(node_class: type, output: Any, fingerprint_key: str) -> None:
    """Name training data a step made by the step's key (not the raw data from the provider)."""
    from rasa.graph_components.providers.nlu_training_data_provider import NLUTrainingDataProvider
    from rasa.shared.nlu.training_data.training_data import TrainingData

    if isinstance(output, TrainingData) and not issubclass(node_class, NLUTrainingDataProvider):
        setattr(output, _MARK, mark(fingerprint_key))


def mark(fingerprint_key: str) -> str:
    """The step's key hashed with a prefix of its own: hex like Rasa's fingerprints (TrainingData.__hash__
    reads it as a hex number), and never equal to a content hash of training data."""
    from rasa.shared.utils.io import deep_container_fingerprint

    return deep_container_fingerprint(KEY_PREFIX + fingerprint_key)


def training_data_fingerprint(rasas: Any) -> Any:
    """TrainingData.fingerprint: the mark when a step made the data, else Rasa's content hash."""

    def fingerprint(self: Any) -> str:
        return getattr(self, _MARK, None) or rasas(self)

    fingerprint.__wrapped__ = rasas  # type: ignore[attr-defined]
    return fingerprint


def marking_after_node(rasas: Any) -> Any:
    """TrainingHook.on_after_node that marks the step's training data, then does Rasa's own work (which
    fingerprints the output, the mark for marked data, and caches it)."""
    from rasa.engine.training.components import PrecomputedValueProvider

    def on_after_node(
        self: Any, node_name: str, execution_context: Any, config: dict[str, Any], output: Any, input_hook_data: dict
    ) -> None:
        node_class = self._pruned_schema.nodes[node_name].uses
        if node_class != PrecomputedValueProvider:  # a value from the cache keeps the fingerprint it had
            mark_if_made_by_a_step(node_class, output, input_hook_data["fingerprint_key"])
        rasas(self, node_name, execution_context, config, output, input_hook_data)

    on_after_node.__wrapped__ = rasas  # type: ignore[attr-defined]
    return on_after_node


def install() -> None:
    from rasa.engine.training.hooks import TrainingHook
    from rasa.shared.nlu.training_data.training_data import TrainingData

    hook = TrainingHook.on_after_node
    TrainingHook.on_after_node = marking_after_node(getattr(hook, "__wrapped__", hook))
    rasas = TrainingData.fingerprint
    TrainingData.fingerprint = training_data_fingerprint(getattr(rasas, "__wrapped__", rasas))
