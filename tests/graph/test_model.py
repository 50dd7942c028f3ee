"""Domain records: the assistance roll's grant, refused when inconsistent, never echoed."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from graph.model import AssistanceRecord
from tests.graph.records import HUKOU
from tests.graph.records import assistance_grant as grant
from tests.sandbox.servers.tiny_city import PEOPLE


def test_a_consistent_tekun_grant_is_accepted() -> None:
    record = grant("TK41070200000004", PEOPLE.elder, "tekun", care_level="self")
    assert (record.kind, record.care_level, record.subjects()) == (
        "assistance",
        "self",
        frozenset({PEOPLE.elder}),
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "tekun"}, "care level"),
        ({"care_level": "half"}, "care level"),
        ({"valid_to": date(2020, 1, 1)}, "ends before it starts"),
        ({"source_record_id": "XX00000000"}, "grant number"),
        ({"township_code": "4107020"}, "township_code"),
    ],
)
def test_inconsistent_grants_are_refused_without_echoing_them(
    change: dict[str, object], field: str
) -> None:
    data = {**grant("DB41070200000001", PEOPLE.head).model_dump(), **change}
    with pytest.raises(ValidationError, match=field) as raised:
        AssistanceRecord.model_validate(data)
    assert PEOPLE.head not in str(raised.value)
    assert HUKOU not in str(raised.value)
