"""The intent classifier's fast feature stacking builds exactly the matrix Rasa's own code builds, and its
warm start when fine-tuning ends where a fit from zeros ends, in fewer iterations."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.classifier import GuardedIntentClassifier


def message(rng: np.random.Generator, widths: dict[str, int], dense: int = 0) -> Message:
    result = Message(data={TEXT: "hei"})
    for origin, width in widths.items():  # as the regex and count-vector featurizers add theirs
        row = scipy.sparse.coo_matrix(rng.integers(0, 3, size=(1, width)) * (rng.random((1, width)) < 0.05))
        result.add_features(Features(row, "sentence", TEXT, origin))
    if dense:
        result.add_features(Features(rng.random((1, dense)), "sentence", TEXT, "DenseFeaturizer"))
    return result


@pytest.fixture
def classifier(tmp_path: Path) -> GuardedIntentClassifier:
    return GuardedIntentClassifier.create(
        GuardedIntentClassifier.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("classifier"),
        ExecutionContext(GraphSchema({}), "tests"),
    )


@pytest.mark.parametrize("dense", [0, 4])
def test_the_same_matrix_as_rasas_own_code(classifier: GuardedIntentClassifier, dense: int) -> None:
    rng = np.random.default_rng(7)
    widths = {"RegexFeaturizer": 2, "CountVectorsFeaturizer": 300, "CountVectorsFeaturizer2": 900}
    messages = [message(rng, widths, dense) for _ in range(400)]

    started = time.perf_counter()
    theirs = LogisticRegressionClassifier._create_X(classifier, messages).tocsr()
    rasa_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ours, layout = classifier._stack_features(messages)
    our_seconds = time.perf_counter() - started

    assert ours.shape == theirs.shape == (400, 1202 + dense)
    assert ours.dtype == theirs.dtype
    assert (ours != theirs).nnz == 0
    assert [width for _, _, width in layout] == [2, 300, 900] + ([dense] if dense else [])
    print(f"400 messages: Rasa's stacking {rasa_seconds:.3f} s, ours {our_seconds:.3f} s")


def test_messages_of_different_widths_fall_back_to_rasas_way(classifier: GuardedIntentClassifier) -> None:
    rng = np.random.default_rng(7)
    messages = [message(rng, {"CountVectorsFeaturizer": 10}), message(rng, {"CountVectorsFeaturizer": 12})]
    with pytest.raises(ValueError):  # what Rasa's own code does with ragged rows
        classifier._stack_features(messages)


INTENTS = ("greet", "order_status", "return_item", "points")


def labelled(rng: np.random.Generator, count: int, widths: dict[str, int]) -> list[Message]:
    """Messages whose intent shows in their features (each intent has columns of its own)."""
    messages = []
    for index in range(count):
        intent = INTENTS[index % len(INTENTS)]
        result = message(rng, widths)
        # A few features that tell the intent, in every block, so the classes can be learnt.
        for feature in result.features:
            row = feature.features.tolil()
            width = row.shape[1]
            for column in range(INTENTS.index(intent), width, len(INTENTS) * 7):
                row[0, column] += 2
            feature.features = row.tocoo()
        result.set("intent", intent)
        messages.append(result)
    return messages


def grown(messages: list[Message], extra: dict[str, int]) -> list[Message]:
    """The same messages with wider blocks: new vocabulary appended at the end of each block, as Rasa's
    count-vector featurizer does when fine-tuning."""
    for item in messages:
        for feature in item.features:
            add = extra.get(str(feature.origin), 0)
            if add:
                feature.features = scipy.sparse.hstack(
                    [feature.features, scipy.sparse.coo_matrix((1, add))], format="coo"
                )
    return messages


def classifier_in(
    folder: Path, finetuning: bool, previous: GuardedIntentClassifier | None = None
) -> GuardedIntentClassifier:
    context = ExecutionContext(GraphSchema({}), "tests", is_finetuning=finetuning)
    folder.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(folder)
    if previous is None:
        return GuardedIntentClassifier.create(
            GuardedIntentClassifier.get_default_config(), storage, Resource("classifier"), context
        )
    return GuardedIntentClassifier.load(
        GuardedIntentClassifier.get_default_config(), previous._model_storage, previous._resource, context
    )


def test_fine_tuning_starts_from_the_previous_fit_and_ends_at_the_same_model(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.training_data import TrainingData

    rng = np.random.default_rng(11)
    widths = {"RegexFeaturizer": 3, "CountVectorsFeaturizer": 200, "CountVectorsFeaturizer2": 600}
    first = classifier_in(tmp_path / "first", finetuning=False)
    first.train(TrainingData(labelled(rng, 240, widths)))
    assert first.layout == [("RegexFeaturizer", True, 3), ("CountVectorsFeaturizer", True, 200),
                            ("CountVectorsFeaturizer2", True, 600)]  # fmt: skip

    # A trainer adds examples; the vocabularies grow at the end of their blocks.
    more = labelled(np.random.default_rng(11), 240, widths) + labelled(rng, 8, widths)
    data = TrainingData(grown(more, {"CountVectorsFeaturizer": 5, "CountVectorsFeaturizer2": 20}))
    tuned = classifier_in(tmp_path / "first", finetuning=True, previous=first)
    tuned.train(data)
    cold = classifier_in(tmp_path / "cold", finetuning=False)
    cold.train(data)

    assert tuned.clf.coef_.shape == cold.clf.coef_.shape == (4, 828)
    assert tuned.clf.n_iter_.max() < cold.clf.n_iter_.max()
    X, _ = cold._stack_features(data.intent_examples)
    assert (tuned.clf.predict(X) == cold.clf.predict(X)).all()
    assert np.abs(tuned.clf.predict_proba(X) - cold.clf.predict_proba(X)).max() < 0.02
    print(f"iterations: warm start {tuned.clf.n_iter_.max()}, from zeros {cold.clf.n_iter_.max()}")


def test_other_intents_mean_a_fit_from_zeros(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.training_data import TrainingData

    rng = np.random.default_rng(3)
    widths = {"CountVectorsFeaturizer": 100}
    first = classifier_in(tmp_path, finetuning=False)
    first.train(TrainingData(labelled(rng, 80, widths)))
    tuned = classifier_in(tmp_path, finetuning=True, previous=first)
    fewer = [m for m in labelled(rng, 80, widths) if m.get("intent") != "points"]
    assert tuned._warm_start(tuned.layout, sorted({m.get("intent") for m in fewer}), 100) is None
    tuned.train(TrainingData(fewer))
    assert list(tuned.clf.classes_) == ["greet", "order_status", "return_item"]


def test_a_message_is_scored_as_by_the_fitted_model_without_copying_the_coefficients(tmp_path: Path) -> None:
    """process() keeps the coefficients in Fortran order (bot/nlu/classifier.py): the same confidences as
    scikit-learn's on the model as fitted, and no transposed copy of them per message."""
    from rasa.shared.nlu.training_data.training_data import TrainingData

    rng = np.random.default_rng(5)
    widths = {"RegexFeaturizer": 3, "CountVectorsFeaturizer": 200, "CountVectorsFeaturizer2": 600}
    model = classifier_in(tmp_path, finetuning=False)
    model.train(TrainingData(labelled(rng, 120, widths)))
    new = labelled(np.random.default_rng(6), 12, widths)
    fitted = model.clf.predict_proba(model._create_X(new))

    scored = model.process(new)
    assert model.clf.coef_.T.flags.c_contiguous  # what SciPy multiplies with as it is
    for item, expected in zip(scored, fitted, strict=True):
        by_intent = {entry["name"]: entry["confidence"] for entry in item.get("intent_ranking")}
        assert [by_intent[name] for name in model.clf.classes_] == pytest.approx(list(expected), rel=1e-12)
        assert item.get("intent")["name"] == model.clf.classes_[int(np.argmax(expected))]


