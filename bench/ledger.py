"""Delivery bookkeeping: every message lost, duplicated or out of order, counted per run.

- Gateway: each `message` frame's seq must be the previous one + 1 (docs/gateway-protocol.md); each customer
  message is echoed exactly once; each turn gets at least one reply; afterwards a fresh socket's replay of
  the stored transcript must equal what the customer saw live.
- Both paths: afterwards, Rasa's tracker must hold the customer's messages exactly once each, in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

MAX_PROBLEMS_KEPT = 10  # of each kind


@dataclass
class Ledger:
    sent: int = 0
    answered: int = 0
    errors: int = 0  # answered, but with the "having trouble" system message or an HTTP error
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, kind: str, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        self._keep(f"{kind}: {detail}")

    def error(self, detail: str) -> None:
        self.errors += 1
        self._keep(f"error: {detail}")

    def _keep(self, line: str) -> None:
        kind = line.split(":", 1)[0]
        if sum(1 for kept in self.problems if kept.startswith(kind + ":")) < MAX_PROBLEMS_KEPT:
            self.problems.append(line)

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.out_of_order == 0

    def merge(self, other: Ledger) -> None:
        for name in ("sent", "answered", "errors", "lost", "duplicated", "out_of_order"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for line in other.problems:
            self._keep(line)

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "answered": self.answered,
            "errors": self.errors,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "out_of_order": self.out_of_order,
            "problems": list(self.problems),
        }


@dataclass
class SeqTracker:
    """A socket's view of one conversation's seqs as they arrive."""

    where: str
    last: int = 0
    seen: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)

    def see(self, seq: int, ledger: Ledger) -> None:
        if seq in self.seen:
            ledger.problem("duplicated", f"{self.where}: seq {seq} delivered twice")
            return
        self.seen.add(seq)
        if seq in self.missing:
            self.missing.discard(seq)
            ledger.problem("out_of_order", f"{self.where}: seq {seq} arrived after a later one")
        elif seq > self.last + 1:
            self.missing.update(range(self.last + 1, seq))
        self.last = max(self.last, seq)

    def finish(self, ledger: Ledger) -> None:
        for seq in sorted(self.missing):
            ledger.problem("lost", f"{self.where}: seq {seq} never delivered")
        self.missing.clear()


def aligns(expected: Sequence[str], actual: Sequence[str], optional: AbstractSet[int]) -> bool:
    """Whether `actual` is `expected` in order, where the items at `optional` indexes may be absent."""
    # can[i][j]: expected[i:] matches actual[j:]
    can = [[False] * (len(actual) + 1) for _ in range(len(expected) + 1)]
    can[len(expected)][len(actual)] = True
    for i in range(len(expected) - 1, -1, -1):
        for j in range(len(actual), -1, -1):
            take = j < len(actual) and expected[i] == actual[j] and can[i + 1][j + 1]
            can[i][j] = take or (i in optional and can[i + 1][j])
    return can[0][0]


def compare_sequences(
    where: str,
    expected: Sequence[str],
    actual: Sequence[str],
    ledger: Ledger,
    optional: AbstractSet[int] = frozenset(),
) -> None:
    """`actual` must be `expected`, item for item: what is missing is lost, extra is duplicated, else order.

    Items at `optional` indexes are turns that failed in the customer's sight (told so, and counted as
    errors then): Rasa may or may not have handled them after the gateway stopped waiting.
    """
    if list(expected) == list(actual) or aligns(expected, actual, optional):
        return
    expected = [item for index, item in enumerate(expected) if index not in optional]
    want, got = Counter(expected), Counter(actual)
    for item, count in (want - got).items():
        for _ in range(count):
            ledger.problem("lost", f"{where}: {item[:60]!r} missing")
    for item, count in (got - want).items():
        for _ in range(count):
            ledger.problem("duplicated", f"{where}: {item[:60]!r} extra")
    if want == got:
        ledger.problem("out_of_order", f"{where}: same messages in another order")
