"""Add one NLU example to data/nlu/<language>/<topic>.yml, so that `git diff` shows exactly one added line.

The file is edited as text, not re-dumped from a YAML tree: the example line goes at the end of the
intent's `examples: |` block with the block's own indentation, and every other byte stays as it was
(comments, order, quoting, blank lines). The result is parsed again before it is kept.

An example is refused when it is empty, too long, more than one line, uses unknown entity markup,
already exists in the training data (for any intent, in any language), or is one of the held-out
test examples: training on those would inflate the very scores that decide whether a model goes live.

About 340 lines on purpose: the text edit, its checks and the file lock are one guarantee (one added line,
nothing else touched), and they stay together.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from bot.patterns import EMAIL_RE, ORDER_ID, ORDER_ID_RE
from bot.training.workspace import Workspace

MAX_EXAMPLE_CHARS = 500
ENTITIES = ("order_id", "email")
# Intents whose 4-6 digit numbers are order numbers, annotated as docs/intents.md asks. Elsewhere a number
# is left alone ("how many points for a 1000 kr purchase").
ORDER_INTENTS = frozenset({"order_status", "inform", "start_return", "complaint", "faq_cancellation", "refund_status"})

# [value](entity), [value](entity:synonym) or [value]{"entity": ...}: Rasa's entity markup.
ENTITY_MARKUP = re.compile(r"\[(?P<value>[^\]]+)\](?:\((?P<name>[^)]+)\)|(?P<json>\{[^}]*\}))")
# An order number (bot/patterns.py) not right inside brackets: "[10234]" would become broken markup.
_ORDER_ID_TO_ANNOTATE = re.compile(rf"(?<!\[){ORDER_ID}(?!\])")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Private-use characters stand in for masked entities and survive normalising.
MASKS = {"order_id": "\ue000", "email": "\ue001"}
FOLD = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss"})  # NFKD leaves these whole


class ExampleRejected(ValueError):
    """The example can't be added; the message says why, in words a trainer understands."""


@dataclass(frozen=True)
class AddedExample:
    path: Path  # the YAML file that changed
    line_number: int  # 1-based number of the added line
    intent: str
    language: str
    text: str  # as written to the file, with entity markup


# Normalising follows tests/nlu/check_held_out.py, so an example accepted here never fails that check.
def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().translate(FOLD))
    return "".join(ch for ch in text if ch.isalnum() or ch in MASKS.values())


def exact_key(text: str) -> str:
    return normalise(ENTITY_MARKUP.sub(lambda m: m["value"], text))


def _entity_name(match: re.Match[str]) -> str:
    if match["json"]:
        try:
            return str(json.loads(match["json"]).get("entity", ""))
        except ValueError:
            return ""
    return match["name"].split(":")[0].strip()


