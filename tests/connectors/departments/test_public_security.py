"""PublicSecurityConnector's parsing and paging against a scripted transport (no sandbox)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.base import DepartmentAccess, Parsed, SubjectQuery
from connectors.departments.public_security import ExportedDossier, PublicSecurityConnector
from connectors.errors import FatalSourceError
from connectors.http import CallPolicy, DepartmentClient
from graph.model import DeathRecord, MembershipRecord, PersonRecord, RelationRecord
from tests.sandbox.servers.tiny_city import AS_OF, AUTH_OK, PEOPLE, id_number

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 1, tzinfo=UTC)
HOME = "H41070200000001"
OTHER = "H41072100000002"
NEIGHBOUR = id_number("410702", "19880101", 60)
EVERYONE = (PEOPLE.head, PEOPLE.spouse, PEOPLE.child, PEOPLE.outsider, NEIGHBOUR)
Handler = Callable[[httpx.Request], httpx.Response]


def blind(value: str) -> str:
    return "ref-" + hashlib.sha256(value.encode()).hexdigest()[:12]


def connector(handler: Handler | None = None) -> PublicSecurityConnector:
    transport = httpx.MockTransport(handler or (lambda _: httpx.Response(500)))
    http = httpx.AsyncClient(transport=transport, base_url="http://gaj.test")
    access = DepartmentAccess("http://gaj.test", "client", "secret", "BD4107002026000001")
    return PublicSecurityConnector(
        access, DepartmentClient("public_security", http, CallPolicy(attempts=1)), blind
    )


def member(who: str, role: str, until: str | None = None) -> dict[str, Any]:
    return {"id_number": who, "name": "某人", "role": role, "since": "2000-01-01", "until": until}


def household(
    hukou_no: str, role: str, members: list[dict[str, Any]], until: str | None = None
) -> dict[str, Any]:
    return {
        "hukou_no": hukou_no,
        "region_code": hukou_no[1:7],
        "township_code": hukou_no[1:7] + "001",
        "township_name": "东街街道",
        "urban": True,
        "address": "红旗区东街1号",
        "role": role,
        "since": "2000-01-01",
        "until": until,
        "members": members,
    }


HOME_MEMBERS = [
    member(PEOPLE.head, "head"),
    member(PEOPLE.spouse, "spouse", "2026-09-15"),
    member(PEOPLE.child, "child"),
    member(NEIGHBOUR, "other"),
]


def dossier(who: str, households: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    person = {
        "name": "张三",
        "sex": "M",
        "birth_date": "1970-03-12",
        "phone": None,
        "vital_status": "alive",
        "death_date": None,
        "disability_grade": None,
        "school_level": None,
        "serious_illness": False,
    }
    return {
        "id_number": who,
        "status": "ok",
        "person": {**person, **more.pop("person", {})},
        "households": households,
        "relations": more.pop("relations", []),
        "vehicles": more.pop("vehicles", []),
    }


def unanswered(who: str, status: str) -> dict[str, Any]:
    return {"id_number": who, "status": status, "person": None, "households": [],
            "relations": [], "vehicles": []}  # fmt: skip


def parse(items: list[object]) -> Parsed:
    return connector().parse(items, NOW)


def text_of(parsed: Parsed) -> str:
    return " ".join(str(s) + repr(s) + s.reason for s in parsed.skipped)


def test_other_household_members_get_no_membership_or_person() -> None:
    parsed = parse([dossier(PEOPLE.head, [household(HOME, "head", HOME_MEMBERS)])])
    memberships = [r for r in parsed.records if isinstance(r, MembershipRecord)]
    assert [(m.hukou_no, m.id_number, m.role) for m in memberships] == [(HOME, PEOPLE.head, "head")]
    assert memberships[0].source_record_id == f"{HOME}/{PEOPLE.head}"
    assert [r.id_number for r in parsed.records if isinstance(r, PersonRecord)] == [PEOPLE.head]
    assert {r.kind for r in parsed.records} == {"person", "household", "membership"}


def test_a_deceased_person_yields_a_death_in_the_household_held_that_day() -> None:
    spouse = dossier(
        PEOPLE.spouse,
        [household(HOME, "spouse", HOME_MEMBERS, until="2026-09-15")],
        person={"vital_status": "deceased", "death_date": "2026-09-15", "sex": "F"},
    )
    deaths = [r for r in parse([spouse]).records if isinstance(r, DeathRecord)]
    assert len(deaths) == 1
    death = deaths[0]
    assert (death.source_record_id, death.hukou_no, death.region_code, str(death.occurred_on)) == (
        f"death:{PEOPLE.spouse}",
        HOME,
        "410702",
        "2026-09-15",
    )
    alive = parse([dossier(PEOPLE.head, [household(HOME, "head", HOME_MEMBERS)])])
    assert not any(isinstance(r, DeathRecord) for r in alive.records)


def test_relations_vehicles_and_money() -> None:
    relation = {"from_id": PEOPLE.head, "to_id": PEOPLE.child, "kind": "parent", "since": None}
    vehicle = {
        "plate": "豫G·12345",
        "kind": "car",
        "brand": "五菱",
        "registered_on": "2019-04-01",
        "value_yuan": 35001,
        "status": "registered",
    }
    parsed = parse(
        [
            dossier(
                PEOPLE.head,
                [household(HOME, "head", HOME_MEMBERS)],
                relations=[relation],
                vehicles=[vehicle],
            )
        ]
    )
    (rel,) = [r for r in parsed.records if isinstance(r, RelationRecord)]
    assert (rel.source_record_id, rel.relation) == (
        f"parent:{PEOPLE.head}:{PEOPLE.child}",
        "parent",
    )
    (car,) = [r for r in parsed.records if r.kind == "vehicle"]
    assert car.model_dump()["value_fen"] == 3_500_100
    assert car.model_dump()["owner_id"] == PEOPLE.head


@pytest.mark.parametrize("status", ["not_authorised", "invalid_id"])
def test_a_refused_subject_is_skipped_without_its_id_number(status: str) -> None:
    refused = unanswered(PEOPLE.outsider, status)
    parsed = parse([refused, dossier(PEOPLE.head, [household(HOME, "head", HOME_MEMBERS)])])
    assert len(parsed.skipped) == 1
    assert status in parsed.skipped[0].reason
    assert parsed.skipped[0].subject_ref == blind(PEOPLE.outsider)
    assert not any(person in text_of(parsed) for person in EVERYONE)
    assert parsed.records  # one refusal does not stop the others


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("households"),
        lambda d: d.update(status=None),
        lambda d: d.update(person={"unexpected": [1, 2, 3]}),
        lambda d: d.update(relations="###"),
        lambda d: d["person"].update(birth_date="###"),
    ],
)
def test_a_malformed_dossier_is_skipped_without_personal_data(
    damage: Callable[[dict[str, Any]], object],
) -> None:
    item = dossier(PEOPLE.head, [household(HOME, "head", HOME_MEMBERS)], person={"name": "张建国"})
    damage(item)
    parsed = parse([item])
    assert parsed.records == []
    assert len(parsed.skipped) == 1
    assert parsed.skipped[0].subject_ref == blind(PEOPLE.head)
    assert not any(secret in text_of(parsed) for secret in (*EVERYONE, "张建国"))


def test_bulk_dossiers_carry_everything_about_their_person() -> None:
    """The child has open memberships in two counties and appears in both exports."""
    home = household(HOME, "child", HOME_MEMBERS)
    other = household(
        OTHER, "other", [member(PEOPLE.outsider, "head"), member(PEOPLE.child, "other")]
    )
    relation = {"from_id": PEOPLE.head, "to_id": PEOPLE.child, "kind": "parent", "since": None}
    child = dossier(PEOPLE.child, [home, other], relations=[relation])
    in_home_county = parse([ExportedDossier(child, "410702")]).records
    in_other_county = parse([ExportedDossier(child, "410721")]).records
    # own facts in the lowest county, with the home household and every relation she is in
    assert sorted(r.source_record_id for r in in_home_county) == sorted(
        [
            PEOPLE.child,
            f"{HOME}/{PEOPLE.child}",
            f"{OTHER}/{PEOPLE.child}",
            HOME,
            f"parent:{PEOPLE.head}:{PEOPLE.child}",
        ]
    )
    # in the other county only the household there (her own facts came with the home county)
    assert [(r.kind, r.source_record_id) for r in in_other_county] == [("household", OTHER)]
    head = dossier(PEOPLE.head, [household(HOME, "head", HOME_MEMBERS)], relations=[relation])
    assert {r.kind for r in parse([ExportedDossier(head, "410702")]).records} == {
        "person", "household", "membership", "relation",
    }  # fmt: skip


def test_bulk_leaves_deaths_to_the_change_feed() -> None:
    living = household(OTHER, "head", [member(PEOPLE.outsider, "head")])
    dead = dossier(
        PEOPLE.outsider, [living], person={"vital_status": "deceased", "death_date": "2026-01-01"}
    )
    assert not any(r.kind == "death" for r in parse([ExportedDossier(dead, "410721")]).records)
    assert any(r.kind == "death" for r in parse([dead]).records)


def change(kind: str, **more: Any) -> dict[str, Any]:
    return {"seq": 1, "kind": kind, "id_number": PEOPLE.spouse, "hukou_no": HOME,
            "region_code": "410702", "occurred_on": "2026-09-15", **more}  # fmt: skip


def test_changes_death_is_a_record_birth_and_move_are_only_checked() -> None:
    parsed = parse([change("death"), change("birth"), change("move")])
    assert [(r.kind, r.source_record_id) for r in parsed.records] == [
        ("death", f"death:{PEOPLE.spouse}")
    ]
    assert parsed.skipped == []
    damaged = parse(
        [change("move", id_number=None), change("marriage"), change("birth", seq="###")]
    )
    assert parsed.records
    assert damaged.records == []
    assert len(damaged.skipped) == 3
    assert not any(person in text_of(damaged) for person in EVERYONE)


def respond(routes: dict[str, Callable[[httpx.Request], httpx.Response]]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer secret"
        assert request.headers["x-client-id"] == "client"
        return routes[request.url.path](request)

    return handle


async def test_subject_fetch_sends_the_authorisation_and_drops_not_found() -> None:
    sent: list[httpx.Request] = []

    def query(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        found = dossier(PEOPLE.head, [household(HOME, "head", HOME_MEMBERS)])
        missing = unanswered(PEOPLE.child, "not_found")
        return httpx.Response(200, json={"results": [found, missing]})

    parsed = await connector(respond({"/gaj/v1/persons/query": query})).pull_subjects(
        SubjectQuery((PEOPLE.head, PEOPLE.child), AUTH_OK, AS_OF)
    )
    assert json.loads(sent[0].content) == {"id_numbers": [PEOPLE.head, PEOPLE.child]}
    assert sent[0].headers["x-authorisation-no"] == AUTH_OK
    assert parsed.skipped == []
    assert {r.kind for r in parsed.records} == {"person", "household", "membership"}


async def test_change_feed_cursor_is_the_last_seq_until_it_has_no_more() -> None:
    pages = {"": (True, 2), "2": (False, 3)}

    def changes(request: httpx.Request) -> httpx.Response:
        more, last = pages[request.url.params["cursor"]]
        assert request.headers["x-authorisation-no"] == "BD4107002026000001"
        return httpx.Response(
            200,
            json={"changes": [change("birth", seq=last)], "next_cursor": last, "has_more": more},
        )

    ps = connector(respond({"/gaj/v1/changes": changes}))
    first = await ps.fetch_bulk_page("changes", None)
    assert first.next_cursor == "2"
    last = await ps.fetch_bulk_page("changes", first.next_cursor)
    assert last.next_cursor is None
    assert ps.resume_from("changes", "2", complete=True) == "2"
    assert ps.resume_from("persons:410702", PEOPLE.head, complete=True) is None
    assert ps.resume_from("persons:410702", PEOPLE.head, complete=False) == PEOPLE.head


async def test_a_county_unknown_to_the_register_is_an_empty_finished_partition() -> None:
    def export(request: httpx.Request) -> httpx.Response:
        if request.url.params["region"] == "410703":
            return httpx.Response(400, json={"code": "UNKNOWN_REGION", "msg": "no such county"})
        return httpx.Response(400, json={"code": "INVALID_CURSOR", "msg": "bad after"})

    ps = connector(respond({"/gaj/v1/persons/export": export}))
    empty = await ps.fetch_bulk_page("persons:410703", None)
    assert (empty.items, empty.next_cursor) == ([], None)
    with pytest.raises(FatalSourceError, match="INVALID_CURSOR"):
        await ps.fetch_bulk_page("persons:410702", "x")
    assert len(ps.partitions()) == 13
    assert ps.partitions()[0] == "changes"
