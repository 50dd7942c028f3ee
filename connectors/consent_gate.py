"""The consent gate: nobody is asked about, and nothing is stored about, without consent.

Subject mode: before a department is asked, each ID number is checked against
the authorisations its holder signed (read from the graph, decided by
`authz.consent`); the allowed ones are grouped by the authorisation number
that covers them, and the refused ones are reported with a reason and never
sent. Bulk mode: a department's export covers everyone, so each record is kept
only if at least one person it is about has a valid authorisation covering
that department; the rest are dropped before they reach the graph (counted,
never stored). A household record is kept when a kept membership names it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from neo4j import AsyncDriver

from authz.consent import ConsentDecision, decide_consent
from graph.consent_store import authorisations_signed_by
from graph.model import HouseholdRecord, MembershipRecord, Record

Blind = Callable[[str], str]


@dataclass
class SubjectPlan:
    """Who may be asked, under which authorisation number; who may not, and why."""

    by_authorisation: dict[str, list[str]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # blind ref -> reason


class ConsentGate:
    def __init__(self, driver: AsyncDriver, database: str, blind: Blind) -> None:
        self._driver = driver
        self._database = database
        self._blind = blind

    async def decisions(
        self, id_numbers: Iterable[str], department: str, at: date
    ) -> dict[str, ConsentDecision]:
        refs = {id_number: self._blind(id_number) for id_number in id_numbers}
        signed = await authorisations_signed_by(self._driver, self._database, set(refs.values()))
        return {
            id_number: decide_consent(signed.get(ref, []), department, at)
            for id_number, ref in refs.items()
        }

    async def plan_subjects(
        self, id_numbers: Iterable[str], department: str, at: date
    ) -> SubjectPlan:
        plan = SubjectPlan()
        grouped: dict[str, list[str]] = defaultdict(list)
        for id_number, decision in (await self.decisions(id_numbers, department, at)).items():
            if decision.allowed and decision.auth_no is not None:
                grouped[decision.auth_no].append(id_number)
            else:
                plan.refused[self._blind(id_number)] = decision.reason.value
        plan.by_authorisation = dict(grouped)
        return plan

    async def filter_items(
        self,
        items: list[object],
        subject_of: Callable[[object], str | None],
        department: str,
        at: date,
    ) -> tuple[list[object], int]:
        """Raw items about someone who did not consent are dropped unread (not even parsed).

        Items whose subject cannot be told stay, for `filter_records` to judge
        after parsing. Returns the items kept and how many were dropped.
        """
        subjects = [subject_of(item) for item in items]
        known = {s for s in subjects if s is not None}
        decisions = await self.decisions(known, department, at) if known else {}
        kept = [
            item
            for item, subject in zip(items, subjects, strict=True)
            if subject is None or decisions[subject].allowed
        ]
        return kept, len(items) - len(kept)

    async def filter_records(
        self, records: list[Record], department: str, at: date
    ) -> tuple[list[Record], int]:
        """The records some consenting person is about, and how many were dropped."""
        subjects = {s for record in records for s in record.subjects()}
        decisions = await self.decisions(subjects, department, at)
        allowed = {s for s, decision in decisions.items() if decision.allowed}
        kept = [r for r in records if r.subjects() and r.subjects() & allowed]
        named = {r.hukou_no for r in kept if isinstance(r, MembershipRecord)}
        kept += [r for r in records if isinstance(r, HouseholdRecord) and r.hukou_no in named]
        return kept, len(records) - len(kept)
