"""The consent gate: nobody is asked about, and nothing is stored about, without consent.

Subject mode: before a department is asked, each ID number is checked against
the authorisations its holder signed (read from the graph, decided by
`authz.consent`); the allowed ones are grouped by the authorisation number
that covers them, and the refused ones are reported with a reason and never
sent. Bulk mode: a department's export covers everyone, so each record is kept
only if at least one person it is about has a valid authorisation covering
that department; the rest are dropped before they reach the graph (counted,
never stored). A household record is kept when a kept membership names it.

Why bulk mode decides once per run: a department's export is mostly about
people who never consented (over 90 % of it in the sandbox city), so asking
the graph about every person on every page cost more than the pages
themselves. A bulk run reads, once, everyone who signed an authorisation
covering the department, decides each of them with `authz.consent` as of the
run's date, and keeps pages against that set in memory. An authorisation
recorded or revoked while a run is under way takes effect from the next run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from neo4j import AsyncDriver, RoutingControl

from authz.consent import ConsentDecision, decide_consent
from graph.consent_store import authorisations_signed_by
from graph.model import HouseholdRecord, MembershipRecord, Record

Blind = Callable[[str], str]
SIGNERS_FOR = """
MATCH (p:Person)-[:SIGNED]->(a:Authorisation)
WHERE $department IN a.departments
RETURN DISTINCT p.pid AS pid
"""


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

    async def for_bulk(self, department: str, at: date) -> BulkConsent:
        """Everyone whose consent lets `department`'s records about them be kept, as of `at`."""
        records, _, _ = await self._driver.execute_query(
            SIGNERS_FOR,
            department=department,
            database_=self._database,
            routing_=RoutingControl.READ,
        )
        signers = {str(r["pid"]) for r in records}
        signed = await authorisations_signed_by(self._driver, self._database, signers)
        allowed = frozenset(
            pid for pid in signers if decide_consent(signed.get(pid, []), department, at).allowed
        )
        return BulkConsent(allowed, self._blind)


class BulkConsent:
    """The consenting people of one department for one bulk run, by blind index."""

    def __init__(self, allowed: frozenset[str], blind: Blind) -> None:
        self.allowed = allowed
        self._blind = blind
        self._verdicts: dict[str, bool] = {}  # a person recurs on many pages and records

    def permits(self, id_number: str) -> bool:
        verdict = self._verdicts.get(id_number)
        if verdict is None:
            verdict = self._verdicts[id_number] = self._blind(id_number) in self.allowed
        return verdict

    def filter_items(
        self, items: list[object], subject_of: Callable[[object], str | None]
    ) -> tuple[list[object], int]:
        """Raw items about someone who did not consent are dropped unread (not even parsed).

        Items whose subject cannot be told stay, for `filter_records` to judge
        after parsing. Returns the items kept and how many were dropped.
        """
        kept = []
        for item in items:
            subject = subject_of(item)
            if subject is None or self.permits(subject):
                kept.append(item)
        return kept, len(items) - len(kept)

    def filter_records(self, records: list[Record]) -> tuple[list[Record], int]:
        """The records some consenting person is about, and how many were dropped."""
        kept = [r for r in records if any(self.permits(s) for s in r.subjects())]
        named = {r.hukou_no for r in kept if isinstance(r, MembershipRecord)}
        kept += [r for r in records if isinstance(r, HouseholdRecord) and r.hukou_no in named]
        return kept, len(records) - len(kept)
