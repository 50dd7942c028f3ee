"""The connector base: a department connector only fetches and parses; the base does the rest.

A department connector declares its `source`, fetches raw items (subject
mode: exactly the consented ID numbers under one authorisation number, as of
a time point; bulk mode: one page of one partition after a cursor) and turns
one raw item into domain records. The base owns what must be the same for
every department: splitting batches, validating every record, sorting
failures into skippable records with a blind-index reference (never raw
content), and removing duplicates.

HTTP resilience (timeouts, retries, breaker, rate limit) lives in the
`DepartmentClient` each connector is given; the sync loop, state and
quarantine live in `connectors.sync`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import ClassVar, final

from pydantic import ValidationError

from connectors.errors import SkippableRecord
from connectors.http import DepartmentClient
from graph.model import Record, Source

Blind = Callable[[str], str]
_ID_LIKE = re.compile(r"^[1-9][0-9]{16}[0-9Xx]$")


@dataclass(frozen=True)
class DepartmentAccess:
    """How to reach one department: its address, our credential, the bulk agreement."""

    base_url: str
    client_id: str
    secret: str = field(repr=False)
    bulk_agreement_no: str = ""


@dataclass(frozen=True)
class SubjectQuery:
    """Consented ID numbers (the consent gate chose them) under one authorisation number."""

    id_numbers: tuple[str, ...]
    auth_no: str
    as_of: date


@dataclass(frozen=True)
class BulkPage:
    items: list[object]
    next_cursor: str | None  # None: the partition is exhausted for now


@dataclass
class Parsed:
    records: list[Record] = field(default_factory=list)
    skipped: list[SkippableRecord] = field(default_factory=list)
    duplicates: int = 0

    def extend(self, other: Parsed) -> None:
        self.records += other.records
        self.skipped += other.skipped
        self.duplicates += other.duplicates


class Connector(ABC):
    source: ClassVar[Source]
    max_batch: ClassVar[int] = 100
    default_page_size: ClassVar[int] = 1000
    # What the department tolerates from us; the hub builds each client's rate limit from it.
    outbound_rate: ClassVar[float] = 200.0
    outbound_burst: ClassVar[int] = 50

    def __init__(
        self,
        access: DepartmentAccess,
        client: DepartmentClient,
        blind: Blind,
        page_size: int | None = None,
        *,
        reference_date: date | None = None,
    ) -> None:
        self.access = access
        self.client = client
        self.page_size = page_size or self.default_page_size
        # "Today" as the departments see it (a sandbox city lives at its own date).
        self.reference_date = reference_date or date.today()
        self._blind = blind

    # --- what each department connector provides -------------------------------------------

    @abstractmethod
    async def fetch_subjects(self, query: SubjectQuery) -> list[object]:
        """Every raw item the department returns for these subjects (all pages)."""

    @abstractmethod
    def parse_item(self, item: object, fetched_at: datetime) -> list[Record]:
        """Domain records from one raw item; raise on anything malformed (the base sorts it)."""

    @abstractmethod
    async def fetch_bulk_page(self, partition: str, cursor: str | None) -> BulkPage:
        """One page of a partition, after `cursor` (None: from the beginning)."""

    def partitions(self) -> Sequence[str]:
        """Independent bulk streams, each with its own cursor (e.g. one per county)."""
        return ("all",)

    def resume_from(self, partition: str, cursor: str | None, complete: bool) -> str | None:
        """Where a new run of a partition starts, given the saved position.

        The default suits incremental feeds (change feeds, sequence cursors): go on
        from the last page, which is read again harmlessly. A snapshot export that
        must be re-read in full once complete overrides this to return None.
        """
        return cursor

    def subject_of(self, item: object) -> str | None:
        """The ID number a raw item is about, if it can be told; used only to blind-index."""
        if isinstance(item, dict):
            for key in ("id_number", "idNo", "id", "zjhm"):
                value = item.get(key)
                if isinstance(value, str) and _ID_LIKE.match(value):
                    return value.upper()
        return None

    # --- shared, not overridden --------------------------------------------------------------

    @final
    async def pull_subjects(self, query: SubjectQuery) -> Parsed:
        parsed = Parsed()
        for start in range(0, len(query.id_numbers), self.max_batch):
            batch = SubjectQuery(
                query.id_numbers[start : start + self.max_batch], query.auth_no, query.as_of
            )
            items = await self.fetch_subjects(batch)
            parsed.extend(self.parse(items, datetime.now(UTC)))
        return parsed

    @final
    async def pull_bulk_page(self, partition: str, cursor: str | None) -> tuple[Parsed, str | None]:
        page = await self.fetch_bulk_page(partition, cursor)
        return self.parse(page.items, datetime.now(UTC)), page.next_cursor

    @final
    def parse(self, items: Iterable[object], fetched_at: datetime) -> Parsed:
        parsed = Parsed()
        seen: set[tuple[str, str, str]] = set()
        for item in items:
            try:
                records = self.parse_item(item, fetched_at)
            except SkippableRecord as skipped:
                parsed.skipped.append(skipped)
                continue
            except ValidationError as error:
                parsed.skipped.append(self._skip(item, _validation_reason(error)))
                continue
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                parsed.skipped.append(self._skip(item, f"malformed item ({type(error).__name__})"))
                continue
            for record in records:
                key = (record.kind, record.source_record_id, record.content_hash())
                if key in seen:
                    parsed.duplicates += 1
                    continue
                seen.add(key)
                parsed.records.append(record)
        return parsed

    def _skip(self, item: object, reason: str) -> SkippableRecord:
        subject = self.subject_of(item)
        reference = self._blind(subject) if subject else None
        return SkippableRecord(self.source.value, "item", reason, reference)


def _validation_reason(error: ValidationError) -> str:
    """Field paths and error types only: pydantic's messages could quote the input."""
    problems = sorted(
        {".".join(str(p) for p in e["loc"]) + ":" + e["type"] for e in error.errors()}
    )
    return "invalid record (" + ", ".join(problems[:5]) + ")"
