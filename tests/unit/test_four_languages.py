"""Every text a customer or an agent reads exists in all four languages: nb (the default), en, sv and da.

The bot's sentences (domain.yml), the gateway's own messages (bot/web/texts.py), the chat widget's
labels (bot/gateway/static/widget.js, read here as source: no JavaScript runtime needed), the agents'
canned replies, and the small word tables in code. Each failure names the text and the language it lacks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from actions.returns import ALL_ITEMS_TITLES
from bot.console import canned, present
from bot.web.texts import TEXTS

LANGUAGES = ("nb", "en", "sv", "da")
DEFAULT = "nb"  # domain.yml: the variation without a condition
CONDITIONED = tuple(code for code in LANGUAGES if code != DEFAULT)
ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def report(problems: list[str]) -> str:
    return f"{len(problems)} text(s) not in every language:\n" + "\n".join(problems)


# --- domain.yml ------------------------------------------------------------------------------------


def domain_responses() -> dict[str, list[dict[str, Any]]]:
    with (ROOT / "domain.yml").open(encoding="utf-8") as file:
        return yaml.safe_load(file)["responses"]


def language_of_variation(variation: dict[str, Any]) -> str | None:
    """The language a variation is for: the value of its condition on the `language` slot, the
    default for a variation without conditions, None for one conditioned on something else only."""
    conditions = variation.get("condition") or []
    if not conditions:
        return DEFAULT
    for condition in conditions:
        if condition.get("type") == "slot" and condition.get("name") == "language":
            return str(condition.get("value"))
    return None


def variations_by_language(variations: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    found: dict[str | None, list[dict[str, Any]]] = {}
    for variation in variations:
        found.setdefault(language_of_variation(variation), []).append(variation)
    return found


def test_every_response_has_an_nb_default_and_an_en_sv_and_da_variation() -> None:
    problems = []
    for name, variations in domain_responses().items():
        by_language = variations_by_language(variations)
        defaults = [v for v in variations if not v.get("condition")]
        if len(defaults) != 1:
            problems.append(f"{name}: {len(defaults)} variations without a condition; want exactly one, in nb")
        for code in CONDITIONED:
            if not by_language.get(code):
                problems.append(f"{name}: missing {code} (a variation with condition slot language = {code})")
        for code in by_language:
            if code not in LANGUAGES:
                problems.append(f"{name}: a variation for unknown language {code!r}")
        for code, found in by_language.items():
            for variation in found:
                if not str(variation.get("text") or "").strip():
                    problems.append(f"{name}: the {code} variation has no text")
    assert not problems, report(problems)


def test_every_language_of_a_response_offers_the_same_buttons() -> None:
    """Same payloads in the same order; only the titles are translated. (Placeholders may differ: a Swedish
    customer hears of the Swedish carrier and the Swedish complaint law.)"""
    problems = []
    for name, variations in domain_responses().items():
        by_language = variations_by_language(variations)
        defaults = by_language.get(DEFAULT) or []
        if not defaults:
            continue  # reported above
        want_payloads = [b.get("payload") for b in defaults[0].get("buttons") or []]
        for code in CONDITIONED:
            for variation in by_language.get(code) or []:
                payloads = [b.get("payload") for b in variation.get("buttons") or []]
                if payloads != want_payloads:
                    problems.append(f"{name}: {code} buttons {payloads}, nb buttons {want_payloads}")
                if any(not str(b.get("title") or "").strip() for b in variation.get("buttons") or []):
                    problems.append(f"{name}: a {code} button has no title")
    assert not problems, report(problems)


# --- the gateway's own texts --------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_gateway_text_is_in_every_language(key: str) -> None:
    entry = TEXTS[key]
    missing = [code for code in LANGUAGES if not (entry.get(code) or "").strip()]
    assert not missing, f"bot/web/texts.py {key!r}: missing {', '.join(missing)}"
    want = placeholders(entry[DEFAULT])
    for code in LANGUAGES:
        assert placeholders(entry[code]) == want, (
            f"bot/web/texts.py {key!r}: {code} fills {sorted(placeholders(entry[code]))}, nb fills {sorted(want)}"
        )


# --- the chat widget ----------------------------------------------------------------------------


class JsLiteral:
    """Reads one JavaScript object literal of plain data (objects, arrays, strings, numbers, true,
    false, null; comments and trailing commas allowed): enough for the widget's TEXTS table."""

    _SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)+", re.DOTALL)
    _NAME = re.compile(r"[A-Za-z_$][\w$]*")
    _NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
    _ESCAPES: ClassVar[dict[str, str]] = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}

    def __init__(self, source: str, start: int) -> None:
        self.source = source
        self.at = start

    def fail(self, what: str) -> AssertionError:
        line = self.source.count("\n", 0, self.at) + 1
        return AssertionError(f"widget.js line {line}: {what} (near {self.source[self.at : self.at + 30]!r})")

    def skip(self) -> None:
        match = self._SPACE.match(self.source, self.at)
        if match:
            self.at = match.end()

    def peek(self) -> str:
        self.skip()
        return self.source[self.at : self.at + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.at += 1

    def value(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char in "\"'`":
            return self.string()
        number = self._NUMBER.match(self.source, self.at)
        if number:
            self.at = number.end()
            return float(number.group()) if "." in number.group() else int(number.group())
        name = self._NAME.match(self.source, self.at)
        if name and name.group() in ("true", "false", "null"):
            self.at = name.end()
            return {"true": True, "false": False, "null": None}[name.group()]
        raise self.fail("not plain data")

    def object(self) -> dict[str, Any]:
        self.expect("{")
        result: dict[str, Any] = {}
        while self.peek() != "}":
            if self.peek() in "\"'":
                key = self.string()
            else:
                name = self._NAME.match(self.source, self.at)
                if not name:
                    raise self.fail("expected a key")
                key, self.at = name.group(), name.end()
            if key in result:
                raise self.fail(f"key {key!r} twice")
            self.expect(":")
            result[key] = self.value()
            if self.peek() != ",":
                break
            self.at += 1
        self.expect("}")
        return result

    def array(self) -> list[Any]:
        self.expect("[")
        result = []
        while self.peek() != "]":
            result.append(self.value())
            if self.peek() != ",":
                break
            self.at += 1
        self.expect("]")
        return result

    def string(self) -> str:
        quote = self.source[self.at]
        self.at += 1
        out = []
        while True:
            if self.at >= len(self.source):
                raise self.fail("unterminated string")
            char = self.source[self.at]
            if char == quote:
                self.at += 1
                return "".join(out)
            if quote == "`" and self.source.startswith("${", self.at):
                raise self.fail("a template with ${...} is not plain data")
            if char == "\\":
                nxt = self.source[self.at + 1]
                if nxt == "u":
                    out.append(chr(int(self.source[self.at + 2 : self.at + 6], 16)))
                    self.at += 6
                    continue
                if nxt == "x":
                    out.append(chr(int(self.source[self.at + 2 : self.at + 4], 16)))
                    self.at += 4
                    continue
                out.append(self._ESCAPES.get(nxt, nxt))
                self.at += 2
                continue
            if char == "\n" and quote != "`":
                raise self.fail("line break in a string")
            out.append(char)
            self.at += 1


WIDGET = ROOT / "bot" / "gateway" / "static" / "widget.js"


def widget_source() -> str:
    return WIDGET.read_text(encoding="utf-8")


def widget_texts() -> dict[str, dict[str, Any]]:
    source = widget_source()
    start = re.search(r"\bconst\s+TEXTS\s*=\s*", source)
    assert start, "widget.js: no `const TEXTS = {...}` table"
    return JsLiteral(source, start.end()).object()


def test_the_js_reader_reads_what_the_widget_may_contain() -> None:
    source = """{ nb: { a: "x \\"y\\" \\u00e5", 'b': ['1 – c', `d`], }, /* note */ en: {a: 'it\\'s', b: [],}, // end
    }"""
    assert JsLiteral(source, 0).object() == {"nb": {"a": 'x "y" å', "b": ["1 – c", "d"]}, "en": {"a": "it's", "b": []}}
    with pytest.raises(AssertionError, match="not plain data"):
        JsLiteral("{ nb: { a: someVariable } }", 0).object()


def test_the_widget_has_every_language_with_the_same_labels() -> None:
    texts = widget_texts()
    missing = [code for code in LANGUAGES if code not in texts]
    assert not missing, f"widget.js TEXTS: missing {', '.join(missing)}"
    want = set(texts[DEFAULT])
    problems = []
    for code in LANGUAGES:
        got = set(texts[code])
        problems += [f"widget.js TEXTS.{code}: missing {key!r} (nb has it)" for key in sorted(want - got)]
        problems += [f"widget.js TEXTS.{code}: {key!r} is not in nb" for key in sorted(got - want)]
        for key in sorted(want & got):
            value = texts[code][key]
            values = value if isinstance(value, list) else [value]
            if not values or any(not isinstance(v, str) or not v.strip() for v in values):
                problems.append(f"widget.js TEXTS.{code}.{key}: empty")
            elif isinstance(texts[DEFAULT][key], list) and len(values) != len(texts[DEFAULT][key]):
                problems.append(
                    f"widget.js TEXTS.{code}.{key}: {len(values)} entries, nb has {len(texts[DEFAULT][key])}"
                )
    assert not problems, report(problems)


def test_the_widget_rates_in_five_steps_in_every_language() -> None:
    texts = widget_texts()
    for code in LANGUAGES:
        assert len(texts[code]["rates"]) == 5, f"widget.js TEXTS.{code}.rates: want 5 labels"
        assert texts[code]["rateQ"].strip(), f"widget.js TEXTS.{code}.rateQ: empty"


def test_the_widget_accepts_every_language() -> None:
    """pickLang keeps a language TEXTS has (falling back to nb), or else names each one."""
    source = widget_source()
    definition = re.search(r"\bpickLang\s*=\s*\([^)]*\)\s*=>[^\n;]*", source)
    assert definition, "widget.js: no pickLang"
    body = definition.group()
    if "TEXTS" not in body:
        missing = [code for code in LANGUAGES if f'"{code}"' not in body and f"'{code}'" not in body]
        assert not missing, f"widget.js pickLang: does not accept {', '.join(missing)}"


# --- the demo shop page --------------------------------------------------------------------------


def test_the_demo_page_serves_each_customer_in_their_own_language() -> None:
    page = (ROOT / "bot" / "gateway" / "static" / "demo.html").read_text(encoding="utf-8")
    on_page = dict(re.findall(r'"(C-\d+)":\s*\{[^}]*\blanguage:\s*"(\w+)"', page))
    with (ROOT / "bot" / "fixtures" / "shop.yml").open(encoding="utf-8") as file:
        customers = {c["id"]: c["language"] for c in yaml.safe_load(file)["customers"]}
    for customer_id, language in customers.items():
        assert on_page.get(customer_id) == language, (
            f"demo.html: {customer_id} is served in {on_page.get(customer_id)!r}; shop.yml says {language!r}"
        )
    assert set(customers.values()) == set(LANGUAGES), "the demo customers between them speak all four languages"


# --- the agents' console ------------------------------------------------------------------------


def test_canned_replies_in_every_language_alike() -> None:
    replies = canned._CANNED
    missing = [code for code in LANGUAGES if not replies.get(code)]
    assert not missing, f"bot/console/canned.py: no canned replies in {', '.join(missing)}"
    want = replies[DEFAULT]
    for code in LANGUAGES:
        assert len(replies[code]) == len(want), (
            f"bot/console/canned.py {code}: {len(replies[code])} replies, nb has {len(want)}"
        )
        for (nb_title, nb_text), (title, text) in zip(want, replies[code], strict=True):
            assert title.strip() and text.strip(), f"bot/console/canned.py {code}: an empty reply (nb {nb_title!r})"
            assert placeholders(text) == placeholders(nb_text), (
                f"bot/console/canned.py {code} {title!r}: fills {sorted(placeholders(text))}, "
                f"nb {nb_title!r} fills {sorted(placeholders(nb_text))}"
            )


def test_the_console_names_every_language() -> None:
    for table, where in ((canned.LANGUAGE_NAMES, "canned.LANGUAGE_NAMES"), (present.LANGUAGES, "present.LANGUAGES")):
        missing = [code for code in LANGUAGES if not (table.get(code) or "").strip()]
        assert not missing, f"bot/console/{where}: missing {', '.join(missing)}"
    assert canned.LANGUAGE_NAMES == {"nb": "Norsk", "sv": "Svenska", "da": "Dansk", "en": "English"}


# --- words in code ---------------------------------------------------------------------------------


def test_the_return_forms_all_items_button_is_in_every_language() -> None:
    missing = [code for code in LANGUAGES if not (ALL_ITEMS_TITLES.get(code) or "").strip()]
    assert not missing, f"actions/returns.py ALL_ITEMS_TITLES: missing {', '.join(missing)}"
