"""Narrowing department JSON: a wrong shape is a malformed item, raised as TypeError."""

from __future__ import annotations

from datetime import date
from typing import Any


def as_dict(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected a JSON object")
    return value


def as_list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError("expected a JSON array")
    return value


def optional_date(value: object) -> date | None:
    """None for null/empty; a date for an ISO string; TypeError for anything else."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError("expected an ISO date string")
    return date.fromisoformat(value)
