"""Case work through the API: open, record and revoke authorisations, resolve flags, close, list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from neo4j import AsyncDriver

from authz.principal import Role
from authz.protection import FieldProtection
from graph.case_store import raise_flag
from graph.writer import GraphWriter
from tests.graph.records import HUKOU, household_records
from tests.hub.api.harness import OTHER_TOWNSHIP, OWN_COUNTY, OWN_TOWNSHIP, Api, principal
from tests.hub.api.scenarios import MEMBERS, TODAY, write_household

pytestmark = pytest.mark.anyio

BAD_ID = "410702199001011230"  # the check character does not match
WORKER = principal(Role.CASEWORKER, OWN_TOWNSHIP)
OPEN = "mutation($h: String!) { openCase(hukouNo: $h, category: TEKUN) { id open category } }"
RECORD = """
mutation($c: ID!, $a: AuthorisationInput!) {
  recordAuthorisation(caseId: $c, input: $a) { authNo departments state signerCount }
}"""
REVOKE = """
mutation($c: ID!, $n: String!) { revokeAuthorisation(caseId: $c, authNo: $n) { state revokedOn } }
"""
TAX = """
query($h: String!) { household(hukouNo: $h) { members { role consents { department state }
  finances { income { totalCount } } } } }"""


def codes(body: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors", [])}


def signed(auth_no: str = "SQ4107022026000777", **overrides: Any) -> dict[str, Any]:
    return {
        "authNo": auth_no,
        "departments": ["public_security", "housing", "tax", "banking", "medical"],
        "purpose": "application",
        "validFrom": (TODAY - timedelta(days=1)).isoformat(),
        "validTo": (TODAY + timedelta(days=180)).isoformat(),
        "signatures": [{"idNumber": m, "signedOn": TODAY.isoformat()} for m in MEMBERS],
        **overrides,
    }


async def open_case(api: Api) -> str:
    body = await api.query(WORKER, OPEN, {"h": HUKOU})
    assert "errors" not in body, body
    assert body["data"]["openCase"] == {
        "id": body["data"]["openCase"]["id"],
        "open": True,
        "category": "TEKUN",
    }
    return str(body["data"]["openCase"]["id"])


async def test_recording_then_revoking_an_authorisation_opens_then_closes_the_finances(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection)
    case_id = await open_case(api)
    hidden = await api.query(WORKER, TAX, {"h": HUKOU})
    assert codes(hidden) == {"NOT_FOUND"}  # no consent yet: not even the composition

    recorded = await api.query(WORKER, RECORD, {"c": case_id, "a": signed()})
    assert recorded["data"]["recordAuthorisation"] == {
        "authNo": "SQ4107022026000777",
        "departments": ["banking", "housing", "medical", "public_security", "tax"],
        "state": "VALID",
        "signerCount": 3,
    }
    shown = await api.query(WORKER, TAX, {"h": HUKOU})
    head = next(m for m in shown["data"]["household"]["members"] if m["role"] == "head")
    assert head["finances"]["income"]["totalCount"] == 1
    assert {c["state"] for c in head["consents"]} == {"GRANTED"}

    revoked = await api.query(WORKER, REVOKE, {"c": case_id, "n": "SQ4107022026000777"})
    assert revoked["data"]["revokeAuthorisation"]["state"] == "REVOKED"
    after = await api.query(WORKER, TAX, {"h": HUKOU})
    assert codes(after) == {"NOT_FOUND"}  # revocation stops reads at once


async def test_an_authorisation_covering_some_departments_shows_only_theirs(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection)
    case_id = await open_case(api)
    await api.query(
        WORKER, RECORD, {"c": case_id, "a": signed(departments=["public_security", "housing"])}
    )
    body = await api.query(WORKER, TAX, {"h": HUKOU})
    for member in body["data"]["household"]["members"]:
        assert member["finances"]["income"] is None
        states = {c["department"]: c["state"] for c in member["consents"]}
        assert states["tax"] == "DEPARTMENT_NOT_COVERED"
        assert states["housing"] == "GRANTED"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"departments": ["police"]}, "departments"),
        ({"departments": []}, "departments"),
        ({"authNo": "not-a-number"}, "authNo"),
        ({"validTo": "2020-01-01"}, "validTo"),
        ({"signatures": []}, "signatures"),
        (
            {"signatures": [{"idNumber": "410702199001011230", "signedOn": "2026-11-01"}]},
            "idNumber",
        ),
    ],
)
async def test_bad_authorisations_are_refused_with_what_to_fix(
    api: Api,
    driver: AsyncDriver,
    protection: FieldProtection,
    overrides: dict[str, Any],
    message: str,
) -> None:
    await write_household(driver, protection)
    case_id = await open_case(api)
    body = await api.query(WORKER, RECORD, {"c": case_id, "a": signed(**overrides)})
    assert codes(body) == {"BAD_INPUT"}, body
    assert message in body["errors"][0]["message"]


async def test_signers_must_be_members_and_numbers_are_not_reused(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    elder = next(
        r for r in household_records() if getattr(r, "id_number", None) not in (None, *MEMBERS)
    )
    await write_household(driver, protection)
    case_id = await open_case(api)
    outsider = getattr(elder, "id_number", None)
    assert outsider is not None
    stranger = signed(signatures=[{"idNumber": outsider, "signedOn": TODAY.isoformat()}])
    refused = await api.query(WORKER, RECORD, {"c": case_id, "a": stranger})
    assert codes(refused) == {"BAD_INPUT"}
    assert "member" in refused["errors"][0]["message"]
    assert outsider not in str(refused)
    await api.query(WORKER, RECORD, {"c": case_id, "a": signed()})
    again = await api.query(WORKER, RECORD, {"c": case_id, "a": signed()})
    assert codes(again) == {"BAD_INPUT"}


async def test_other_townships_cannot_touch_the_case(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection)
    case_id = await open_case(api)
    stranger = principal(Role.CASEWORKER, OTHER_TOWNSHIP)
    for query, variables in (
        (OPEN, {"h": HUKOU}),
        (RECORD, {"c": case_id, "a": signed()}),
        (REVOKE, {"c": case_id, "n": "SQ4107022026000777"}),
        ("query($c: ID!) { case(id: $c) { id } }", {"c": case_id}),
    ):
        assert codes(await api.query(stranger, query, variables)) == {"NOT_FOUND"}
    centre = principal(Role.VERIFICATION_CENTRE, OWN_COUNTY)
    assert codes(await api.query(centre, OPEN, {"h": HUKOU})) == {"NOT_FOUND"}
    assert (await api.query(centre, "query($c: ID!) { case(id: $c) { id } }", {"c": case_id}))[
        "data"
    ]["case"] == {"id": case_id}


async def test_flags_are_resolved_with_a_sealed_reason(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection)
    case_id = await open_case(api)
    flag = await raise_flag(driver, "neo4j", case_id=case_id, rule_id="R-DEPOSIT", severity="high")
    assert flag is not None
    resolve = "mutation($f: ID!, $r: String!) { resolveFlag(flagId: $f, reason: $r) { open } }"
    short = await api.query(WORKER, resolve, {"f": flag.flag_id, "r": "ok"})
    assert codes(short) == {"BAD_INPUT"}
    reason = "王建国的存款为其父亲的丧葬费, 已核实收据"
    done = await api.query(WORKER, resolve, {"f": flag.flag_id, "r": reason})
    assert done["data"]["resolveFlag"] == {"open": False}
    listed = await api.query(
        WORKER, "query($c: ID!) { case(id: $c) { flags { ruleId open } } }", {"c": case_id}
    )
    assert listed["data"]["case"]["flags"] == [{"ruleId": "R-DEPOSIT", "open": False}]
    records, _, _ = await driver.execute_query("MATCH (f:Flag) RETURN properties(f) AS p")
    assert reason not in repr([r["p"] for r in records])


async def test_a_closed_case_ends_the_caseworkers_access(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection)
    case_id = await open_case(api)
    await api.query(WORKER, RECORD, {"c": case_id, "a": signed()})
    assert "errors" not in await api.query(WORKER, TAX, {"h": HUKOU})
    closed = await api.query(
        WORKER, "mutation($c: ID!) { closeCase(caseId: $c) { open closedAt } }", {"c": case_id}
    )
    assert closed["data"]["closeCase"]["open"] is False
    assert codes(await api.query(WORKER, TAX, {"h": HUKOU})) == {"NOT_FOUND"}


async def test_cases_are_listed_by_place_and_paged(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection)
    opened = {await open_case(api) for _ in range(3)}
    listing = """query($a: String) { cases(first: 2, after: $a) {
        edges { node { id } } pageInfo { hasNextPage endCursor } totalCount } }"""
    first = (await api.query(WORKER, listing))["data"]["cases"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["totalCount"] == 3
    rest = (await api.query(WORKER, listing, {"a": first["pageInfo"]["endCursor"]}))["data"][
        "cases"
    ]
    seen = {e["node"]["id"] for e in first["edges"] + rest["edges"]}
    assert seen == opened
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["totalCount"] == 3
    centre = principal(Role.VERIFICATION_CENTRE, OWN_COUNTY)
    centres = (await api.query(centre, listing))["data"]["cases"]
    assert (len(centres["edges"]), centres["totalCount"]) == (2, 3)
    closed = await api.query(
        WORKER, "mutation($c: ID!) { closeCase(caseId: $c) { open } }", {"c": sorted(opened)[0]}
    )
    assert closed["data"]["closeCase"]["open"] is False
    everything = "{ cases(openOnly: false) { totalCount } }"
    assert (await api.query(WORKER, everything))["data"]["cases"]["totalCount"] == 2
    assert (await api.query(centre, everything))["data"]["cases"]["totalCount"] == 3
    stranger = principal(Role.CASEWORKER, OTHER_TOWNSHIP)
    assert (await api.query(stranger, listing))["data"]["cases"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "totalCount": 0,
    }
    agency = principal(Role.AGENCY, "410700")
    assert (await api.query(agency, listing))["data"]["cases"]["totalCount"] == 0


async def test_a_household_as_the_hub_knew_it_then(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection)
    case_id = await open_case(api)
    await api.query(WORKER, RECORD, {"c": case_id, "a": signed()})
    first = await api.query(WORKER, "{ cases { edges { node { openedAt } } } }")
    then = first["data"]["cases"]["edges"][0]["node"]["openedAt"]
    await GraphWriter(driver, "neo4j", protection).write(household_records(gross_fen=999_000))
    query = """query($h: String!, $r: DateTime) { household(hukouNo: $h, recordedAt: $r) {
        finances { incomeByMonth { month grossFen } } } }"""
    now = await api.query(WORKER, query, {"h": HUKOU})
    before = await api.query(WORKER, query, {"h": HUKOU, "r": then})
    assert now["data"]["household"]["finances"]["incomeByMonth"][0]["grossFen"] == 999_000
    assert before["data"]["household"]["finances"]["incomeByMonth"][0]["grossFen"] == 450_000
