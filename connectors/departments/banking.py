"""Banking (银行): accounts, month-end balances and financial products, asked as jobs.

Protocol: the sandbox's `sandbox/servers/banking.py` docstring (snake_case
JSON, `X-Institution`/`X-Api-Key`, money as JSON numbers in yuan). The bank
answers asynchronously: submit an enquiry (202 + job id), poll its status as
often as `poll_after_ms` says, then read its result pages. Subject mode asks
as of the time point; bulk mode runs one bulk job per page of holders, one
partition, its cursor being the job's `next_after`.

Why: waiting is bounded (`max_job_wait`, 60 s from submission), so a job that
never completes is a retriable failure, not a hung sync. A job we just made can
still vanish (the bank forgets the oldest; results expire): 404 JOB_NOT_FOUND
or 410 means lost, and the enquiry (a read) is submitted once more before
failing retriably. Money is parsed from the raw bytes with `parse_float=Decimal`,
so fen come from the digits the bank sent, never via a binary float.

Why bulk overlaps jobs: each job takes the bank a while (a second in the
sandbox) and the next job's `after` is known only once the current one
completes, so bulk jobs ask for the bank's maximum of holders, the next job is
submitted as soon as the current one completes (its status carries
`next_after`), and the bank processes it while we read and store the current
one. A job submitted early and never used is harmless (an enquiry is a read).
Result pages are read a few at a time, in order, within the rate limit.

Bulk `as_of` is the `bulk_as_of` keyword, by default the latest month-end on or
before our today at construction: the bank keeps month-end balances, and one
fixed date keeps every page of a run the same snapshot. The bulk cursor is an
ID number (the bank pages holders by ID): saved state holds personal data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple, TypeVar

import httpx

from connectors.base import Blind, BulkPage, Connector, DepartmentAccess, SubjectQuery
from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.http import DepartmentClient
from connectors.money import yuan_to_fen
from connectors.payload import as_dict, as_list, optional_date
from graph.model import BalanceRecord, BankAccountRecord, FinancialProductRecord, Record, Source

ENQUIRIES = "/bank/v1/enquiries"
BULK_ENQUIRIES = "/bank/v1/bulk-enquiries"
PARTITION = "holders"
MAX_BULK = 2000
LOST = frozenset({404, 410})  # JOB_NOT_FOUND / JOB_EXPIRED on a job we made
NOTHING_HELD = frozenset({"not_found", "not_authorised", "invalid_id"})
DEFAULT_POLL_SECONDS = 0.25  # when the bank gives no poll_after_ms (or on 409 JOB_NOT_READY)
RESULT_PAGES_AT_ONCE = 4
Job = dict[str, Any]
T = TypeVar("T")


class Submission(NamedTuple):
    """The bank's answer to a submitted enquiry, and when we sent it (waits count from then)."""

    answer: Job
    at: float


class _JobLost(Exception):
    """The bank no longer knows a job we submitted; submit it again."""


