from __future__ import annotations

import doctest

import pytest

import authz.normalise
from authz.normalise import normalise


@pytest.mark.parametrize(
    ("field", "raw", "canonical"),
    [
        ("id_number", "41070219900101123x", "41070219900101123X"),
        ("id_number", " 410702 19900101 123X\n", "41070219900101123X"),
        ("id_number", "\uff14\uff11\uff10\uff17\uff10\uff12199001011234", "410702199001011234"),
        ("id_number", "41070219900101123\uff58", "41070219900101123X"),  # full-width x
        ("phone", "139 0373 0000", "13903730000"),
        ("phone", "+86 139-0373-0000", "13903730000"),
        ("phone", "0086(139)03730000", "13903730000"),
        ("phone", "0373-1234567", "03731234567"),
        ("account_no", "6222 0202 0011 2233 445", "6222020200112233445"),
        ("account_no", "6222-0202-0011-2233-445", "6222020200112233445"),
        ("name", "  张三 ", "张三"),
        ("name", "Zhang\u3000 San", "Zhang San"),  # ideographic space folds to a space
        ("name", "zhang san", "zhang san"),  # case is kept outside ID numbers
        ("address", "人民路  12号\t3单元", "人民路 12号 3单元"),
        ("address", "人民路１２号", "人民路12号"),
        ("hukou_no", " 12 34 ", "12 34"),
    ],
)
def test_normalise(field: str, raw: str, canonical: str) -> None:
    assert normalise(raw, field=field) == canonical
    assert normalise(canonical, field=field) == canonical  # idempotent


def test_module_examples_run() -> None:
    result = doctest.testmod(authz.normalise)
    assert result.attempted == 2
    assert result.failed == 0
