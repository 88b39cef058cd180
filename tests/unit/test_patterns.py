"""Order numbers and e-mail addresses (bot/patterns.py): what counts, and Rasa's data/nlu/regex.yml agrees.

regex.yml is compared with the module as text, read by Rasa's own YAML reader: equal text is the only
proof that the two match the same strings (a set of samples can only show they agree on the samples),
and it fails on any edit to either side. The samples below then run both as Rasa runs regex.yml (with
and without re.IGNORECASE), which text equality cannot show: the module compiles its patterns without
flags, and a flag added there would change what it matches but not its text.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from bot.patterns import (
    EMAIL,
    EMAIL_RE,
    ORDER_ID,
    ORDER_ID_RE,
    find_emails,
    find_order_ids,
    first_email,
    is_email,
    is_order_id,
)
from bot.training.masking import mask_personal_data

ROOT = Path(__file__).resolve().parents[2]
MARKUP = re.compile(r"\[(?P<value>[^\]]+)\]\((?P<name>[^):]+)[^)]*\)")

SAMPLES = [
    "hvor er ordre 10234?",
    "#10234, 10235 og 1234567",
    "ordre10234!",
    "tlf 99887766, 2026-12-02, 123",
    "eposten er Kari.Nordmann+ordre@Example.NO.",
    "<emma@example.se>, (ola_h@mail.example.co.uk)",
    "mailto:kari@example.no?bcc=boss@example.com&subject=hi",
    "bjørn@blåbær.no og kari at example dot no",
    '"kari"@example.no, kari @example.no, kari@localhost, kari@example.c',
    "a,b@example.no; x=y@example.no; o'brien@example.com",
    "ordre [10234](order_id) til [kari@example.no](email)",
]


def _regex_yml() -> dict[str, list[str]]:
    features = RasaYAMLReader().read(ROOT / "data" / "nlu" / "regex.yml").regex_features
    patterns: dict[str, list[str]] = {}
    for feature in features:
        patterns.setdefault(feature["name"], []).append(feature["pattern"])
    return patterns


def test_regex_yml_holds_the_modules_patterns_as_written() -> None:
    assert _regex_yml() == {"order_id": [ORDER_ID], "email": [EMAIL]}
    assert ORDER_ID_RE.flags == EMAIL_RE.flags == re.UNICODE  # no flags that the text would not show


@pytest.mark.parametrize("flags", [0, re.IGNORECASE], ids=["featurizer", "entity extractor"])
@pytest.mark.parametrize("text", SAMPLES)
def test_rasa_finds_what_the_module_finds(text: str, flags: int) -> None:
    patterns = _regex_yml()
    assert [m.group(0) for p in patterns["order_id"] for m in re.finditer(p, text, flags)] == find_order_ids(text)
    assert [m.group(0) for p in patterns["email"] for m in re.finditer(p, text, flags)] == find_emails(text)


def test_every_annotated_entity_in_the_nlu_data_is_what_the_module_finds() -> None:
    """Rasa's regex extractor finds what the trainers marked, and the forms accept it."""
    files = [*(ROOT / "data" / "nlu").rglob("*.yml"), *(ROOT / "tests" / "nlu").rglob("*.yml")]
    checked = 0
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            plain = MARKUP.sub(lambda m: m["value"], line)
            for match in MARKUP.finditer(line):
                value, name = match["value"], match["name"].strip()
                if name == "order_id":
                    assert is_order_id(value) and value in find_order_ids(plain), (path, line)
                elif name == "email":
                    assert is_email(value) and value in find_emails(plain), (path, line)
                else:
                    continue
                checked += 1
    assert checked > 500


@pytest.mark.parametrize("value", ["10234", "1234", "123456", "00420"])
def test_an_order_number_is_4_to_6_digits(value: str) -> None:
    assert is_order_id(value)


@pytest.mark.parametrize(
    "value",
    ["123", "1234567", " 10234", "10234 ", "10234\n", "#10234", "10A34", "١٠٢٣٤", "１０２３４", "", None, 10234],
)
def test_anything_else_is_no_order_number(value: object) -> None:
    assert not is_order_id(value)


def test_order_numbers_in_text_stand_alone_from_longer_digit_runs() -> None:
    assert find_order_ids("#10234, 10235 og 1234567 (tlf 99887766), ordre10236!") == ["10234", "10235", "10236"]


@pytest.mark.parametrize(
    "value",
    [
        "kari@example.no",
        "Kari.Nordmann+ordre@Example.NO",
        "ola_h-1@mail.example.co.uk",
        "bjørn@blåbær.no",
        "x" * 64 + "@example.no",
    ],
)
def test_an_email_address(value: str) -> None:
    assert is_email(value)
    assert find_emails(f"it's {value}, thanks") == [value]


@pytest.mark.parametrize(
    "value",
    [
        "kari@example.no?bcc=boss@example.com",  # a mailto: link would add a blind copy
        "kari@example.no&bcc=boss@example.com",
        "kari?bcc=boss@example.com",
        "kari&ola@example.no",
        "kari=ola@example.no",
        "kari%3Fbcc@example.no",
        "<kari@example.no>",
        "kari@example.no>",
        '"kari"@example.no',
        "o'brien@example.com",
        "kari @example.no",
        "kari@example.no ",
        "kari@exa mple.no",
        "kari,ola@example.no",
        "kari;ola@example.no",
        "kari@example.no\n",
        "kari@localhost",
        "kari@example.c",
        "kari@example.no1",
        "kari@@example.no",
        "@example.no",
        "x" * 65 + "@example.no",
        "kari@" + "a" * 253 + ".no",  # a domain of 256
        "",
        None,
    ],
)
def test_no_email_address(value: object) -> None:
    assert not is_email(value)


def test_an_address_found_in_text_never_carries_what_a_mailto_link_would_read() -> None:
    text = 'mailto:kari@example.no?bcc=boss@example.com&subject=hi, "ola"@x.no <emma@example.se>'
    found = find_emails(text)
    assert found == ["kari@example.no", "boss@example.com", "emma@example.se"]
    assert all(is_email(address) and not set(address) & set("?&=%<>\"', ;") for address in found)
    assert first_email("kari@example.no?bcc=boss@example.com") == "kari@example.no"
    assert first_email("kari at example dot no") is None
    assert first_email(None) is None


def test_masking_hides_every_address_found() -> None:
    assert mask_personal_data("kari@example.no?bcc=boss@example.com") == "[e-mail]?bcc=[e-mail]"
    assert mask_personal_data("x" * 70 + "@example.no") == "[e-mail]"  # too long for is_email, masked anyway


def test_a_long_message_is_searched_in_linear_time() -> None:
    """Without EMAIL's look-behind, 50,000 letters take about 9 s (every start rescans the run); with it, 1 ms."""
    for text in ("a" * 50_000, "a@" + "b" * 50_000, "a@" + "b." * 25_000 + "1", "9" * 50_000):
        started = time.perf_counter()
        assert find_emails(text) == [] and find_order_ids(text) == []
        assert time.perf_counter() - started < 0.5
