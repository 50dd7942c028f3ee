"""Opaque cursors bound to the query they page through.

A cursor is base64url JSON of the last key sent and a digest of the query;
presenting it with a different query is refused rather than silently paging
through the wrong result.
"""

from __future__ import annotations

import base64
import hashlib
import json

from sandbox.servers.errors import bad_request


def query_digest(query: object) -> str:
    text = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_cursor(last_key: str, query: object) -> str:
    raw = json.dumps({"k": last_key, "q": query_digest(query)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, query: object) -> str:
    """The key to continue after ('' for the first page), or a clear 400."""
    if cursor is None or cursor == "":
        return ""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key, digest = data["k"], data["q"]
    except (ValueError, KeyError, TypeError):
        raise bad_request("INVALID_CURSOR", "the cursor is not one this server issued") from None
    if not isinstance(key, str) or digest != query_digest(query):
        raise bad_request("CURSOR_MISMATCH", "the cursor belongs to a different query")
    return key


def page_limit(value: object, default: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    try:
        limit: int = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise bad_request("INVALID_LIMIT", f"limit must be an integer 1..{maximum}") from None
    if not 1 <= limit <= maximum:
        raise bad_request("INVALID_LIMIT", f"limit must be an integer 1..{maximum}")
    return limit
