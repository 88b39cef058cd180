"""What the simulated customers say: realistic conversations of the demo shop's signed-in customers, nb and en.

Each script was checked against the demo shop: every turn gets a sensible answer, and running it again
(a new conversation of the same customer) answers the same way, because no turn changes the shop's
data (the returns are declined at the confirmation question, or are not possible).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.identity import sign_customer_token


@dataclass(frozen=True)
class Script:
    name: str
    customer_id: str
    language: str
    turns: tuple[str, ...]

    def token(self) -> str:
        # Valid for the whole run; a benchmark never outlives a day.
        return sign_customer_token(self.customer_id, ttl_seconds=24 * 3600)


SCRIPTS: tuple[Script, ...] = (
    Script(
        "kari-nb",
        "C-1001",
        "nb",
        (
            "hei",
            "hvor er pakka mi?",
            "jeg vil gjerne returnere soveposen fra ordre 10150",
            "nei, jeg ombestemte meg",
            "hvor mange poeng har jeg?",
            "hvor lang tid tar frakten?",
            "takk for hjelpen",
        ),
    ),
    Script(
        "emma-en",
        "C-1003",
        "en",
        (
            "hi",
            "where is my order?",
            "I'd like to return the jacket from order 10251",
            "no, not after all",
            "how many points do I have?",
            "what payment methods do you accept?",
            "thanks, bye",
        ),
    ),
    Script(
        "ola-nb",
        "C-1002",
        "nb",
        (
            "hei hei",
            "hvor er bestillingen min?",
            "kan jeg returnere termosen fra ordre 10101?",
            "hvor mange poeng har jeg?",
            "hvilke betalingsmåter har dere?",
            "når har kundeservice åpent?",
            "tusen takk",
        ),
    ),
    Script(
        "john-en",
        "C-1005",
        "en",
        (
            "hi there",
            "where is my order?",
            "how many points do I have?",
            "how long does shipping take?",
            "can I cancel my order?",
            "how do I contact you?",
            "thanks, bye",
        ),
    ),
)

# One long conversation cycles through these (no form left half-open, so every turn is a full answer).
LONG_CONVERSATION = Script(
    "kari-long-nb",
    "C-1001",
    "nb",
    (
        "hvor er pakka mi?",
        "hvor mange poeng har jeg?",
        "hvor lang tid tar frakten?",
        "hvilke betalingsmåter har dere?",
        "når har kundeservice åpent?",
        "takk for hjelpen",
    ),
)


def script_for(index: int) -> Script:
    """Customer number `index` of a run: the scripts in turn, so any 2+ customers speak both languages."""
    return SCRIPTS[index % len(SCRIPTS)]
