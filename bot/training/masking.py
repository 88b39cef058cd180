"""Personal data out of customer text before a trainer sees it.

Masked: e-mail addresses (as bot/patterns.py finds them, overlong ones too), card-like numbers (13-19
digits, spaces or dashes allowed), tracking numbers (long digit runs: 10 digits or more), phone numbers
(+47 912 34 567, 912 34 567, 91234567, +46 70-123 45 67 ...) and the names of the signed-in customer.
Order numbers (4-6 digits) stay: they are what an order question is about, and they say nothing about a
person without the shop's data.

The order of the rules matters: a card number would otherwise read as a phone number and a tracking
number, and an e-mail address holds a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.patterns import EMAIL_RE

EMAIL = "[e-mail]"
CARD = "[card]"
TRACKING = "[tracking]"
PHONE = "[phone]"
NAME = "[name]"

# 13-19 digits in groups separated by spaces or dashes (1234 5678 9012 3456, 1234-5678-...).
_CARD = re.compile(r"(?<![\w])\d+(?:[ -]\d+)+(?![\w])")
# A plain run of 10 digits or more, or a code of 10+ letters and digits with 8+ digits (1Z999AA1...).
_TRACKING = re.compile(r"(?<![\w])(?=(?:[A-Za-z]*\d){8})[A-Za-z0-9]{10,}(?![\w])")
# International (+47 ...) or 8 local digits in the usual groupings: 912 34 567, 91 23 45 67, 91234567.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ -]?)?(?:\d{2,3}[ -]?){2,4}\d{2,3}(?![\w])"
    r"|(?<![\w+])\+\d{1,3}[ -]?\d{6,12}(?![\w])"
)


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    # Shorter runs are order numbers, amounts, dates: only 8 digits and more make a phone number.
    return PHONE if len(digits) >= 8 else match.group(0)


def name_parts(names: Iterable[str]) -> list[str]:
    """The words of each full name (first, middle, last), longest first, 2 letters or more."""
    parts = {part for name in names for part in re.split(r"[\s-]+", name.strip()) if len(part) >= 2}
    return sorted(parts, key=len, reverse=True)


def mask_personal_data(text: str, names: Iterable[str] = ()) -> str:
    """The text with personal data replaced by [e-mail], [card], [tracking], [phone] and [name]."""
    masked = EMAIL_RE.sub(EMAIL, text)
    masked = _CARD.sub(lambda m: CARD if 13 <= len(re.sub(r"\D", "", m.group(0))) <= 19 else m.group(0), masked)
    masked = _TRACKING.sub(TRACKING, masked)
    masked = _PHONE.sub(_phone, masked)
    for part in name_parts(names):
        # Whole words only, any case: "kari", "KARI" and "Kari's" all go; "Karianne" is another word.
        masked = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", NAME, masked, flags=re.IGNORECASE)
    return masked
