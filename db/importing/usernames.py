"""Readable, unique usernames for people an import brings in (they cannot log in until an admin says so)."""

from __future__ import annotations

import re
from collections.abc import Collection

MAX_USERNAME = 120
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
NOT_ALLOWED = re.compile(r"[^a-z0-9._-]+")


def looks_like_email(text: str) -> bool:
    return bool(EMAIL.fullmatch(text))


def username_from(text: str) -> str:
    """'Moses Frase' -> 'moses.frase'; never empty."""
    slug = NOT_ALLOWED.sub(".", text.strip().lower()).strip("._-")
    return re.sub(r"\.{2,}", ".", slug)[:100] or "user"


def unique_username(hint: str, taken: Collection[str]) -> str:
    """`hint` made into a username, with -2, -3... when another user already has it."""
    base = username_from(hint)
    candidate, number = base, 2
    while candidate in taken:
        candidate = f"{base}-{number}"
        number += 1
    return candidate
