"""Intent classification by logistic regression that is safe on any input.

Rasa's LogisticRegressionClassifier crashes when a message yields fewer features than training did
(an empty message has no regex features), and it is confidently wrong on text made only of words it
has never seen ("asdkjh", "😀😀😀", "10A34"): the class prior wins. This subclass pads the feature
matrix, and scales confidences by how much of the message is known, so that unknown text falls
below FallbackClassifier's threshold and the customer is asked to rephrase.

Two settings Rasa's classifier lacks: `C` (inverse regularisation strength; Rasa fixes sklearn's 1.0) and
`normalize_sparse`, which scales each sparse featurizer's row (word counts, character n-gram counts) to
unit length. Raw character n-gram counts grow with the message's length and would drown a dense sentence
embedding of unit length; normalised, the blocks can be weighed against each other (the embedding's
`scale`). Both chosen on a validation split (README, "NLU: measured").

The fit is scikit-learn's objective minimised on the count and embedding blocks kept apart
(bot/nlu/multinomial.py): 3-4x faster than LogisticRegression.fit on one sparse matrix, the same model.

When Rasa fine-tunes a model (`rasa train --finetune`, what the trainers' retrain runs), the fit starts
from the previous model's coefficients instead of zeros. The problem is convex, so it ends at the same
optimum, in fewer iterations (measured in docs/model-lifecycle.md). Rasa's featurizers only append to
their vocabularies when fine-tuning, so each old feature keeps its place within its featurizer's block;
the classifier remembers the blocks' widths (`layout.json`) to carry each old coefficient over.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack
from sklearn.preprocessing import normalize

from bot.nlu import multinomial
from bot.nlu.multinomial import Blocks

log = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
VOCABULARY_FILE = "vocabulary.json"
LAYOUT_FILE = "layout.json"

# Each featurizer's block of the feature matrix, in column order: (origin, sparse?, width).
Layout = list[tuple[str, bool, int]]


def words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text or "")}


def sentence_features(message: Message) -> tuple[list[Any], list[Any], tuple[tuple[str, bool, int], ...]]:
    """A message's sentence features in the order Message.get_*_features combines them (sparse, then
    dense), and their layout: each featurizer's (origin, sparse?, width)."""
    sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
    sparse = [f for f in sentence if f.is_sparse()]
    dense = [f for f in sentence if f.is_dense()]
    return sparse, dense, tuple((str(f.origin), f.is_sparse(), f.features.shape[-1]) for f in sparse + dense)


