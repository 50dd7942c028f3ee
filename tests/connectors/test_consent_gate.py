"""Bulk consent kept in memory: what a page keeps, given who consented (no Neo4j needed)."""

from __future__ import annotations

from connectors.consent_gate import BulkConsent
from graph.model import HouseholdRecord, MembershipRecord, PersonRecord, RelationRecord
from tests.graph.records import household_records
from tests.sandbox.servers.tiny_city import PEOPLE


def blind(id_number: str) -> str:
    return f"ref:{id_number}"


def subject_of(item: object) -> str | None:
    subject = item.get("id") if isinstance(item, dict) else None
    return subject if isinstance(subject, str) else None


def test_items_about_people_without_consent_are_dropped_unread() -> None:
    consent = BulkConsent(frozenset({blind(PEOPLE.head)}), blind)
    items: list[object] = [
        {"id": PEOPLE.head},
        {"id": PEOPLE.outsider},
        {"unknown": "shape"},
    ]
    kept, dropped = consent.filter_items(items, subject_of)
    assert kept == [{"id": PEOPLE.head}, {"unknown": "shape"}]
    assert dropped == 1


def test_records_keep_a_consenting_person_their_relations_and_named_households() -> None:
    records = household_records()
    consent = BulkConsent(frozenset({blind(PEOPLE.spouse)}), blind)
    kept, dropped = consent.filter_records(records)
    assert dropped == len(records) - len(kept)
    persons = {r.id_number for r in kept if isinstance(r, PersonRecord)}
    assert persons == {PEOPLE.spouse}
    assert all(PEOPLE.spouse in r.subjects() for r in kept if isinstance(r, RelationRecord))
    assert any(isinstance(r, RelationRecord) for r in kept)  # the spouse relation
    assert [r.id_number for r in kept if isinstance(r, MembershipRecord)] == [PEOPLE.spouse]
    assert len([r for r in kept if isinstance(r, HouseholdRecord)]) == 1


def test_nobody_consenting_keeps_nothing() -> None:
    records = household_records()
    kept, dropped = BulkConsent(frozenset(), blind).filter_records(records)
    assert (kept, dropped) == ([], len(records))