def masked_key(text: str) -> str:
    text = ENTITY_MARKUP.sub(lambda m: MASKS.get(_entity_name(m), m["value"]), text)
    text = EMAIL_RE.sub(MASKS["email"], text)
    return normalise(ORDER_ID_RE.sub(MASKS["order_id"], text))


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) for every example in one Rasa NLU YAML file."""
    return parse_examples(path.read_text(encoding="utf-8"))


def parse_examples(content: str) -> list[tuple[str, str]]:
    data = YAML(typ="safe").load(content) or {}
    found = []
    for block in data.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue  # regex, lookup and synonym blocks hold no examples
        items = block.get("examples") or []
        if isinstance(items, str):
            items = [line.strip()[2:] for line in items.splitlines() if line.strip().startswith("- ")]
        for item in items:
            text = item.get("text", "") if isinstance(item, dict) else str(item)
            found.append((str(block["intent"]), text.strip()))
    return found


def known_intents(workspace: Workspace) -> list[str]:
    domain = YAML(typ="safe").load(workspace.domain_file.read_text(encoding="utf-8")) or {}
    return [next(iter(i)) if isinstance(i, dict) else str(i) for i in domain.get("intents") or []]


def topic_file(workspace: Workspace, intent: str, language: str) -> Path:
    """The file that holds the intent's examples in this language; the topic follows the data itself
    (docs/intents.md's table), so a new language gets the same file names as the others."""
    for candidate_language in (language, *(lang for lang in workspace.languages if lang != language)):
        folder = workspace.nlu_dir / candidate_language
        for path in sorted(folder.glob("*.yml")):
            if _intent_line(path.read_text(encoding="utf-8").splitlines(), intent) is not None:
                return workspace.nlu_dir / language / path.name
    raise ExampleRejected(f"No file in {workspace.nlu_dir} has examples of intent '{intent}' yet; add its block first.")


def clean_text(text: str, intent: str) -> str:
    """One tidy line, with the entity markup docs/intents.md asks for; raises ExampleRejected."""
    if not isinstance(text, str):
        raise ExampleRejected("The example must be text.")
    if "\n" in text.strip() or "\r" in text.strip():
        raise ExampleRejected("An example is one message: no line breaks.")
    text = " ".join(text.split())
    if not text:
        raise ExampleRejected("The example is empty.")
    if len(text) > MAX_EXAMPLE_CHARS:
        raise ExampleRejected(f"The example has {len(text)} characters; at most {MAX_EXAMPLE_CHARS} are allowed.")
    if CONTROL.search(text):
        raise ExampleRejected("The example contains control characters.")
    if text.startswith("/"):
        raise ExampleRejected("An example can't start with '/': Rasa reads that as an intent name.")
    for match in ENTITY_MARKUP.finditer(text):
        if _entity_name(match) not in ENTITIES:
            raise ExampleRejected(f"Unknown entity in {match.group(0)!r}; known entities: {', '.join(ENTITIES)}.")
    return annotate(text, intent)


def annotate(text: str, intent: str) -> str:
    """Mark up e-mail addresses, and order numbers in order-related intents, outside existing markup."""
    parts = []
    position = 0
    for match in ENTITY_MARKUP.finditer(text):
        parts.append(_annotate_plain(text[position : match.start()], intent))
        parts.append(match.group(0))
        position = match.end()
    parts.append(_annotate_plain(text[position:], intent))
    return "".join(parts)


def _annotate_plain(text: str, intent: str) -> str:
    emails = list(EMAIL_RE.finditer(text))
    out, position = [], 0
    for match in emails:
        out.append(_annotate_numbers(text[position : match.start()], intent))
        out.append(f"[{match.group(0)}](email)")
        position = match.end()
    out.append(_annotate_numbers(text[position:], intent))
    return "".join(out)


def _annotate_numbers(text: str, intent: str) -> str:
    if intent not in ORDER_INTENTS:
        return text
    return _ORDER_ID_TO_ANNOTATE.sub(lambda m: f"[{m.group(0)}](order_id)", text)


def check_new(workspace: Workspace, intent: str, text: str) -> None:
    """Refuse a duplicate of any training example, and any held-out test example (exact or near)."""
    key = exact_key(text)
    for path in sorted(workspace.nlu_dir.rglob("*.yml")):
        for other_intent, other in load_examples(path):
            if exact_key(other) == key:
                where = path.relative_to(workspace.root)
                if other_intent == intent:
                    raise ExampleRejected(f"Already an example of '{intent}' in {where}: {other!r}.")
                raise ExampleRejected(f"Already in {where} as an example of '{other_intent}': {other!r}.")
    masked = masked_key(text)
    for path in workspace.nlu_test_files.values():
        for _, other in load_examples(path):
            if masked_key(other) == masked:
                raise ExampleRejected(
                    f"This is (nearly) a held-out test example ({path.relative_to(workspace.root)}); "
                    "training on it would make the evaluation meaningless."
                )


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One writer at a time in data/nlu (two trainers clicking at once)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def _intent_line(lines: list[str], intent: str) -> int | None:
    pattern = re.compile(rf"""^\s*-\s*intent:\s*["']?{re.escape(intent)}["']?\s*(#.*)?$""")
    return next((i for i, line in enumerate(lines) if pattern.match(line)), None)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _insertion_point(lines: list[str], intent: str) -> tuple[int, str] | None:
    """(index to insert at, indentation of an example line) inside the intent's `examples: |` block."""
    start = _intent_line(lines, intent)
    if start is None:
        return None
    block_indent = _indent(lines[start])
    examples_key = re.compile(r"^(\s*)examples:\s*\|[-+]?\s*(#.*)?$")
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if line.strip() and _indent(line) <= block_indent:
            return None  # the next block started: this intent has no `examples: |`
        key = examples_key.match(line)
        if not key:
            continue
        key_indent = len(key.group(1))
        last, example_indent = index, " " * (key_indent + 2)
        for inner in range(index + 1, len(lines)):
            if not lines[inner].strip():
                continue
            if _indent(lines[inner]) <= key_indent:
                break
            last = inner
            if lines[inner].lstrip().startswith("- "):
                example_indent = " " * _indent(lines[inner])
        return last + 1, example_indent
    return None


def _read_exactly(path: Path) -> str:
    """The file's text with its own line endings (read_text() would turn CRLF into LF)."""
    with path.open(encoding="utf-8", newline="") as file:
        return file.read()


def _write_atomically(path: Path, content: str) -> None:
    mode = path.stat().st_mode & 0o777
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_example(intent: str, language: str, text: str, workspace: Workspace | None = None) -> AddedExample:
    """Write one example; raises ExampleRejected with the reason when it can't or shouldn't be added."""
    workspace = workspace or Workspace()
    if language not in workspace.languages:
        raise ExampleRejected(f"Unknown language '{language}'; known: {', '.join(workspace.languages)}.")
    intents = known_intents(workspace)
    if intent not in intents:
        raise ExampleRejected(f"Unknown intent '{intent}'; the domain's intents are: {', '.join(intents)}.")
    line_text = clean_text(text, intent)
    with _locked(workspace.nlu_dir):
        check_new(workspace, intent, line_text)
        path = topic_file(workspace, intent, language)
        original = _read_exactly(path) if path.exists() else ""
        newline = "\r\n" if "\r\n" in original else "\n"
        lines = original.splitlines(keepends=True)
        point = _insertion_point([line.rstrip("\r\n") for line in lines], intent)
        if point is None:  # no block for this intent in this file yet: a new block at the end
            if lines and not lines[-1].endswith(("\n", "\r")):
                lines[-1] += newline
            if not lines:
                lines = [f'version: "3.1"{newline}', f"nlu:{newline}"]
            lines += [f"- intent: {intent}{newline}", f"  examples: |{newline}"]
            index, indent = len(lines), "    "
        else:
            index, indent = point
            if index == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
                lines[-1] += newline
        lines.insert(index, f"{indent}- {line_text}{newline}")
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, "".join(lines))
        if not _verify(path, intent, line_text, parse_examples(original)):
            _write_atomically(path, original)
            raise ExampleRejected(f"Writing the example would not have kept {path.name} valid; nothing changed.")
    return AddedExample(path=path, line_number=index + 1, intent=intent, language=language, text=line_text)


