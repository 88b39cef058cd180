"""The intent classifier's fit: scikit-learn's multinomial logistic regression, on split feature blocks.

scikit-learn 1.1 (what Rasa 3.6 pins) fits `LogisticRegression(solver="lbfgs", class_weight="balanced")`
on one sparse matrix. Ours is word and character counts (sparse, about 90 values a row) beside a
384-wide sentence embedding (dense): in one CSR matrix the embedding is four fifths of the stored
values, every product walks it through scipy's single-threaded sparse code, and L-BFGS-B's own
bookkeeping over 40 intents x 36 000 features took as long as the products (measured on 8 272
examples: 190 iterations, 59 s warm-started while the test suite ran).

Here the same objective is minimised by scikit-learn's own Newton-CG routine (what its
solver="newton-cg" runs, same stopping rule: every gradient entry within `tol`), with the counts kept
sparse and the embedding a dense array (BLAS), and the result is written into the LogisticRegression
object, so prediction, persistence (skops) and Rasa's code see an ordinary fitted scikit-learn model.
Same data, same machine load: 15 s warm-started (9 Newton steps), 44 s from zeros (22), both at the
same optimum to 8 digits; a warm start now stops earlier (WARM_START_TOL): 7-8 s.

The objective, as in scikit-learn 1.1.3's LinearModelLoss with HalfMultinomialLoss:
    sum_i s_i * -log softmax(x_i W^T + b)[y_i]  +  ||W||^2 / (2 C)
with s_i the balanced class weights n / (k * count(y_i)); the intercept b is not penalised.
tests/unit/test_multinomial.py checks it against scikit-learn's own fit.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.optimize import _newton_cg  # private, but the lock pins scikit-learn 1.1.3

log = logging.getLogger(__name__)

MAX_CG_STEPS = 200  # scikit-learn's default for newton-cg's inner solve
# A fine-tune starts next to the optimum and stops once every gradient entry is within this (clf.tol, 1e-4,
# from zeros). Measured on a trainer's one new example (6 December, 8 292 examples): the Newton steps from
# 1e-3 down to 1e-4 took 7 of the fit's 14.6 s and moved no training example's probabilities by more than
# 2e-4, and no prediction; "add one example -> answers live" needs those seconds (issue 13: under 30 s).
WARM_START_TOL = 1e-3


@dataclass(frozen=True)
class Blocks:
    """One feature matrix in two parts, columns in this order: the sparse counts, then the dense vectors."""

    sparse: csr_matrix
    dense: np.ndarray  # (rows, width), float64; width 0 when there is no dense featurizer

    @property
    def shape(self) -> tuple[int, int]:
        return self.sparse.shape[0], self.sparse.shape[1] + self.dense.shape[1]


class _Objective:
    """Loss, gradient and Hessian products over flat parameters: k rows of (coefficients..., intercept)."""

    def __init__(self, blocks: Blocks, y_index: np.ndarray, weights: np.ndarray, k: int, C: float) -> None:
        self.sparse = blocks.sparse
        self.sparse_t = blocks.sparse.T.tocsr()  # the backward product, row-major: faster than a CSC walk
        self.dense = blocks.dense
        self.n_sparse = blocks.sparse.shape[1]
        self.k = k
        self.alpha = 1.0 / C
        self.weights = weights[:, np.newaxis]
        self.onehot = np.zeros((len(y_index), k))
        self.onehot[np.arange(len(y_index)), y_index] = 1.0

    def _scores(self, w: np.ndarray) -> np.ndarray:
        at = self.n_sparse
        return self.sparse @ w[:, :at].T + self.dense @ w[:, at:-1].T + w[:, -1]

    def _backward(self, diff: np.ndarray, w: np.ndarray) -> np.ndarray:
        """diff^T [X 1] plus the penalty's gradient at w."""
        grad = np.empty_like(w)
        grad[:, : self.n_sparse] = (self.sparse_t @ diff).T
        grad[:, self.n_sparse : -1] = diff.T @ self.dense
        grad[:, :-1] += self.alpha * w[:, :-1]
        grad[:, -1] = diff.sum(axis=0)
        return grad

    def _log_proba(self, w: np.ndarray) -> np.ndarray:
        scores = self._scores(w)
        return scores - logsumexp(scores, axis=1)[:, np.newaxis]

    def loss(self, flat: np.ndarray) -> float:
        w = flat.reshape(self.k, -1)
        data = -float((self.weights * self.onehot * self._log_proba(w)).sum())
        return data + 0.5 * self.alpha * float((w[:, :-1] ** 2).sum())

    def grad(self, flat: np.ndarray) -> np.ndarray:
        w = flat.reshape(self.k, -1)
        return self._backward(self.weights * (np.exp(self._log_proba(w)) - self.onehot), w).ravel()

    def grad_hess(self, flat: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        w = flat.reshape(self.k, -1)
        proba = np.exp(self._log_proba(w))
        grad = self._backward(self.weights * (proba - self.onehot), w).ravel()

        def hessian_times(flat_v: np.ndarray) -> np.ndarray:
            v = flat_v.reshape(self.k, -1)
            r = proba * self._scores(v)
            r -= proba * r.sum(axis=1, keepdims=True)  # softmax Jacobian: diag(p) - p p^T
            return self._backward(self.weights * r, v).ravel()

        return grad, hessian_times


def fit(clf: LogisticRegression, blocks: Blocks, y: list[str], start: np.ndarray | None = None) -> LogisticRegression:
    """Fit `clf` (balanced, with intercept, 3+ classes; its C, tol and max_iter) to the optimum clf.fit
    would reach; `start` = coefficients to begin from (with clf.intercept_; then to WARM_START_TOL at
    least), else zeros. Sets coef_,
    intercept_, classes_, n_iter_ (Newton steps) and n_features_in_."""
    labels = np.asarray(y)
    classes, y_index = np.unique(labels, return_inverse=True)
    if len(classes) < 3:
        raise ValueError("fit() is for three or more classes; two have a single row of coefficients")
    k, width = len(classes), blocks.shape[1]
    weights = compute_class_weight("balanced", classes=classes, y=labels)[y_index]
    objective = _Objective(blocks, y_index, weights, k, float(clf.C))
    w0 = np.zeros((k, width + 1))
    if start is not None:
        w0[:, :-1] = start
        w0[:, -1] = clf.intercept_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported below, as the classifier's own line
        flat, steps = _newton_cg(
            objective.grad_hess,
            objective.loss,
            objective.grad,
            w0.ravel(),
            tol=clf.tol if start is None else max(clf.tol, WARM_START_TOL),
            maxiter=clf.max_iter,
            maxinner=MAX_CG_STEPS,
        )
    if steps >= clf.max_iter:
        log.warning("The intent classifier did not converge in %d Newton steps (max_iter in config.yml).", steps)
    w = flat.reshape(k, width + 1)
    clf.classes_ = classes
    clf.coef_ = np.ascontiguousarray(w[:, :-1])
    clf.intercept_ = np.ascontiguousarray(w[:, -1])
    clf.n_iter_ = np.array([steps], dtype=np.int32)
    clf.n_features_in_ = width
    return clf
