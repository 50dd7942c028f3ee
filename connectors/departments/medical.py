"""Medical insurance (医保): enrolments and claims with out-of-pocket costs.

Protocol: the sandbox's `sandbox/servers/medical.py` docstring (camelCase JSON,
`X-YB-AppId`/`X-YB-Token`, `{"ret": 0, "data": ...}`, opaque cursors). Subject
mode reads enrolments and the claims of the twelve months before the time
point; bulk mode pages the two exports, one partition each.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import ClassVar

from connectors.base import BulkPage, Connector, SubjectQuery
from connectors.errors import RetriableSourceError
from connectors.http import json_body
from connectors.money import yuan_to_fen
from connectors.payload import as_dict, as_list, optional_date
from graph.model import ClaimRecord, EnrolmentRecord, Record, Source

PARTITIONS = {"enrolments": "/ybj/v1/enrolments/export", "claims": "/ybj/v1/claims/export"}


class MedicalConnector(Connector):
    source: ClassVar[Source] = Source.MEDICAL
    default_page_size: ClassVar[int] = 5000

    def _headers(self, auth_no: str) -> dict[str, str]:
        return {
            "x-yb-appid": self.access.client_id,
            "x-yb-token": self.access.secret,
            "x-authorisation-no": auth_no,
        }

    async def fetch_subjects(self, query: SubjectQuery) -> list[object]:
        headers = self._headers(query.auth_no)
        ids = list(query.id_numbers)
        response = await self.client.call(
            "POST", "/ybj/v1/enrolments/query", json={"idList": ids}, headers=headers
        )
        items: list[object] = []
        for person in as_list(_data(json_body("medical", response))):
            items += as_list(as_dict(person).get("enrolments") or [])
        start = query.as_of - timedelta(days=365)
        period = {"from": start.isoformat(), "to": query.as_of.isoformat()}
        cursor: str | None = None
        while True:
            body = {"idList": ids, **period, "cursor": cursor, "limit": min(self.page_size, 500)}
            response = await self.client.call(
                "POST", "/ybj/v1/claims/query", json=body, headers=headers
            )
            data = as_dict(_data(json_body("medical", response)))
            items += as_list(data.get("items") or [])
            cursor = data.get("nextCursor")
            if not cursor:
                return items

    async def fetch_bulk_page(self, partition: str, cursor: str | None) -> BulkPage:
        path = PARTITIONS[partition]
        response = await self.client.call(
            "GET",
            path,
            params={"cursor": cursor or "", "limit": self.page_size},
            headers=self._headers(self.access.bulk_agreement_no),
        )
        data = as_dict(_data(json_body("medical", response)))
        return BulkPage(as_list(data.get("items") or []), data.get("nextCursor") or None)

    def partitions(self) -> tuple[str, ...]:
        return tuple(PARTITIONS)

    def parse_item(self, item: object, fetched_at: datetime) -> list[Record]:
        raw = as_dict(item)
        if "claimId" in raw:
            return [
                ClaimRecord(
                    source=Source.MEDICAL,
                    source_record_id=raw["claimId"],
                    fetched_at=fetched_at,
                    claim_id=raw["claimId"],
                    id_number=raw["idNo"],
                    settled_on=date.fromisoformat(raw["settledOn"]),
                    hospital=raw["hospital"],
                    claim_kind=raw["kind"],
                    diagnosis_group=raw["diagnosisGroup"],
                    total_fen=yuan_to_fen(raw["total"]),
                    fund_paid_fen=yuan_to_fen(raw["fundPaid"]),
                    out_of_pocket_fen=yuan_to_fen(raw["outOfPocket"]),
                )
            ]
        return [
            EnrolmentRecord(
                source=Source.MEDICAL,
                source_record_id=raw["enrolmentId"],
                fetched_at=fetched_at,
                enrolment_id=raw["enrolmentId"],
                id_number=raw["idNo"],
                scheme=raw["scheme"],
                region_code=raw["regionCode"],
                since=date.fromisoformat(raw["since"]),
                until=optional_date(raw.get("until")),
                status=raw["status"],
            )
        ]


def _data(body: object) -> object:
    """The payload of a `{"ret": 0, "data": ...}` envelope; anything else is a broken response."""
    envelope = as_dict(body)
    if envelope.get("ret") != 0 or "data" not in envelope:
        raise RetriableSourceError("medical", "response envelope without ret=0 and data")
    return envelope["data"]