def _verify(path: Path, intent: str, text: str, before: list[tuple[str, str]]) -> bool:
    """The file parses, and holds exactly what it held before plus this one example of this intent."""
    try:
        after = load_examples(path)
    except Exception:
        return False
    return sorted(after) == sorted([*before, (intent, text)])


def remove_example(path: Path, intent: str, text: str) -> bool:
    """Take one example out of its file (the line `- text` in the intent's `examples: |` block), leaving
    every other byte as it was; False when it is not there (removed by hand, or never written). The file
    must parse afterwards to exactly what it held before less that one example, or nothing changes."""
    if not path.exists():
        return False
    with _locked(path.parent.parent):  # data/nlu, the folder add_example locks
        original = _read_exactly(path)
        lines = original.splitlines(keepends=True)
        bare = [line.rstrip("\r\n") for line in lines]
        start = _intent_line(bare, intent)
        if start is None:
            return False
        block_indent = _indent(bare[start])
        for index in range(start + 1, len(bare)):
            line = bare[index]
            if line.strip() and _indent(line) <= block_indent:
                return False  # the next block: not in this intent's examples
            if line.strip() == f"- {text}":
                break
        else:
            return False
        before = parse_examples(original)
        if (intent, text) not in before:
            return False
        expected = list(before)
        expected.remove((intent, text))
        del lines[index]
        _write_atomically(path, "".join(lines))
        try:
            after = load_examples(path)
        except Exception:
            after = None
        if after is None or sorted(after) != sorted(expected):
            _write_atomically(path, original)
            raise ExampleRejected(f"Removing the example would not have kept {path.name} valid; nothing changed.")
    return True
