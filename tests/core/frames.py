"""Tiny hand-made lead frames for the metric tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from core.schema import LEADS_SCHEMA


def leads(*rows: dict[str, Any]) -> pl.DataFrame:
    """A LEADS_SCHEMA frame from partial rows (missing columns are null, ids are numbered)."""
    full = [{"id": i + 1, **row} for i, row in enumerate(rows)]
    return pl.DataFrame(full, schema=LEADS_SCHEMA)


def d(text: str) -> datetime:
    return datetime.fromisoformat(text)