@pytest.mark.parametrize("normalize_sparse", [False, True])
def test_one_message_gets_the_row_of_the_usual_stacking(tmp_path: Path, normalize_sparse: bool) -> None:
    """A customer's message is scored on a row built from its blocks' arrays (_one_row): the same numbers
    as the batch stacking; with other widths than in training it goes the usual way (padding, cutting)."""
    from rasa.shared.nlu.training_data.training_data import TrainingData

    rng = np.random.default_rng(9)
    widths = {"RegexFeaturizer": 3, "CountVectorsFeaturizer": 200, "CountVectorsFeaturizer2": 600}
    context = ExecutionContext(GraphSchema({}), "tests")
    config = {**GuardedIntentClassifier.get_default_config(), "normalize_sparse": normalize_sparse}
    model = GuardedIntentClassifier.create(config, LocalModelStorage(tmp_path), Resource("classifier"), context)
    model.train(TrainingData(labelled(rng, 80, widths)))
    for item in labelled(np.random.default_rng(10), 20, widths):
        row = model._one_row(item)
        stacked, _ = model._stack_features([item])
        assert row is not None and row.shape == stacked.shape == (1, 803)
        assert (row != stacked).nnz == 0
        assert model.process([item])[0].get("intent")["name"] == model.clf.predict(stacked)[0]
    narrower = labelled(np.random.default_rng(10), 1, {**widths, "RegexFeaturizer": 2})[0]  # no longer as trained
    assert model._one_row(narrower) is None
    assert model.process([narrower])[0].get("intent")["name"] in INTENTS


@pytest.mark.parametrize("unit_length", [False, True])
def test_a_row_reads_as_scipy_and_sklearn_make_it(unit_length: bool) -> None:
    from sklearn.preprocessing import normalize

    from bot.nlu.classifier import _row_entries

    rng = np.random.default_rng(4)
    for attempt in range(100):
        count = int(rng.integers(0, 30))
        # Even attempts: as a featurizer makes a row (sorted, each column once); odd: repeats, in no order.
        as_made = np.sort(rng.choice(30, size=count, replace=False))
        columns = rng.integers(0, 30, size=count) if attempt % 2 else as_made
        row = scipy.sparse.coo_matrix((rng.random(count) * 3, (np.zeros(count, int), columns)), shape=(1, 30))
        expected = scipy.sparse.csr_matrix(row, dtype=np.float64)
        expected.sum_duplicates()
        if unit_length:
            expected = normalize(expected, copy=False)
        found, values = _row_entries(row, unit_length)
        assert found.tolist() == expected.indices.tolist()
        assert values.tolist() == expected.data.tolist()  # the same numbers, not nearly
