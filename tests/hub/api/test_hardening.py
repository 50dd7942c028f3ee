"""Abuse probes: what a hostile or careless client tries, and what it gets.

Each probe must fail fast with a 4xx or a GraphQL error, run no resolver it
should not, and leave no personal data or internals in the answer or the log.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from neo4j import AsyncDriver, AsyncGraphDatabase

from authz.principal import Role
from authz.protection import FieldProtection
from hub.api.context import GraphAccess, Services
from hub.settings import Mode
from tests.graph.records import HUKOU, NAMES, assistance_grant
from tests.hub.api.harness import CITY, OTHER_COUNTY, OWN_COUNTY, Api, build_api, principal
from tests.hub.api.scenarios import MEMBERS, authorisation, write_household

pytestmark = pytest.mark.anyio

ADMIN = principal(Role.ADMINISTRATOR, CITY)
CENTRE = principal(Role.VERIFICATION_CENTRE, OWN_COUNTY)
HEALTH = "{ health { nodeCount } }"


def codes(body: dict[str, object]) -> set[object]:
    errors = body.get("errors")
    assert isinstance(errors, list)
    return {e.get("extensions", {}).get("code") for e in errors}


async def test_a_hundred_aliases_are_refused_before_execution(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: health {{ nodeCount }}" for i in range(100)) + " }"
    body = (await api.post(ADMIN, {"query": query})).json()
    assert body.get("data") is None
    assert "aliases" in json.dumps(body["errors"]).lower()


async def test_five_hundred_duplicated_fields_are_refused(api: Api) -> None:
    query = "{ health { " + "nodeCount " * 500 + "} }"
    body = (await api.post(ADMIN, {"query": query})).json()
    assert body.get("data") is None
    assert "more than once" in json.dumps(body["errors"])
    huge = "{ health { " + " ".join(f"a{i}: nodeCount" for i in range(1600)) + " } }"
    flood = (await api.post(ADMIN, {"query": huge})).json()
    assert flood.get("data") is None
    assert "token" in json.dumps(flood["errors"]).lower()


async def test_deep_queries_are_refused(api: Api) -> None:
    """The schema has no cycles, so no valid query is deeper than 9; depth is refused first."""
    deep = "{ health" + " { nodeCount" * 40 + " }" * 40 + " }"
    body = (await api.post(ADMIN, {"query": deep})).json()
    assert body.get("data") is None
    assert "exceeds maximum operation depth" in json.dumps(body["errors"])


async def test_get_is_not_served_in_production(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": HEALTH},
        headers={"authorization": f"Bearer {api.token(ADMIN)}"},
    )
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/x-www-form-urlencoded", "query=%7B+health+%7B+nodeCount+%7D+%7D"),
        (
            "multipart/form-data; boundary=XX",
            '--XX\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
            '{"query": "{ health { nodeCount } }"}\r\n--XX--\r\n',
        ),
        ("text/plain", "{ health { nodeCount } }"),
    ],
)
async def test_only_json_posts_are_executed(api: Api, content_type: str, content: str) -> None:
    response = await api.client.post(
        "/graphql",
        content=content.encode(),
        headers={"authorization": f"Bearer {api.token(ADMIN)}", "content-type": content_type},
    )
    assert 400 <= response.status_code < 500
    assert "nodeCount" not in response.text


async def test_batched_operations_are_refused(api: Api) -> None:
    response = await api.post(ADMIN, [{"query": HEALTH}, {"query": HEALTH}])
    assert response.status_code == 400
    assert "nodeCount" not in response.text


async def test_no_introspection_and_no_suggestions_in_production(api: Api) -> None:
    body = (await api.post(ADMIN, {"query": "{ __schema { types { name } } }"})).json()
    assert body.get("data") is None
    assert "introspection" in json.dumps(body["errors"]).lower()
    typo = (await api.post(ADMIN, {"query": "{ helth { nodeCount } }"})).json()
    assert "did you mean" not in json.dumps(typo).lower()
    assert "health" not in json.dumps(typo).replace("helth", "")


async def test_suggestions_help_in_development(
    driver: AsyncDriver, protection: FieldProtection, tmp_path: Path
) -> None:
    dev = build_api(driver, protection, tmp_path, mode=Mode.DEVELOPMENT)
    typo = (await dev.post(ADMIN, {"query": "{ helth { nodeCount } }"})).json()
    await dev.client.aclose()
    assert "did you mean" in json.dumps(typo).lower()


async def test_internal_errors_are_masked_and_logged_without_detail(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    dead = AsyncGraphDatabase.driver(
        "bolt://127.0.0.1:9", auth=("neo4j", "secret-password"), max_transaction_retry_time=0
    )
    broken = Services(
        graph=GraphAccess(dead, "neo4j"),
        pdp=api.services.pdp,
        protection=api.services.protection,
        agency_limiter=api.services.agency_limiter,
        verifications=api.services.verifications,
    )
    app = api.client._transport.app  # type: ignore[attr-defined]
    app.services = broken
    caplog.set_level(logging.DEBUG, logger="hub")
    caplog.set_level(logging.DEBUG, logger="strawberry")
    response = await api.post(ADMIN, {"query": HEALTH})
    await dead.close()
    body = response.json()
    assert response.status_code == 200
    assert body["errors"] == [
        {
            "message": "Internal error",
            "locations": [{"line": 1, "column": 3}],
            "path": ["health"],
            "extensions": {"code": "INTERNAL"},
        }
    ]
    logged = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("hub", "strawberry"))
    )
    assert "graphql internal error ServiceUnavailable at health" in logged
    for secret in ("127.0.0.1:9", "secret-password", "Traceback", "Couldn't connect"):
        assert secret not in logged


async def test_forbidden_and_nonexistent_look_the_same(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection, [authorisation()])
    outsider = principal(Role.VERIFICATION_CENTRE, OTHER_COUNTY)
    query = "query($h: String!) { household(hukouNo: $h) { id members { id } } }"
    forbidden = await api.post(outsider, {"query": query, "variables": {"h": HUKOU}})
    missing = await api.post(outsider, {"query": query, "variables": {"h": "H41070299999999"}})
    allowed = await api.post(CENTRE, {"query": query, "variables": {"h": HUKOU}})
    assert forbidden.status_code == missing.status_code == 200
    assert forbidden.json() == missing.json()
    assert codes(forbidden.json()) == {"NOT_FOUND"}
    assert allowed.json()["data"]["household"]["members"]


async def test_bad_input_errors_name_the_argument_never_the_value(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    agency = principal(Role.AGENCY, CITY)
    wrong = MEMBERS[0][:-1] + ("0" if MEMBERS[0][-1] != "0" else "1")
    query = (
        "query($n: String!) { assistanceStatus(idNumber: $n, purpose: EDUCATION_AID) "
        "{ receiving } }"
    )
    body = (await api.post(agency, {"query": query, "variables": {"n": wrong}})).json()
    assert codes(body) == {"BAD_INPUT"}
    assert wrong not in json.dumps(body)
    assert wrong not in caplog.text


async def test_pages_are_capped_and_cursors_checked(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection, [authorisation()])
    query = (
        "query($h: String!, $f: Int, $a: String) { household(hukouNo: $h) "
        "{ members { finances { income(first: $f, after: $a) { totalCount } } } } }"
    )
    for variables, code in (
        ({"f": 101}, "BAD_INPUT"),
        ({"f": 0}, "BAD_INPUT"),
        ({"a": "!!"}, "BAD_INPUT"),
    ):
        body = (
            await api.post(CENTRE, {"query": query, "variables": {"h": HUKOU, **variables}})
        ).json()
        assert codes(body) == {code}, body
    fine = (await api.post(CENTRE, {"query": query, "variables": {"h": HUKOU, "f": 100}})).json()
    assert "errors" not in fine


async def test_agencies_may_look_up_only_so_many_distinct_people_an_hour(
    driver: AsyncDriver, protection: FieldProtection, tmp_path: Path
) -> None:
    limited = build_api(driver, protection, tmp_path, agency_limit=2)
    agency = principal(Role.AGENCY, CITY)
    other_agency = principal(Role.AGENCY, CITY, subject="agency-2")
    query = (
        "query($n: String!) { assistanceStatus(idNumber: $n, purpose: HOUSING_AID) { receiving } }"
    )

    async def ask(who: object, number: str) -> set[object] | None:
        body = (await limited.post(who, {"query": query, "variables": {"n": number}})).json()  # type: ignore[arg-type]
        return codes(body) if "errors" in body else None

    assert await ask(agency, MEMBERS[0]) is None
    assert await ask(agency, MEMBERS[1]) is None
    assert await ask(agency, MEMBERS[0]) is None  # the same person again costs nothing
    assert await ask(agency, MEMBERS[2]) == {"RATE_LIMITED"}
    assert await ask(other_agency, MEMBERS[2]) is None  # per principal
    await limited.client.aclose()


async def test_agencies_see_status_only(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection, [assistance_grant("DB410702000001", MEMBERS[0])])
    agency = principal(Role.AGENCY, CITY)
    query = (
        "query($n: String!) { assistanceStatus(idNumber: $n, purpose: MEDICAL_AID) "
        "{ on receiving grants { category validFrom validTo } } }"
    )
    receiving = (await api.post(agency, {"query": query, "variables": {"n": MEMBERS[0]}})).json()
    grants = receiving["data"]["assistanceStatus"]["grants"]
    assert receiving["data"]["assistanceStatus"]["receiving"] is True
    assert grants == [{"category": "DIBAO", "validFrom": "2024-03-01", "validTo": None}]
    nobody = (await api.post(agency, {"query": query, "variables": {"n": MEMBERS[1]}})).json()
    assert nobody["data"]["assistanceStatus"]["receiving"] is False
    household = "query($h: String!) { household(hukouNo: $h) { id } }"
    denied = (await api.post(agency, {"query": household, "variables": {"h": HUKOU}})).json()
    assert codes(denied) == {"NOT_FOUND"}
    for name in NAMES.values():
        assert name not in json.dumps(receiving)


async def test_missing_and_forged_tokens_get_401_without_detail(api: Api) -> None:
    missing = await api.client.post("/graphql", json={"query": HEALTH})
    token = api.token(ADMIN)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    bad = await api.client.post(
        "/graphql", json={"query": HEALTH}, headers={"authorization": f"Bearer {forged}"}
    )
    assert missing.status_code == bad.status_code == 401
    assert missing.content == bad.content
