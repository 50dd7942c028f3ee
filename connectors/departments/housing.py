"""Real-estate registration (不动产登记): property certificates and their owners.

Protocol: the sandbox's `sandbox/servers/housing.py` docstring (pinyin fields,
HTTP Basic, yuan strings, `{"success": true, "data": ...}`, a paged CSV export).

Subject mode: an answer lists each certificate a subject holds with the
subject's share (`fe`) and the co-owners' ID numbers (`gyr`), but not their
shares, and the co-owners did not consent. So a subject view records the subject
alone with their own share: the whole truth for a sole owner, whose record is
then the very record bulk yields (`source_record_id` = the certificate number);
for a co-owned certificate it is one owner's view, keyed
`<certificate>/<owner ID>` so that two consenting co-owners' views do not
overwrite each other's versions in the graph. Co-owners and their shares come
from bulk, keyed by the certificate number alone.

Bulk mode: one partition per county; a CSV page has one row per (certificate,
owner), ordered by certificate then owner, so a certificate can run across a page
boundary. A certificate belongs to the page holding its first row: that page
reads the following page(s) until the certificate ends, and its cursor,
`<page>:<digest>`, says which certificate the next page opens with was already
emitted (a digest, so the sync state holds no certificate number). Rows are
grouped by certificate, not by position, since a page may arrive shuffled.
A certificate whose rows are damaged (wrong column count, a non-numeric cell) or
whose shares do not add up to 100 (a row lost to damage) is skipped whole: a
partial owner list would read as a change of ownership.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from connectors.base import BulkPage, Connector, SubjectQuery
from connectors.departments.counties import XINXIANG_COUNTIES
from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.http import json_body
from connectors.money import yuan_to_fen
from connectors.payload import as_dict, as_list
from graph.model import PropertyRecord, Record, Source

SOURCE = "housing"
COLUMNS = ("bdcqzh", "zjhm", "fe", "qxdm", "zl", "yt", "mj", "djrq", "pgjz", "zt")
REFUSED = frozenset({"not_authorised", "invalid_id"})
MAX_PAGE_SIZE = 5000
Row = list[str]


@dataclass(frozen=True)
class HeldCertificate:
    """One certificate from a subject answer, with the subject who holds it."""

    zjhm: str
    certificate: object


@dataclass(frozen=True)
class CertificateRows:
    """The CSV rows of one certificate (grouped by the first cell, damaged rows included)."""

    key: str
    rows: tuple[tuple[str, ...], ...]


class HousingConnector(Connector):
    source: ClassVar[Source] = Source.HOUSING
    max_batch: ClassVar[int] = 100

    def _headers(self, auth_no: str) -> dict[str, str]:
        pair = f"{self.access.client_id}:{self.access.secret}".encode()
        return {
            "authorization": "Basic " + base64.b64encode(pair).decode(),
            "x-authorisation-no": auth_no,
        }

    async def fetch_subjects(self, query: SubjectQuery) -> list[object]:
        response = await self.client.call(
            "POST",
            "/bdc/api/query",
            json={"zjhm": list(query.id_numbers)},
            headers=self._headers(query.auth_no),
        )
        body = json_body(SOURCE, response)
        data = body.get("data") if isinstance(body, dict) and body.get("success") is True else None
        if not isinstance(data, list):
            raise RetriableSourceError(SOURCE, "query answer without success=true and its data")
        items: list[object] = []
        for answer in data:
            person = answer if isinstance(answer, dict) else {}
            zjhm, held = person.get("zjhm"), person.get("bdcqz")
            if person.get("zt") == "ok" and isinstance(zjhm, str) and isinstance(held, list):
                items += [HeldCertificate(zjhm, certificate) for certificate in held]
            elif person.get("zt") != "not_found":
                items.append(answer)  # a refusal or a damaged answer: parse_item sorts it out
        return items

    async def fetch_bulk_page(self, partition: str, cursor: str | None) -> BulkPage:
        page, emitted = _read_cursor(cursor)
        first = await self._page(partition, page)
        if first is None:
            return BulkPage([], None)
        rows, total = first
        groups = _group(rows)
        tail = max((row[0] for row in rows if len(row) == len(COLUMNS)), default=None)
        next_cursor = str(page + 1) if page < total and tail is None else None
        following = page
        while tail is not None and following < total:  # read on to the end of the last certificate
            following += 1
            more = await self._page(partition, following)
            if more is None:  # the register shrank since the first page: the export ends here
                break
            carried = [row for row in more[0] if row[0] == tail]
            groups.setdefault(tail, []).extend(carried)
            if len(carried) < len(more[0]):  # another certificate (or a damaged row) begins
                next_cursor = f"{following}:{_digest(tail)}" if carried else str(following)
                break
        items: list[object] = [
            CertificateRows(key, tuple(map(tuple, group)))
            for key, group in groups.items()
            if _digest(key) != emitted
        ]
        return BulkPage(items, next_cursor)

    async def _page(self, county: str, page: int) -> tuple[list[Row], int] | None:
        """(rows, total pages) of one export page; None when there is no such page or county."""
        response = await self.client.call(
            "GET",
            "/bdc/api/export.csv",
            params={"qxdm": county, "page": page, "page_size": min(self.page_size, MAX_PAGE_SIZE)},
            headers=self._headers(self.access.bulk_agreement_no),
            accept={400, 404},
        )
        if response.status_code != 200:
            body = json_body(SOURCE, response)
            code = body.get("errorCode") if isinstance(body, dict) else None
            if (response.status_code, code) in {(400, "UNKNOWN_REGION"), (404, "PAGE_NOT_FOUND")}:
                return None
            raise FatalSourceError(SOURCE, f"export: HTTP {response.status_code} {code!s:.40}")
        total = response.headers.get("x-total-pages", "")
        reader = csv.reader(io.StringIO(response.text))
        if not total.isdigit() or next(reader, None) != list(COLUMNS):
            raise FatalSourceError(SOURCE, "export page without X-Total-Pages or the CSV header")
        return [row for row in reader if row], int(total)

    def partitions(self) -> tuple[str, ...]:
        return XINXIANG_COUNTIES

    def resume_from(self, partition: str, cursor: str | None, complete: bool) -> str | None:
        """A county export is a snapshot: once complete, the next run reads it again in full."""
        return None if complete else cursor

    def subject_of(self, item: object) -> str | None:
        if isinstance(item, HeldCertificate):
            return super().subject_of({"zjhm": item.zjhm})
        if isinstance(item, CertificateRows):
            for cell in (cell for row in item.rows for cell in row):
                if (owner := super().subject_of({"zjhm": cell})) is not None:
                    return owner
            return None
        return super().subject_of(item)

    def parse_item(self, item: object, fetched_at: datetime) -> list[Record]:
        if isinstance(item, HeldCertificate):
            return [_subject_view(item.zjhm, as_dict(item.certificate), fetched_at)]
        if isinstance(item, CertificateRows):
            return [self._certificate(item, fetched_at)]
        status = as_dict(item)["zt"]
        if status in REFUSED:
            raise self._skip(item, f"the department did not answer for this subject ({status})")
        raise ValueError("an answer neither refused nor well-formed")

    def _certificate(self, item: CertificateRows, fetched_at: datetime) -> PropertyRecord:
        rows = sorted(set(item.rows))  # a repeated row is one row
        if any(len(row) != len(COLUMNS) for row in rows):
            raise self._skip(item, f"a CSV row without exactly {len(COLUMNS)} columns")
        fields = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
        if not all(_numeric(f) for f in fields):
            raise self._skip(item, "a non-numeric area, share or value")
        if len({tuple(f[c] for c in COLUMNS if c not in {"zjhm", "fe"}) for f in fields}) != 1:
            raise self._skip(item, "the rows of one certificate disagree")
        if len({f["zjhm"] for f in fields}) != len(fields):
            raise self._skip(item, "an owner appears twice with different shares")
        shares = [int(f["fe"]) for f in fields]
        if sum(shares) != 100:
            raise self._skip(item, f"owner shares add up to {sum(shares)}, not 100")
        owners = [(f["zjhm"], share) for f, share in zip(fields, shares, strict=True)]
        area, value = float(fields[0]["mj"]), yuan_to_fen(fields[0]["pgjz"])
        return _property(item.key, fields[0], area, value, owners, item.key, fetched_at)


def _subject_view(zjhm: str, cert: dict[str, Any], fetched_at: datetime) -> PropertyRecord:
    co_owners = as_list(cert["gyr"])
    if not all(isinstance(other, str) for other in co_owners):
        raise TypeError("co-owners must be ID-number strings")
    sole = cert["fe"] == 100 and not co_owners
    record_id = cert["bdcqzh"] if sole else f"{cert['bdcqzh']}/{zjhm}"
    fields = {c: cert[c] for c in COLUMNS if c not in {"zjhm", "fe"}}
    value = yuan_to_fen(cert["pgjz"])
    owners = [(zjhm, cert["fe"])]
    return _property(cert["bdcqzh"], fields, cert["mj"], value, owners, record_id, fetched_at)


def _property(  # noqa: PLR0917 - one call shape for the subject view and the bulk record
    cert_no: str,
    fields: dict[str, Any],
    area: object,
    value_fen: int,
    owners: Sequence[tuple[str, object]],
    record_id: str,
    fetched_at: datetime,
) -> PropertyRecord:
    return PropertyRecord.model_validate(
        {
            "source": Source.HOUSING,
            "source_record_id": record_id,
            "fetched_at": fetched_at,
            "cert_no": cert_no,
            "region_code": fields["qxdm"],
            "address": fields["zl"],
            "usage": fields["yt"],
            "area_m2": area,
            "registered_on": date.fromisoformat(fields["djrq"]),
            "value_fen": value_fen,
            "status": fields["zt"],
            "owners": [{"id_number": i, "share_pct": s} for i, s in owners],
        }
    )


def _numeric(fields: dict[str, str]) -> bool:
    try:
        float(fields["mj"])
        int(fields["fe"])
        yuan_to_fen(fields["pgjz"])
    except ValueError:
        return False
    return True


def _group(rows: list[Row]) -> dict[str, list[Row]]:
    """Rows by their first cell (a certificate number, unless that cell was lost)."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    return groups


def _digest(cert_no: str) -> str:
    return hashlib.sha256(cert_no.encode()).hexdigest()[:16]


def _read_cursor(cursor: str | None) -> tuple[int, str]:
    """(page, digest of a certificate already emitted or "") from `<page>[:<digest>]`."""
    page, _, emitted = (cursor or "1").partition(":")
    if not page.isdigit() or int(page) < 1:
        raise FatalSourceError(SOURCE, "a bulk cursor this connector did not write")
    return int(page), emitted
