"""Tax (税务): monthly income records, every request signed with HMAC-SHA256.

Protocol: the sandbox's `sandbox/servers/tax.py` docstring (snake_case JSON,
money as yuan strings, `{"error": {"code": ...}}`). Subject mode asks for the
income of the twelve months up to and including the time point's month; bulk
mode pages the changes feed by its integer `seq` cursor, one partition.

Why the signer is a `before_send` hook and not a header dict: the department
refuses a nonce it has seen in the last ten minutes, and it may have seen one
even when we never got its answer (a dropped connection, a timeout). So each
attempt must be signed afresh, with a new nonce and timestamp, and only the
`DepartmentClient` knows when an attempt is made. The signature covers the
path and query exactly as on the request line and the exact body bytes, so it
is computed from the built `httpx.Request`, never from our own arguments.

The department allows a key 20 requests a second (burst 40); a 429 with
`Retry-After` is waited out by `DepartmentClient`, but a `CallPolicy` rate
below the department's spares the retries (and the breaker, which counts them).

`net` is derived (`gross - tax`) and is not stored; when the department sends
it, it must agree, because a disagreement means the record was damaged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import date, datetime
from typing import Any, ClassVar

import httpx

from connectors.base import Blind, BulkPage, Connector, DepartmentAccess, SubjectQuery
from connectors.errors import RetriableSourceError
from connectors.http import DepartmentClient, json_body
from connectors.money import yuan_to_fen
from connectors.payload import as_dict
from graph.model import IncomeRecord, Record, Source

INCOME = "/tax/v2/income"
CHANGES = "/tax/v2/income/changes"
PARTITION = "income"
MAX_CHANGES_PAGE = 5000
MONTHS_ASKED = 12  # the time point's month and the eleven before it


class TaxConnector(Connector):
    source: ClassVar[Source] = Source.TAX
    outbound_rate: ClassVar[float] = 18.0  # the tax bureau allows 20/s, burst 40, per key
    outbound_burst: ClassVar[int] = 36
    default_page_size: ClassVar[int] = MAX_CHANGES_PAGE

    def __init__(
        self,
        access: DepartmentAccess,
        client: DepartmentClient,
        blind: Blind,
        page_size: int | None = None,
        *,
        reference_date: date | None = None,
    ) -> None:
        super().__init__(access, client, blind, page_size, reference_date=reference_date)
        client.before_send = self.sign  # called once per attempt, so retries are signed afresh

    def sign(self, request: httpx.Request) -> None:
        """Add the four X-Tax-* headers for this one attempt (a fresh nonce every time)."""
        stamp = str(int(time.time()))
        nonce = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]
        text = b"\n".join(
            [
                request.method.upper().encode(),
                request.url.raw_path,  # path and query exactly as on the request line
                hashlib.sha256(request.content).hexdigest().encode(),
                stamp.encode(),
                nonce.encode(),
            ]
        )
        secret = self.access.secret.encode()
        request.headers["X-Tax-Key"] = self.access.client_id
        request.headers["X-Tax-Timestamp"] = stamp
        request.headers["X-Tax-Nonce"] = nonce
        request.headers["X-Tax-Signature"] = hmac.new(secret, text, hashlib.sha256).hexdigest()

    async def fetch_subjects(self, query: SubjectQuery) -> list[object]:
        first, last = months_up_to(query.as_of)
        body = {"ids": list(query.id_numbers), "from": first, "to": last}
        response = await self.client.call(
            "POST", INCOME, json=body, headers={"X-Authorisation-No": query.auth_no}
        )
        people = _list(_object(json_body("tax", response), INCOME), "items", INCOME)
        asked = set(query.id_numbers)
        items: list[object] = []
        for entry in people:
            person = _object(entry, INCOME)
            records = _list(person, "records", INCOME)
            person_id = person.get("id")
            if person.get("status") != "ok" or not isinstance(person_id, str):
                continue  # nothing found, or not ours to know
            if person_id not in asked:
                continue  # never keep what we learn about someone we did not ask about
            # the records do not repeat whose they are: tag each with the person's ID number
            items += [{**r, "id": person_id} if isinstance(r, dict) else r for r in records]
        return items

    async def fetch_bulk_page(self, partition: str, cursor: str | None) -> BulkPage:
        if partition != PARTITION:
            raise ValueError(f"unknown partition {partition!r}; tax has only {PARTITION!r}")
        response = await self.client.call(
            "GET",
            CHANGES,
            params={"cursor": cursor or "0", "limit": min(self.page_size, MAX_CHANGES_PAGE)},
            headers={"X-Authorisation-No": self.access.bulk_agreement_no},
        )
        body = _object(json_body("tax", response), CHANGES)
        records = _list(body, "records", CHANGES)
        next_cursor, has_more = body.get("next_cursor"), body.get("has_more")
        if type(next_cursor) is not int or next_cursor < 0 or type(has_more) is not bool:
            raise RetriableSourceError("tax", f"{CHANGES}: no valid next_cursor / has_more")
        return BulkPage(records, str(next_cursor) if has_more else None)

    def partitions(self) -> tuple[str, ...]:
        return (PARTITION,)

    def parse_item(self, item: object, fetched_at: datetime) -> list[Record]:
        raw = as_dict(item)
        gross, tax = yuan_to_fen(raw["gross"]), yuan_to_fen(raw["tax"])
        if "net" in raw and yuan_to_fen(raw["net"]) != gross - tax:
            raise ValueError("net is not gross - tax")
        return [
            IncomeRecord(
                source=Source.TAX,
                source_record_id=raw["record_id"],
                fetched_at=fetched_at,
                id_number=raw["id"],
                period=raw["period"],
                category=raw["category"],
                payer_name=raw["payer_name"],
                payer_tax_id=raw["payer_tax_id"],
                gross_fen=gross,
                tax_fen=tax,
                filed_on=date.fromisoformat(raw["filed_on"]),
            )
        ]


def months_up_to(as_of: date) -> tuple[str, str]:
    """The first and last month (YYYY-MM) of the twelve months ending with `as_of`'s month."""
    index = as_of.year * 12 + as_of.month - 1 - (MONTHS_ASKED - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}", f"{as_of.year:04d}-{as_of.month:02d}"


def _object(body: object, path: str) -> dict[str, Any]:
    """A response body must be an object; anything else is a broken (transient) response."""
    if not isinstance(body, dict):
        raise RetriableSourceError("tax", f"{path}: response is not a JSON object")
    return body


def _list(body: dict[str, Any], key: str, path: str) -> list[object]:
    value = body.get(key)
    if not isinstance(value, list):
        raise RetriableSourceError("tax", f"{path}: response without a {key!r} list")
    return value
