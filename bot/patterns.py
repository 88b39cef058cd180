"""What counts as an order number and as an e-mail address: the one definition, for all of Varde.

Used to validate a slot or a lookup (`is_order_id`, `is_email`), to find them in what a customer wrote
(`find_order_ids`, `find_emails`, `first_email`: the customer card, the ticket form, the frustration
rules, masking for trainers, the NLU data checks), and by Rasa: data/nlu/regex.yml holds `ORDER_ID` and
`EMAIL` as they are written here, and tests/unit/test_patterns.py fails when the two differ.

An order number is 4-6 ASCII digits, not part of a longer run of digits: "#10234" and "ordre10234" hold
10234, "1234567" (a phone or tracking number) holds none.

An e-mail address is local-part@domain, in the characters people use:
- local part: letters and digits (any script: "bjørn@"), ".", "_", "+" and "-", 64 at most;
- domain: labels of letters, digits, "_" and "-" joined by dots, ending in a top-level domain of 2 or
  more ASCII letters; 255 at most, the whole address 320 at most.
No "?", "&", "=", "%", "/", "<", ">", quotes, spaces, commas or semicolons, although the standard allows
them (some only quoted) and so did earlier checks here: an address goes into a mailto: link on the
console, and one of those characters would let the customer add headers ("kari@example.no?bcc=...").

Finding in text takes each address out of whatever surrounds it: "<kari@example.no>.", "e-post:kari@..."
and "kari@example.no?bcc=ola@example.no" (kari@example.no, then ola@example.no; never the whole) give
plain addresses. An address starts where no address character comes before it, so a long message is
scanned in linear time.

Both patterns are plain regular expressions without flags, the same under re.IGNORECASE (Rasa's entity
extractor) as without it (Rasa's featurizer), and `re.fullmatch` of the same pattern is the validation.
"""

from __future__ import annotations

import re

# 4-6 digits with no digit right before or after.
ORDER_ID = r"(?<![0-9])[0-9]{4,6}(?![0-9])"
# local@label.label.tld; the look-behind makes every match start at the beginning of a run of
# local-part characters (the same matches as without it, found without rescanning the run).
EMAIL = r"(?<![\w.+-])[\w.+-]+@(?:[\w-]+\.)+[A-Za-z]{2,}"

ORDER_ID_RE = re.compile(ORDER_ID)
EMAIL_RE = re.compile(EMAIL)

MAX_LOCAL_PART = 64
MAX_DOMAIN = 255
MAX_EMAIL = 320


def is_order_id(value: object) -> bool:
    """True if `value` is exactly an order number ("10234"; not " 10234", "#10234" or "10234\\n")."""
    return isinstance(value, str) and ORDER_ID_RE.fullmatch(value) is not None


def is_email(value: object) -> bool:
    """True if `value` is exactly one e-mail address (no spaces around it, nothing after it)."""
    if not isinstance(value, str) or len(value) > MAX_EMAIL or EMAIL_RE.fullmatch(value) is None:
        return False
    local, _, domain = value.rpartition("@")
    return len(local) <= MAX_LOCAL_PART and len(domain) <= MAX_DOMAIN


def find_order_ids(text: str) -> list[str]:
    """The order numbers in `text`, in order, repeats included."""
    return ORDER_ID_RE.findall(text)


def find_emails(text: str) -> list[str]:
    """The e-mail addresses in `text`, in order, repeats included; each passes `is_email`."""
    return [match for match in EMAIL_RE.findall(text) if is_email(match)]


def first_email(text: object) -> str | None:
    """The first e-mail address in `text` ("it's kari@example.no, thanks"), or None."""
    if not isinstance(text, str):
        return None
    found = find_emails(text)
    return found[0] if found else None
