"""Text from the data goes into markdown only escaped: a link, a tag or emphasis in a CRM field shows as
typed. (The browser test of stored XSS renders it; this pins the escaping itself.)"""

from __future__ import annotations

import re

import pytest

from ui.widgets import MARKDOWN_SPECIALS, plain

NASTY = [
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ `code`",
    "$x$ # h1 \\",
]


@pytest.mark.parametrize("text", NASTY)
def test_every_markdown_character_is_escaped_and_nothing_else_changes(text: str) -> None:
    escaped = plain(text)
    unescaped = re.sub(r"\\(.)", "", escaped)  # drop every escaped pair: what is left must be harmless
    assert not set(unescaped) & MARKDOWN_SPECIALS, escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == text


def test_ordinary_names_stay_as_they_are() -> None:
    assert plain("Mid Market") == "Mid Market"
    assert plain("O'Brien") == "O'Brien"
