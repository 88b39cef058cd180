"""The conversation's language: the page's guess first, switched only on clear evidence."""

import pytest

from bot.language import choose_language


@pytest.mark.parametrize(
    ("text", "current", "page", "expected"),
    [
        ("Where is my order?", None, "nb", "en"),  # clear English on a Norwegian page
        ("hvor er pakken min", "en", None, "nb"),  # clear Norwegian in an English conversation
        ("hello", None, "nb", "nb"),  # one word is weak evidence: keep the page's language
        ("ok", "en", "nb", "en"),  # nothing to go on: keep the conversation's language
        ("10234", "en", None, "en"),
        ("Hvornår kommer min pakke?", "nb", None, "nb"),  # Danish stays in the Scandinavian answer
        ("takk", "en", None, "en"),
        ("hei", None, None, "nb"),
        ("I want to return my boots", None, "sv", "en"),  # unsupported page language falls back
        ("", None, "en", "en"),
    ],
)
def test_choose_language(text: str, current: str | None, page: str | None, expected: str) -> None:
    assert choose_language(text, current, page) == expected