def _row_entries(row: Any, unit_length: bool) -> tuple[np.ndarray, np.ndarray]:
    """A one-row sparse matrix's columns (ascending, each once) and values, as float64: what SciPy's
    conversion to CSR and scikit-learn's `normalize` make of it, without building the matrices (a
    featurizer's COO row; SciPy's conversion alone took 0.4 ms a message). The length is summed in the
    same order, one value after the other, as scikit-learn's loop does, so it is the same number. A row
    with repeated or unsorted columns (no featurizer of ours makes one) goes SciPy's way: the order in
    which SciPy adds repeats up is its own."""
    if not isinstance(row, coo_matrix):
        row = row.tocoo()
    columns, values = row.col.astype(np.int64), row.data.astype(np.float64)
    if len(columns) > 1 and not (np.diff(columns) > 0).all():
        block = csr_matrix(row, dtype=np.float64)
        block.sum_duplicates()
        block = normalize(block, copy=False) if unit_length else block
        return block.indices.astype(np.int64), block.data
    if unit_length:
        total = 0.0
        for value in values.tolist():
            total += value * value
        if total != 0.0:
            values = values / math.sqrt(total)
    return columns, values


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class GuardedIntentClassifier(LogisticRegressionClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0, "normalize_sparse": False}

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))
        self.vocabulary: frozenset[str] = frozenset()
        self.layout: Layout = []
        self.warm_started_from: int | None = None  # iterations of the previous fit, when warm-started

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            log.debug("No intent examples: %s is not trained.", self.__class__.__name__)
            return self._resource
        self.vocabulary = frozenset(word for example in examples for word in words(example.get(TEXT)))
        y = [example.get(INTENT) for example in examples]
        started = time.monotonic()
        split = self._feature_blocks(examples)
        if split is not None and len(set(y)) >= 3:
            sparse, dense, layout = split
            blocks = Blocks(
                hstack(sparse, format="csr", dtype="float64") if sparse else csr_matrix((len(y), 0)),
                np.hstack(dense) if dense else np.zeros((len(y), 0)),
            )
            start = self._warm_start(layout, sorted(set(y)), blocks.shape[1])
            multinomial.fit(self.clf, blocks, y, start)
            shape = blocks.shape
        else:  # two intents, or features Rasa's way: scikit-learn's own fit on one matrix
            X, layout = self._stack_features(examples)
            start = None
            self.clf.fit(X, y)
            shape = X.shape
        log.info(
            "%s: fit %d examples x %d features in %d iterations, %.1f s (%s)",
            self.__class__.__name__, shape[0], shape[1], int(np.max(self.clf.n_iter_)),
            time.monotonic() - started,
            "warm start from the previous model" if start is not None else "from zeros",
        )  # fmt: skip
        self.layout = layout
        self.persist()
        return self._resource

    def _warm_start(self, layout: Layout, classes: list[str], width: int) -> np.ndarray | None:
        """The previous model's coefficients placed in the new feature matrix's columns, or None to fit
        from zeros: not fine-tuning, or nothing to align with (other intents, other featurizers)."""
        previous = getattr(self.clf, "coef_", None)
        if previous is None or not self.layout or len(classes) < 3:
            return None  # two classes have a single row of coefficients; not worth a special case
        if list(self.clf.classes_) != classes:
            return None
        if [(origin, sparse) for origin, sparse, _ in self.layout] != [(o, s) for o, s, _ in layout]:
            return None
        if previous.shape[1] != sum(w for _, _, w in self.layout):
            return None
        start = np.zeros((previous.shape[0], width), dtype=previous.dtype)
        old_at = new_at = 0
        for (_, _, old_width), (_, _, new_width) in zip(self.layout, layout, strict=True):
            kept = min(old_width, new_width)  # fine-tuned featurizers only append
            start[:, new_at : new_at + kept] = previous[:, old_at : old_at + kept]
            old_at, new_at = old_at + old_width, new_at + new_width
        return start

    def persist(self) -> None:
        super().persist()
        with self._model_storage.write_to(self._resource) as model_dir:
            (model_dir / VOCABULARY_FILE).write_text(json.dumps(sorted(self.vocabulary)), encoding="utf-8")
            (model_dir / LAYOUT_FILE).write_text(json.dumps(self.layout), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GuardedIntentClassifier:
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        with model_storage.read_from(resource) as model_dir:
            component.vocabulary = frozenset(json.loads((model_dir / VOCABULARY_FILE).read_text(encoding="utf-8")))
            layout_file = model_dir / LAYOUT_FILE  # absent in models from before warm starts
            if layout_file.exists():
                component.layout = [tuple(block) for block in json.loads(layout_file.read_text(encoding="utf-8"))]
        return component

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        if len(messages) == 1:  # each customer message: SciPy's stacking cost more than the scoring
            row = self._one_row(messages[0])
            if row is not None:
                return row
        X, _ = self._stack_features(messages)
        expected = getattr(self.clf, "n_features_in_", X.shape[1])
        if X.shape[1] < expected:  # e.g. an empty message has no regex features
            X = hstack([X, csr_matrix((X.shape[0], expected - X.shape[1]))]).tocsr()
        return X[:, :expected]

    def _stack_features(self, messages: list[Message]) -> tuple[csr_matrix, Layout]:
        """The matrix Rasa's _create_X builds, and its layout (Rasa's own way when the features are ragged)."""
        split = self._feature_blocks(messages)
        if split is None:
            return super()._create_X(messages).tocsr(), []
        sparse, dense, layout = split
        # float64 as in Rasa's version, where every row is stacked with a float64 csr_matrix([]).
        return hstack([*sparse, *(csr_matrix(block) for block in dense)], format="csr", dtype="float64"), layout

    def _one_row(self, message: Message) -> csr_matrix | None:
        """_create_X's row for one message, put together from its blocks' own arrays; None unless its
        features are laid out as in training (then _create_X's usual way pads or cuts them)."""
        sparse_blocks, dense_blocks, layout = sentence_features(message)
        if not self.layout or list(layout) != self.layout or sum(w for _, _, w in layout) != self.clf.n_features_in_:
            return None
        columns, values, offset = [], [], 0
        for feature, (_, sparse, width) in zip(sparse_blocks + dense_blocks, layout, strict=True):
            if sparse:
                found, numbers = _row_entries(feature.features, self.config["normalize_sparse"])
            else:
                dense = np.asarray(feature.features, dtype=np.float64).reshape(-1)
                found = np.flatnonzero(dense)
                numbers = dense[found]
            columns.append(found + offset)
            values.append(numbers)
            offset += width
        data, indices = np.concatenate(values), np.concatenate(columns).astype(np.int32)
        return csr_matrix((data, indices, np.array([0, len(data)], dtype=np.int32)), shape=(1, offset))

    def _feature_blocks(self, messages: list[Message]) -> tuple[list[csr_matrix], list[np.ndarray], Layout] | None:
        """Each featurizer's sentence features for all messages, stacked once: sparse blocks (normalised
        when configured), dense blocks (float64), and the layout; None when ragged or featureless.
        Rasa combines each message's features on its own (a deep copy and an hstack per message and
        featurizer), which took a third of this classifier's training time."""
        sparse_rows: list[list[Any]] = []
        dense_rows: list[list[Any]] = []
        layouts = set()
        for message in messages:
            sparse, dense, layout = sentence_features(message)
            layouts.add(layout)
            sparse_rows.append([f.features for f in sparse])
            dense_rows.append([f.features for f in dense])
        if len(layouts) != 1 or layouts == {()}:
            return None
        blocks = [vstack([row[i] for row in sparse_rows], format="csr") for i in range(len(sparse_rows[0]))]
        if self.config["normalize_sparse"]:
            blocks = [normalize(block, copy=False) for block in blocks]
        dense_blocks = [
            np.ascontiguousarray(np.vstack([row[i] for row in dense_rows]), dtype=np.float64)
            for i in range(len(dense_rows[0]))
        ]
        return blocks, dense_blocks, list(layouts.pop())

    def known_share(self, message: Message) -> float:
        """How much of the message the model has seen: 1 when an entity (order number, e-mail) was found."""
        if message.get(ENTITIES):
            return 1.0
        found = words(message.get(TEXT))
        return len(found & self.vocabulary) / len(found) if found else 0.0

    def process(self, messages: list[Message]) -> list[Message]:
        # scikit-learn scores a message as X @ coef_.T; SciPy copies a transposed C-ordered matrix into C
        # order for that, on every call: all of the coefficients (about 2 ms a message). Stored in Fortran
        # order, coef_.T is C-ordered already; the products are the same numbers.
        if not self.clf.coef_.flags.f_contiguous:
            self.clf.coef_ = np.asfortranarray(self.clf.coef_)
        messages = super().process(messages)
        for message in messages:
            share = self.known_share(message)
            if share >= 0.5:
                continue
            # Mostly unknown words: keep the ranking (trainers see it) but lower every confidence.
            ranking = [
                {**entry, "confidence": entry["confidence"] * share} for entry in message.get(INTENT_RANKING_KEY)
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
