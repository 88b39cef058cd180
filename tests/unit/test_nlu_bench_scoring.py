"""The NLU benchmark's arithmetic: what counts as right, answered and rejected."""

from __future__ import annotations

from bench.nlu import rejection, score


def test_answered_right_needs_the_right_intent_above_the_threshold() -> None:
    examples = [("a", "greet"), ("b", "thanks"), ("c", "greet"), ("d", "deny")]
    predicted = [("greet", 0.9), ("thanks", 0.2), ("thanks", 0.8), ("deny", 0.5)]
    result = score(examples, predicted, threshold=0.3)
    assert result["n"] == 4
    assert result["accuracy"] == 0.75  # the top intent, whatever its confidence
    assert result["answered_right"] == 0.5  # "thanks" at 0.2 would have been a fallback


def test_rejection_counts_out_of_scope_and_low_confidence() -> None:
    oos = [("out_of_scope", 0.9), ("faq_shipping", 0.2), ("faq_shipping", 0.7), ("chitchat", 0.35)]
    real = [("order_status", 0.9), ("faq_returns", 0.25)]
    result = rejection(oos, real, threshold=0.3)
    assert result["oos_rejected"] == 0.5
    assert result["in_scope_rejected"] == 0.5
    stricter = rejection(oos, real, threshold=0.4)
    assert stricter["oos_rejected"] == 0.75
