"""Every role x every leaf field x every consent and jurisdiction scenario, as an attacker asks.

For each scenario the graph holds one household (5 departments' facts), its
authorisation in that state, an open (or closed) case of org-1 with a flag
and a verification request, and an assistance grant. Each principal asks for
every leaf the schema has under each root; the answer is compared leaf by
leaf with `policy_table.expected`: 0 values the table forbids, 0 denials of
values the table allows, identifiers masked unless the unmask privilege
applies.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from graphql import GraphQLSchema
from neo4j import AsyncDriver
from strawberry.types.base import StrawberryObjectDefinition

from authz.principal import Principal, Role
from authz.protection import FieldProtection
from graph.case_store import close_case, open_case, raise_flag, request_verification
from graph.model import AuthorisationRecord, Source
from graph.write_plans import household_key
from hub.api.guard import guard_of
from hub.api.schema import build_schema
from tests.graph.records import HUKOU, assistance_grant
from tests.hub.api.harness import Api, principal
from tests.hub.api.policy_table import (
    GUARDED,
    IDENTIFIERS,
    NO_DATA,
    ROOT_GROUPS,
    SCENARIOS,
    Scenario,
    expected,
)
from tests.hub.api.scenarios import MEMBERS, TODAY, authorisation, write_household
from tests.hub.api.schema_walk import Leaf, leaves, sdl_schema, selection

pytestmark = pytest.mark.anyio

PRINCIPALS: dict[str, Principal] = {
    "caseworker, own township": principal(Role.CASEWORKER, "410702001"),
    "caseworker, own township, unmask": principal(Role.CASEWORKER, "410702001", privileged=True),
    "caseworker, own township, other office": principal(
        Role.CASEWORKER, "410702001", organisation="org-2"
    ),
    "caseworker, other township": principal(Role.CASEWORKER, "410702002"),
    "centre, own county": principal(Role.VERIFICATION_CENTRE, "410702"),
    "centre, own county, unmask": principal(Role.VERIFICATION_CENTRE, "410702", privileged=True),
    "centre, city": principal(Role.VERIFICATION_CENTRE, "410700"),
    "centre, other county": principal(Role.VERIFICATION_CENTRE, "410721"),
    "agency": principal(Role.AGENCY, "410700"),
    "agency, unmask": principal(Role.AGENCY, "410700", privileged=True),
    "auditor": principal(Role.AUDITOR, "410700"),
    "administrator": principal(Role.ADMINISTRATOR, "410700", privileged=True),
}

AUTHORISATIONS: dict[str, list[AuthorisationRecord]] = {
    "valid consent": [authorisation()],
    "no consent": [],
    "revoked consent": [authorisation(revoked_on=TODAY - timedelta(days=1))],
    "expired consent": [
        authorisation(valid_from=TODAY - timedelta(days=400), valid_to=TODAY - timedelta(days=1))
    ],
    "partial consent": [authorisation(departments=(Source.PUBLIC_SECURITY, Source.TAX))],
    "case closed": [authorisation()],
}


AUTHORISATION_LEAVES = {
    f"Authorisation.{name}"
    for name in (
        [
            "authNo",
            "departments",
            "purpose",
            "validFrom",
            "validTo",
            "revokedOn",
            "signerCount",
            "state",
        ]
    )
}


def _schema_guards() -> dict[str, str]:
    found: dict[str, str] = {}
    schema = build_schema(development=False)
    for type_def in schema.schema_converter.type_map.values():
        definition = type_def.definition
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            group = guard_of(field)
            if group is not None:
                found[f"{definition.name}.{field.graphql_name or _camel(field.python_name)}"] = (
                    group.value
                )
    return found


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def test_the_schema_guards_exactly_the_fields_the_table_names() -> None:
    assert _schema_guards() == GUARDED


async def _setup(driver: AsyncDriver, protection: FieldProtection, scenario: Scenario) -> str:
    grant = assistance_grant("DB410702000001", MEMBERS[0], valid_from=TODAY - timedelta(days=100))
    await write_household(driver, protection, [*AUTHORISATIONS[scenario.name], grant])
    hid = household_key(protection, HUKOU)
    case = await open_case(
        driver, "neo4j", hid=hid, category="dibao", organisation="org-1", opened_by="cw-1"
    )
    assert case is not None
    await raise_flag(driver, "neo4j", case_id=case.case_id, rule_id="R-INCOME", severity="high")
    await request_verification(
        driver,
        "neo4j",
        case_id=case.case_id,
        purpose="application",
        as_of=TODAY,
        requested_by="cw-1",
    )
    if not scenario.case_open:
        await close_case(driver, "neo4j", case.case_id)
    return case.case_id


def _queries(schema: GraphQLSchema) -> dict[str, tuple[str, str]]:
    return {
        "household": (
            "Household",
            f"query($h: String!) {{ household(hukouNo: $h) {selection(schema, 'Household')} }}",
        ),
        "case": ("Case", f"query($c: ID!) {{ case(id: $c) {selection(schema, 'Case')} }}"),
        "assistanceStatus": (
            "AssistanceStatus",
            "query($n: String!) { assistanceStatus(idNumber: $n, purpose: EDUCATION_AID) "
            f"{selection(schema, 'AssistanceStatus')} }}",
        ),
        "health": ("Health", f"{{ health {selection(schema, 'Health')} }}"),
    }


def _violations(who: Principal, scenario: Scenario, root: str, found: list[Leaf]) -> list[str]:
    """Leaves are judged per (field, guarded path): Provenance under income is not under housing."""
    values: dict[tuple[str, tuple[str, ...]], list[Any]] = defaultdict(list)
    for leaf in found:
        values[leaf.key, leaf.groups].append(leaf.value)
    no_data = NO_DATA | (AUTHORISATION_LEAVES if not AUTHORISATIONS[scenario.name] else set())
    problems = []
    for (key, groups), seen in values.items():
        needed = [ROOT_GROUPS[root], *(GUARDED[g] for g in groups)]
        visible = all(expected(who, scenario, g) for g in needed)
        shown = [v for v in seen if v is not None]
        where = f"{root}:{'/'.join(groups)}:{key}"
        if not visible and shown:
            problems.append(f"UNAUTHORISED {where}")
        elif visible and not shown and not ({key, *groups} & no_data):
            problems.append(f"WRONGFULLY DENIED {where}")
        elif visible and key in IDENTIFIERS:
            clear = expected(who, scenario, "identifiers.unmasked")
            masked = [v for v in shown if "*" in v]
            if clear and masked:
                problems.append(f"MASKED THOUGH PRIVILEGED {where}")
            if not clear and len(masked) != len(shown):
                problems.append(f"UNMASKED IDENTIFIER {where}")
    return problems


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
async def test_every_role_sees_exactly_what_the_policy_table_allows(
    api: Api, driver: AsyncDriver, protection: FieldProtection, scenario: Scenario
) -> None:
    case_id = await _setup(driver, protection, scenario)
    schema = sdl_schema()
    variables = {"h": HUKOU, "c": case_id, "n": MEMBERS[0]}
    problems: list[str] = []
    checked = 0
    for label, who in PRINCIPALS.items():
        for root, (type_name, query) in _queries(schema).items():
            body = await api.query(who, query, variables)
            data = body.get("data") or {}
            if data.get(root) is None:
                codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
                assert codes == {"NOT_FOUND"}, (label, root, body)
            found = list(leaves(schema, type_name, data.get(root), GUARDED))
            checked += len({leaf.key for leaf in found})
            problems += [f"{label}: {p}" for p in _violations(who, scenario, root, found)]
    assert problems == []
    assert checked > 300  # the walk really reached the leaves
