"""Public security (公安 户籍): persons, hukou households, memberships, relations, vehicles, deaths.

Protocol: the sandbox's `sandbox/servers/public_security.py` docstring (snake_case
JSON, `X-Client-Id` + `Authorization: Bearer`, integer yuan, `{"code": ...}` errors).

Subject mode: a person the department refuses (`not_authorised`, `invalid_id`)
is a skipped record, so one refusal does not stop the run; `not_found` is
nothing. A dossier yields the person, their households, their *own* memberships
(the other members listed in a household did not consent: nothing about them),
relations, vehicles and, if deceased, a death in the household held that day.

Bulk mode: the change feed plus one snapshot per county. A person's dossier comes
once per county holding one of their open memberships. A person's own facts
(person, memberships, vehicles) come with their lowest open county; each of
their open households comes with their dossier in that household's county, and
every relation they are a party to with their home-county dossier. So a
household or a relation arrives once per member or party: the writer makes the
repeats harmless, and it means every consenting person's own dossier carries
all the facts about them, which lets the consent gate drop other people's
dossiers unread. Deaths come from the change feed only. `birth` and `move`
changes add no fact of our model (they tell a later re-pull whom to refresh),
so they are checked, then yield nothing. The export cursor is the department's
`next_after`, an ID number: the sync state seals it like any personal field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

import httpx

from connectors.base import BulkPage, Connector, SubjectQuery
from connectors.departments.counties import XINXIANG_COUNTIES
from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.http import json_body
from connectors.money import yuan_to_fen
from connectors.payload import as_dict, as_list, optional_date
from graph.model import (
    DeathRecord,
    HouseholdRecord,
    MembershipRecord,
    PersonRecord,
    Record,
    RelationRecord,
    Source,
    VehicleRecord,
)

SOURCE = "public_security"
REFUSED = frozenset({"not_authorised", "invalid_id"})
CHANGE_KINDS = frozenset({"death", "move", "birth"})
MAX_LIMIT = 5000


@dataclass(frozen=True)
class ExportedDossier:
    """A dossier from the `persons:<county>` snapshot (subject dossiers are plain dicts)."""

    result: object
    county: str


class PublicSecurityConnector(Connector):
    source: ClassVar[Source] = Source.PUBLIC_SECURITY
    max_batch: ClassVar[int] = 100

    def _headers(self, auth_no: str) -> dict[str, str]:
        return {
            "x-client-id": self.access.client_id,
            "authorization": f"Bearer {self.access.secret}",
            "x-authorisation-no": auth_no,
        }

    async def fetch_subjects(self, query: SubjectQuery) -> list[object]:
        response = await self.client.call(
            "POST",
            "/gaj/v1/persons/query",
            json={"id_numbers": list(query.id_numbers)},
            headers=self._headers(query.auth_no),
        )
        results = _get(_body(response), "results", list)
        return [r for r in results if not (isinstance(r, dict) and r.get("status") == "not_found")]

    async def fetch_bulk_page(self, partition: str, cursor: str | None) -> BulkPage:
        limit = min(self.page_size, MAX_LIMIT)
        headers = self._headers(self.access.bulk_agreement_no)
        if partition == "changes":
            params = {"cursor": cursor or "", "limit": limit}
            response = await self.client.call(
                "GET", "/gaj/v1/changes", params=params, headers=headers
            )
            body = _body(response)
            changes, more = _get(body, "changes", list), _get(body, "has_more", bool)
            return BulkPage(changes, str(_get(body, "next_cursor", int)) if more else None)
        county = partition.removeprefix("persons:")
        response = await self.client.call(
            "GET",
            "/gaj/v1/persons/export",
            params={"region": county, "after": cursor or "", "limit": limit},
            headers=headers,
            accept={400},
        )
        body = _body(response)
        if response.status_code == 400:
            if (code := body.get("code")) != "UNKNOWN_REGION":
                raise FatalSourceError(SOURCE, f"persons export: HTTP 400 {code!s:.40}")
            return BulkPage([], None)  # no household in that county: nothing to export
        persons = _get(body, "persons", list)
        after = _get(body, "next_after", (str, type(None)))
        return BulkPage([ExportedDossier(p, county) for p in persons], after or None)

    def partitions(self) -> tuple[str, ...]:
        return ("changes", *(f"persons:{county}" for county in XINXIANG_COUNTIES))

    def resume_from(self, partition: str, cursor: str | None, complete: bool) -> str | None:
        """A county snapshot is read again in full once complete; the change feed goes on."""
        return None if complete and partition != "changes" else cursor

    def subject_of(self, item: object) -> str | None:
        return super().subject_of(item.result if isinstance(item, ExportedDossier) else item)

    def parse_item(self, item: object, fetched_at: datetime) -> list[Record]:
        if isinstance(item, ExportedDossier):
            return self._dossier(as_dict(item.result), item.county, fetched_at)
        raw = as_dict(item)
        if "seq" in raw:
            return _change(raw, fetched_at)
        return self._dossier(raw, None, fetched_at)

    def _dossier(
        self, raw: dict[str, Any], county: str | None, fetched_at: datetime
    ) -> list[Record]:
        """Records from one person's dossier; `county` None: subject mode (everything)."""
        status = raw["status"]
        if status in REFUSED:
            raise self._skip(raw, f"the department did not answer for this subject ({status})")
        if status != "ok":
            raise ValueError("unknown result status")
        id_number: str = raw["id_number"]
        person = as_dict(raw["person"])
        households = [as_dict(h) for h in as_list(raw["households"])]
        relations = [as_dict(r) for r in as_list(raw["relations"])]
        vehicles = [as_dict(v) for v in as_list(raw["vehicles"])]
        common: dict[str, Any] = {"source": Source.PUBLIC_SECURITY, "fetched_at": fetched_at}
        records: list[Record] = [
            _household(h, common)
            for h in households
            if county is None or (h["region_code"] == county and h["until"] is None)
        ]
        if county is not None and county != _home_county(households):
            return records
        records.append(
            PersonRecord(
                **common, source_record_id=id_number, id_number=id_number, **_pick(person, *PERSON)
            )
        )
        records += [_membership(h, id_number, common) for h in households]
        records += [_relation(r, common) for r in relations]
        records += [_vehicle(v, id_number, common) for v in vehicles]
        if county is None:
            records += _death(person, households, id_number, common)
        return records


