from __future__ import annotations

import pytest

from authz._encoding import b64url_decode, b64url_encode, length_prefixed


def test_length_prefixed_parts_cannot_slide_into_each_other() -> None:
    assert length_prefixed("ab", "c") != length_prefixed("a", "bc")
    assert length_prefixed("abc") != length_prefixed("ab", "c")
    assert length_prefixed("", "abc") != length_prefixed("abc", "")


def test_length_prefixed_layout() -> None:
    assert length_prefixed(b"ab", "张") == b"\x00\x00\x00\x02ab\x00\x00\x00\x03" + "张".encode()


@pytest.mark.parametrize("size", range(40))
def test_b64url_round_trips_without_padding(size: int) -> None:
    data = bytes(range(256))[-size:] if size else b""
    text = b64url_encode(data)
    assert "=" not in text
    assert "." not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "AAE=",  # padded
        "AA+/",  # standard alphabet
        "AB",  # unused bits set: decodes like "AA" but is not what encode gives
        "A",  # impossible length
        "AA E",  # junk the lenient decoder would skip
        "AAé",
    ],
)
def test_b64url_refuses_non_canonical_text(text: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(text)
