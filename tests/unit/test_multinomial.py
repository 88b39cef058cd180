"""The classifier's own fit minimises what scikit-learn's LogisticRegression.fit minimises, faster."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix, hstack
from scipy.sparse import random as sparse_random
from sklearn.linear_model import LogisticRegression

from bot.nlu.multinomial import WARM_START_TOL, Blocks, fit


def _problem(rows: int = 400, seed: int = 3) -> tuple[Blocks, list[str]]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, size=rows)
    counts = sparse_random(rows, 60, density=0.1, format="csr", random_state=seed)
    dense = rng.normal(size=(rows, 8)) * 0.3
    dense[:, 0] += labels  # learnable, not separable
    # Unbalanced classes, so the balanced weights matter.
    keep = (labels != 4) | (rng.random(rows) < 0.3)
    y = [f"intent_{label}" for label in labels[keep]]
    return Blocks(counts[keep], np.ascontiguousarray(dense[keep])), y


def _sklearn(tol: float = 1e-6) -> LogisticRegression:
    return LogisticRegression(solver="lbfgs", class_weight="balanced", C=10.0, max_iter=5000, tol=tol)


def _objective(clf: LogisticRegression, blocks: Blocks, y: list[str]) -> float:
    """scikit-learn's multinomial objective with balanced class weights, written out independently."""
    X = hstack([blocks.sparse, csr_matrix(blocks.dense)], format="csr")
    classes, index = np.unique(y, return_inverse=True)
    weights = len(y) / (len(classes) * np.bincount(index))
    log_proba = clf.predict_log_proba(X)[np.arange(len(y)), index]
    return float(-(weights[index] * log_proba).sum() + 0.5 / clf.C * (clf.coef_**2).sum())


def test_same_model_as_scikit_learn() -> None:
    blocks, y = _problem()
    reference = _sklearn(tol=1e-9).fit(hstack([blocks.sparse, csr_matrix(blocks.dense)], format="csr"), y)
    ours = fit(_sklearn(), blocks, y)
    assert list(ours.classes_) == list(reference.classes_)
    # Both stop within lbfgs' tolerance of one optimum: the same objective, the same answers.
    assert _objective(ours, blocks, y) == pytest.approx(_objective(reference, blocks, y), rel=1e-6)
    np.testing.assert_allclose(ours.coef_, reference.coef_, atol=1e-2)
    X = hstack([blocks.sparse, csr_matrix(blocks.dense)], format="csr")
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-3)
    assert ours.n_features_in_ == X.shape[1]


def test_warm_start_from_the_optimum_stops_at_once() -> None:
    blocks, y = _problem()
    first = fit(_sklearn(), blocks, y)
    again = _sklearn()
    again.intercept_ = first.intercept_.copy()
    refit = fit(again, blocks, y, start=first.coef_.copy())
    assert int(refit.n_iter_[0]) <= 3 < int(first.n_iter_[0])
    np.testing.assert_allclose(refit.coef_, first.coef_, atol=1e-4)


def test_a_warm_start_near_the_optimum_stops_at_its_own_tolerance_with_the_same_answers() -> None:
    blocks, y = _problem()
    first = fit(_sklearn(), blocks, y)
    more = Blocks(blocks.sparse[:-10], blocks.dense[:-10])  # the data a fine-tune started from: 10 fewer rows
    before = fit(_sklearn(), more, y[:-10])
    again = _sklearn()
    again.intercept_ = before.intercept_.copy()
    tuned = fit(again, blocks, y, start=before.coef_.copy())
    X = hstack([blocks.sparse, csr_matrix(blocks.dense)], format="csr")
    assert int(tuned.n_iter_[0]) < int(first.n_iter_[0])
    np.testing.assert_allclose(tuned.predict_proba(X), first.predict_proba(X), atol=WARM_START_TOL)
    assert (tuned.predict(X) == first.predict(X)).all()


def test_two_classes_are_refused() -> None:
    blocks, y = _problem()
    with pytest.raises(ValueError, match="three or more"):
        fit(_sklearn(), blocks, ["a" if label == "intent_0" else "b" for label in y])