class BankingConnector(Connector):
    source: ClassVar[Source] = Source.BANKING
    default_page_size: ClassVar[int] = MAX_BULK
    max_job_wait: ClassVar[float] = 60.0

    def __init__(
        self,
        access: DepartmentAccess,
        client: DepartmentClient,
        blind: Blind,
        page_size: int | None = None,
        *,
        reference_date: date | None = None,
        bulk_as_of: date | None = None,
    ) -> None:
        super().__init__(access, client, blind, page_size, reference_date=reference_date)
        self.bulk_as_of = bulk_as_of or last_month_end(self.reference_date)
        self._early_bulk: dict[str, asyncio.Task[Submission]] = {}  # after -> its submission

    async def fetch_subjects(self, query: SubjectQuery) -> list[object]:
        body = {"id_numbers": list(query.id_numbers), "as_of": query.as_of.isoformat()}
        persons, _ = await self._enquire(ENQUIRIES, body, query.auth_no)
        # never keep what we learn about someone we did not ask about (a damaged entry is
        # left to the parser, which skips it)
        allowed = {*query.id_numbers, None}
        return [p for p in persons if _subject(p) in allowed]

    async def fetch_bulk_page(self, partition: str, cursor: str | None) -> BulkPage:
        if partition != PARTITION:
            raise ValueError(f"unknown partition {partition!r}; banking has only {PARTITION!r}")
        after = cursor or ""
        early = self._early_bulk.pop(after, None)
        for stale in self._early_bulk.values():
            stale.cancel()
        self._early_bulk.clear()
        persons, status = await self._enquire(
            BULK_ENQUIRIES,
            self._bulk_body(after),
            self.access.bulk_agreement_no,
            submitted=early,
            on_completed=self._submit_next_bulk,
        )
        return BulkPage(persons, _next_after(status))

    def _bulk_body(self, after: str) -> dict[str, Any]:
        return {
            "as_of": self.bulk_as_of.isoformat(),
            "after": after,
            "limit": min(self.page_size, MAX_BULK),
        }

    def _submit_next_bulk(self, status: Job) -> None:
        """The next bulk job, submitted now so the bank works on it while we read this one."""
        after = _next_after(status)
        if after is None or after in self._early_bulk:
            return
        body = self._bulk_body(after)
        task = asyncio.create_task(
            self._submit(BULK_ENQUIRIES, body, self.access.bulk_agreement_no)
        )
        task.add_done_callback(_retrieve_outcome)
        self._early_bulk[after] = task

    def partitions(self) -> tuple[str, ...]:
        return (PARTITION,)

    def parse_item(self, item: object, fetched_at: datetime) -> list[Record]:
        raw = as_dict(item)
        if raw["status"] in NOTHING_HELD:
            return []
        if raw["status"] != "ok":
            raise ValueError("unknown person status")
        common = {"source": Source.BANKING, "fetched_at": fetched_at, "id_number": raw["id_number"]}
        records: list[Record] = []
        for account in map(as_dict, as_list(raw["accounts"])):
            number = account["account_no"]
            records.append(
                BankAccountRecord(
                    **common,
                    source_record_id=number,
                    account_no=number,
                    bank=account["bank"],
                    account_kind=account["kind"],
                    opened_on=date.fromisoformat(account["opened_on"]),
                    closed_on=optional_date(account["closed_on"]),
                )
            )
            balance, on = account["balance"], optional_date(account["balance_date"])
            if (balance is None) != (on is None):
                raise ValueError("a balance without its date, or a date without its balance")
            if on is not None:
                records.append(
                    BalanceRecord(
                        **common,
                        source_record_id=f"{number}@{on.isoformat()}",
                        account_no=number,
                        as_of=on,
                        balance_fen=_fen(balance),
                    )
                )
        for product in map(as_dict, as_list(raw["products"])):
            records.append(
                FinancialProductRecord(
                    **common,
                    source_record_id=product["product_id"],
                    product_id=product["product_id"],
                    bank=product["bank"],
                    product_kind=product["kind"],
                    principal_fen=_fen(product["principal"]),
                    bought_on=date.fromisoformat(product["bought_on"]),
                    matures_on=optional_date(product["matures_on"]),
                )
            )
        return records

    # --- the job protocol --------------------------------------------------------------------

    async def _enquire(
        self,
        path: str,
        body: dict[str, Any],
        auth_no: str,
        *,
        submitted: Awaitable[Submission] | None = None,
        on_completed: Callable[[Job], None] | None = None,
    ) -> tuple[list[object], Job]:
        """Every person of a completed job, and its final status; a lost job is resubmitted once.

        `submitted`: the same enquiry, already submitted (its answer is awaited
        instead of submitting again). `on_completed` sees the final status
        before the result pages are read.
        """
        for _ in range(2):
            job, submitted_at = (
                await submitted
                if submitted is not None
                else await self._submit(path, body, auth_no)
            )
            submitted = None
            deadline = submitted_at + self.max_job_wait
            # an early job has been processing meanwhile: wait only what is left of the wait
            wait = max(_poll_seconds(job) - (time.monotonic() - submitted_at), 0.0)
            job_id = job.get("job_id")
            if not isinstance(job_id, str) or not job_id:
                raise RetriableSourceError("banking", f"{path}: answer without a job_id")
            try:
                status = await self._completed(job_id, wait, deadline)
                if on_completed is not None:
                    on_completed(status)
                return await self._results(job_id, status, deadline), status
            except _JobLost:
                continue
        raise RetriableSourceError("banking", f"{path}: the bank lost the enquiry job twice")

    async def _submit(self, path: str, body: dict[str, Any], auth_no: str) -> Submission:
        headers = {**self._credentials(), "X-Authorisation-No": auth_no}
        submitted_at = time.monotonic()
        answer = _body(await self.client.call("POST", path, json=body, headers=headers))
        return Submission(answer, submitted_at)

    async def _results(self, job_id: str, status: Job, deadline: float) -> list[object]:
        pages = status.get("pages")
        if type(pages) is not int or pages < 1:
            raise RetriableSourceError("banking", "completed job status without valid pages")
        at_once = asyncio.Semaphore(RESULT_PAGES_AT_ONCE)

        async def read(page: int) -> list[object]:
            async with at_once:
                return await self._result_page(job_id, page, deadline)

        persons: list[object] = []
        for listed in await _all_or_none([read(page) for page in range(1, pages + 1)]):
            persons += listed
        return persons

    async def _result_page(self, job_id: str, page: int, deadline: float) -> list[object]:
        while True:
            response = await self._get(f"{ENQUIRIES}/{job_id}/results", {"page": page}, {409})
            if response.status_code != 409:
                break
            await self._pause(DEFAULT_POLL_SECONDS, deadline)  # JOB_NOT_READY: wait again
        listed = _body(response).get("persons")
        if not isinstance(listed, list):
            raise RetriableSourceError("banking", "results page without a persons list")
        return listed

    async def _completed(self, job_id: str, wait: float, deadline: float) -> dict[str, Any]:
        while True:
            await self._pause(wait, deadline)
            status = _body(await self._get(f"{ENQUIRIES}/{job_id}"))
            if status.get("status") == "completed":
                return status
            if status.get("status") != "processing":
                raise RetriableSourceError("banking", "job status neither processing nor completed")
            wait = _poll_seconds(status)

    async def _get(
        self, path: str, params: dict[str, Any] | None = None, accept: set[int] | None = None
    ) -> httpx.Response:
        expected = LOST | (accept or set())
        response = await self.client.call(
            "GET", path, params=params, headers=self._credentials(), accept=expected
        )
        if response.status_code in LOST:
            if _reason_code(response) == "PAGE_NOT_FOUND":
                raise FatalSourceError("banking", "results page outside the job's pages")
            raise _JobLost
        return response

    async def _pause(self, seconds: float, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RetriableSourceError(
                "banking", f"enquiry job not completed within {self.max_job_wait:g} s"
            )
        await asyncio.sleep(min(seconds, remaining))

    def _credentials(self) -> dict[str, str]:
        return {"X-Institution": self.access.client_id, "X-Api-Key": self.access.secret}


async def _all_or_none(calls: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Every result in order; on the first error the others are cancelled and it is raised."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _retrieve_outcome(task: asyncio.Task[Submission]) -> None:
    """An early submission nobody awaited: its error was not needed, so it is not reported."""
    if not task.cancelled():
        task.exception()


def _next_after(status: Job) -> str | None:
    after = status.get("next_after")
    if after is not None and not isinstance(after, str):
        raise RetriableSourceError("banking", "bulk job status with an invalid next_after")
    return after or None


def last_month_end(today: date) -> date:
    """The latest month-end on or before `today`."""
    if (today + timedelta(days=1)).month != today.month:
        return today
    return today.replace(day=1) - timedelta(days=1)


def _body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a response, floats as `Decimal`; anything else is a transient fault."""
    with contextlib.suppress(ValueError):
        body = json.loads(response.content, parse_float=Decimal)
        if isinstance(body, dict):
            return body
    raise RetriableSourceError("banking", f"{response.request.url.path}: not a JSON object")


def _fen(value: object) -> int:
    """Yuan (a JSON number: int or Decimal) into fen, from the digits as sent."""
    if isinstance(value, str):
        raise TypeError("an amount must be a JSON number")
    return yuan_to_fen(value)


def _poll_seconds(status: dict[str, Any]) -> float:
    wait = status.get("poll_after_ms")
    if type(wait) is not int:
        return DEFAULT_POLL_SECONDS if status.get("status") == "processing" else 0.0
    return min(max(wait / 1000, 0.01), 10.0)  # honoured, within sane bounds


def _reason_code(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        return str(json.loads(response.content).get("reason_code"))
    return ""


def _subject(person: object) -> str | None:
    subject = person.get("id_number") if isinstance(person, dict) else None
    return subject if isinstance(subject, str) else None