PERSON = (
    "name", "sex", "birth_date", "phone", "vital_status", "death_date",
    "disability_grade", "school_level", "serious_illness",
)  # fmt: skip
HOUSEHOLD = ("hukou_no", "region_code", "township_code", "township_name", "urban", "address")


def _pick(raw: dict[str, Any], *keys: str) -> dict[str, Any]:
    """These fields, as sent: the record model validates them (ISO dates included)."""
    return {key: raw[key] for key in keys}


def _household(h: dict[str, Any], common: dict[str, Any]) -> HouseholdRecord:
    return HouseholdRecord(**common, source_record_id=h["hukou_no"], **_pick(h, *HOUSEHOLD))


def _membership(h: dict[str, Any], id_number: str, common: dict[str, Any]) -> MembershipRecord:
    return MembershipRecord(
        **common,
        source_record_id=f"{h['hukou_no']}/{id_number}",
        id_number=id_number,
        **_pick(h, "hukou_no", "role", "since", "until"),
    )


def _relation(r: dict[str, Any], common: dict[str, Any]) -> RelationRecord:
    return RelationRecord(
        **common,
        source_record_id=f"{r['kind']}:{r['from_id']}:{r['to_id']}",
        relation=r["kind"],
        **_pick(r, "from_id", "to_id", "since"),
    )


def _vehicle(v: dict[str, Any], owner: str, common: dict[str, Any]) -> VehicleRecord:
    return VehicleRecord(
        **common,
        source_record_id=v["plate"],
        owner_id=owner,
        vehicle_kind=v["kind"],
        value_fen=yuan_to_fen(v["value_yuan"]),
        **_pick(v, "plate", "brand", "registered_on", "status"),
    )


def _death(
    person: dict[str, Any], households: list[dict[str, Any]], id_number: str, common: dict[str, Any]
) -> list[Record]:
    """A deceased person's death, in the household they belonged to that day (if one did)."""
    day = optional_date(person["death_date"])
    home = _household_at(households, day) if day and person["vital_status"] == "deceased" else None
    if day is None or home is None:
        return []
    facts = {"hukou_no": home["hukou_no"], "region_code": home["region_code"], "occurred_on": day}
    return [_death_record(common, {"id_number": id_number, **facts})]


def _change(raw: dict[str, Any], fetched_at: datetime) -> list[Record]:
    """A death is a record; a birth or a move is only checked (see the module docstring)."""
    if raw["kind"] not in CHANGE_KINDS or not isinstance(raw["seq"], int):
        raise ValueError("unknown change kind or sequence number")
    common = {"source": Source.PUBLIC_SECURITY, "fetched_at": fetched_at}
    facts = _pick(raw, "id_number", "hukou_no", "region_code", "occurred_on")
    death = _death_record(common, facts)  # built for a birth or move too: damage is quarantined
    return [death] if raw["kind"] == "death" else []


def _death_record(common: dict[str, Any], facts: dict[str, Any]) -> DeathRecord:
    return DeathRecord(**common, source_record_id=f"death:{facts['id_number']}", **facts)


def _home_county(households: list[dict[str, Any]]) -> str:
    """The lowest county code among the open households: where a person's own facts come."""
    counties: list[str] = [h["region_code"] for h in households if h["until"] is None]
    if not counties:
        raise ValueError("an exported person without an open household")
    return min(counties)


def _household_at(households: list[dict[str, Any]], day: date) -> dict[str, Any] | None:
    """The household a person belonged to on `day` (the lowest hukou number if several)."""
    held = [
        h
        for h in households
        if date.fromisoformat(h["since"]) <= day
        and (h["until"] is None or date.fromisoformat(h["until"]) >= day)
    ]
    return min(held, key=lambda h: str(h["hukou_no"]), default=None)


def _body(response: httpx.Response) -> dict[str, Any]:
    body = json_body(SOURCE, response)
    if not isinstance(body, dict):
        raise RetriableSourceError(SOURCE, f"{response.request.url.path}: body is not an object")
    return body


def _get(body: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:  # noqa: ANN401
    """A top-level field of the expected type; anything else is a broken (gateway) answer."""
    value = body.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RetriableSourceError(SOURCE, f"answer without a valid {key!r}")
    return value
