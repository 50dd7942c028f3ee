"""Schemathesis against the GraphQL schema: no 5xx, no internal error, nothing leaked.

The schema is loaded from the production SDL (introspection is off in
production). Schemathesis generates valid and invalid queries and mutations
for every root field; real identifiers of the test household (its hukou
number, the open case, its flag, its members' ID numbers, its authorisation)
are put into matching arguments most of the time, so generated requests reach
real data rather than stopping at NOT_FOUND. Each request goes through the
real app with one principal's bearer token. Hypothesis runs in a worker
thread and hands every request back to the test's event loop, where the
Neo4j driver lives.

Every answer must be below 500, a GraphQL body, with public error codes only
(INTERNAL is a bug), and no string in it may carry a traceback, a module
path, driver or Cypher text, or a personal value of the household; the hub's
log for the run must not carry a personal value either.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import astuple, dataclass, field
from datetime import timedelta
from random import Random
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import graphql
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import AsyncDriver
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.schemas import APIOperation

from authz.principal import Principal, Role
from authz.protection import FieldProtection
from graph.case_store import raise_flag
from graph.model import DEPARTMENT_SOURCES
from hub.api.schema import build_schema
from tests.graph.records import ACCOUNT, HUKOU, NAMES, assistance_grant
from tests.hub.api.harness import CITY, OWN_COUNTY, OWN_TOWNSHIP, Api, principal
from tests.hub.api.scenarios import MEMBERS, TODAY, authorisation, write_household
from tests.sandbox.servers.tiny_city import PEOPLE

pytestmark = pytest.mark.anyio

# Per principal and operation (11 x 4); HUB_FUZZ_EXAMPLES=500 for a deeper run.
EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "20"))
SUBSTITUTE = 0.75  # chance that an argument with a real counterpart gets a real value

PRINCIPALS: dict[str, Principal] = {
    "caseworker": principal(Role.CASEWORKER, OWN_TOWNSHIP, organisation="org-1"),
    "verification centre": principal(Role.VERIFICATION_CENTRE, OWN_COUNTY),
    "agency": principal(Role.AGENCY, CITY),
    "administrator": principal(Role.ADMINISTRATOR, CITY),
}

PUBLIC_CODES = frozenset({"NOT_FOUND", "BAD_INPUT", "RATE_LIMITED", "INTERNAL"})
INTERNALS = ("Traceback", 'File "', "hub/", "graph/", ".py", "neo4j", "Neo.ClientError")
CYPHER = ("MATCH ", "UNWIND")
AUTH_NO = "SQ4107022026000001"
# Masked unless privileged; none of our principals is.
PERSONAL = (
    *NAMES.values(),
    *astuple(PEOPLE),
    HUKOU,
    ACCOUNT,
    "豫G12345",
    "新乡市红旗区渠东街道建设路12号",
    "新乡市红旗区平原路8号3单元",
    "13800001234",
)

OPEN = "mutation($h: String!) { openCase(hukouNo: $h, category: DIBAO) { id } }"


def _operations() -> dict[str, APIOperation[Any, Any, Any, Any]]:
    sdl = build_schema(development=False).as_str()
    schema = schemathesis.graphql.from_file(sdl, config=SchemathesisConfig())
    found = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    return {operation.label: operation for operation in found}


OPERATIONS = _operations()
# Where an answer with data proves the generated requests reach real data, not just errors.
ANSWERS_WITH_DATA = {
    ("caseworker", "Query.case"),
    ("caseworker", "Query.cases"),
    ("caseworker", "Query.household"),
    ("verification centre", "Query.case"),
    ("agency", "Query.assistanceStatus"),
    ("administrator", "Query.health"),
}


@dataclass
class RealValues:
    """Values of the test household, by argument (or input field) name."""

    strings: dict[str, list[str]]
    departments: list[str] = field(default_factory=lambda: [s.value for s in DEPARTMENT_SOURCES])

    def put_into(self, query: str, rnd: Random) -> str:
        """The query with some arguments that have real counterparts set to real values."""
        try:
            document = graphql.parse(query)
        except graphql.GraphQLError:
            return query
        return graphql.print_ast(graphql.visit(document, _Substitute(self, rnd)))

    def value_for(self, name: str, node: graphql.ValueNode, rnd: Random) -> graphql.ValueNode:
        if rnd.random() >= SUBSTITUTE:
            return node
        if name == "departments":
            chosen = rnd.sample(self.departments, rnd.randint(1, len(self.departments)))
            return graphql.ListValueNode(values=tuple(_string(d) for d in chosen))
        if name == "signatures":
            members = rnd.sample(MEMBERS, rnd.randint(1, len(MEMBERS)))
            return graphql.ListValueNode(values=tuple(_signature(m) for m in members))
        options = self.strings.get(name)
        if not options:
            return node
        if name == "purpose" and not isinstance(node, graphql.StringValueNode):
            return node  # assistanceStatus' purpose is an enum
        return _string(rnd.choice(options))


def _string(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


def _signature(id_number: str) -> graphql.ObjectValueNode:
    return graphql.ObjectValueNode(
        fields=(
            graphql.ObjectFieldNode(
                name=graphql.NameNode(value="idNumber"), value=_string(id_number)
            ),
            graphql.ObjectFieldNode(
                name=graphql.NameNode(value="signedOn"), value=_string(TODAY.isoformat())
            ),
        )
    )


class _Substitute(graphql.Visitor):
    def __init__(self, real: RealValues, rnd: Random) -> None:
        super().__init__()
        self.real = real
        self.rnd = rnd

    def enter_argument(self, node: graphql.ArgumentNode, *_: object) -> graphql.ArgumentNode:
        value = self.real.value_for(node.name.value, node.value, self.rnd)
        return graphql.ArgumentNode(name=node.name, value=value)

    def enter_object_field(
        self, node: graphql.ObjectFieldNode, *_: object
    ) -> graphql.ObjectFieldNode:
        value = self.real.value_for(node.name.value, node.value, self.rnd)
        return graphql.ObjectFieldNode(name=node.name, value=value)


def _strings(value: object, *, keys: bool = True) -> Iterator[str]:
    """Every string in a decoded JSON body, keys too unless told not to."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if keys:
                yield key
            yield from _strings(item, keys=keys)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, keys=keys)


def _error_problems(errors: object) -> list[str]:
    if not isinstance(errors, list) or not errors:
        return [f"errors is not a non-empty list: {errors!r}"]
    problems = []
    for error in errors:
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            problems.append(f"malformed error {error!r}")
            continue
        code = (error.get("extensions") or {}).get("code")
        if code is None:
            if "path" in error:  # a resolver's error without a public code
                problems.append(f"error without a code at {error['path']}: {error['message']}")
        elif code not in PUBLIC_CODES:
            problems.append(f"error with a non-public code {code}")
        elif code == "INTERNAL":
            problems.append(f"INTERNAL error at {error.get('path')}")
    return problems


def problems_of(query: str, response: httpx.Response) -> list[str]:
    """What is wrong with one answer; an empty list if nothing is."""
    if response.status_code >= 500:
        return [f"status {response.status_code}"]
    try:
        body = response.json()
    except json.JSONDecodeError:
        return [f"status {response.status_code}, not JSON: {response.text[:200]!r}"]
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return [f"status {response.status_code}, not a GraphQL body: {body!r}"]
    problems = _error_problems(body["errors"]) if "errors" in body else []
    for text in _strings(body.get("data"), keys=False):  # keys are the schema's (neo4jVersion)
        problems += _leaks(text)
    for error in body.get("errors") or []:
        # A validation error (no path) may quote the query's own literals back: not a leak.
        echoed = query if isinstance(error, dict) and "path" not in error else ""
        problems += [p for text in _strings(error) for p in _leaks(text, echoed)]
    rest = {k: v for k, v in body.items() if k not in {"data", "errors"}}
    problems += [p for text in _strings(rest) for p in _leaks(text)]
    return problems


def _leaks(text: str, echoed: str = "") -> list[str]:
    """Personal values and internals in one string of an answer, except those echoed."""
    found = [v for v in PERSONAL if v in text and v not in echoed]
    found += [
        m
        for m in (*INTERNALS, *CYPHER)
        if m.lower() in text.lower() and m.lower() not in echoed.lower()
    ]
    return [f"{v!r} in {text[:300]!r}" for v in found]


def outcome_of(response: httpx.Response) -> str:
    """`data`, or the answer's error codes (`None` for a validation error)."""
    body = response.json()
    if "errors" not in body:
        return "data"
    return ",".join(sorted({str((e.get("extensions") or {}).get("code")) for e in body["errors"]}))


@pytest.fixture
async def real(api: Api, driver: AsyncDriver, protection: FieldProtection) -> RealValues:
    """The test household with a valid authorisation, an open case of org-1 and its flag."""
    grant = assistance_grant("DB410702000001", MEMBERS[0], valid_from=TODAY - timedelta(days=100))
    await write_household(driver, protection, [authorisation(AUTH_NO), grant])
    opened = await api.query(PRINCIPALS["caseworker"], OPEN, {"h": HUKOU})
    assert "errors" not in opened, opened
    case_id = opened["data"]["openCase"]["id"]
    flag = await raise_flag(driver, "neo4j", case_id=case_id, rule_id="R-INCOME", severity="high")
    assert flag is not None
    case_ids = [case_id]
    return RealValues(
        strings={
            "hukouNo": [HUKOU],
            "id": case_ids,
            "caseId": case_ids,
            "flagId": [flag.flag_id],
            "idNumber": list(astuple(PEOPLE)),
            "authNo": [AUTH_NO, "SQ4107022026000099"],
            "purpose": ["application", "review"],
            "reason": ["income checked with the employer"],
        }
    )


@pytest.mark.parametrize("label", OPERATIONS)
@pytest.mark.parametrize("who", PRINCIPALS)
async def test_generated_requests_get_no_5xx_no_internal_error_and_no_leak(
    who: str,
    label: str,
    api: Api,
    real: RealValues,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="hub")
    caplog.set_level(logging.DEBUG, logger="strawberry")
    headers = {"authorization": f"Bearer {api.token(PRINCIPALS[who])}"}
    operation = OPERATIONS[label]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    outcomes: Counter[str] = Counter()

    async def send(query: str) -> httpx.Response:
        return await api.client.post("/graphql", json={"query": query}, headers=headers)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, rnd=st.randoms())
    def fuzz(case: Case[Any], rnd: Random) -> None:
        assert isinstance(case.body, str)
        query = real.put_into(case.body, rnd)
        response = anyio.from_thread.run(send, query)
        problems = problems_of(query, response)
        assert not problems, (
            f"{query}\n-> {response.status_code} {response.text[:2000]}\n{problems}"
        )
        outcomes[outcome_of(response)] += 1
        opened = (response.json().get("data") or {}).get("openCase")
        if opened and "id" in opened:
            real.strings["caseId"].append(opened["id"])

    await anyio.to_thread.run_sync(fuzz)

    if (who, label) in ANSWERS_WITH_DATA:
        assert outcomes["data"] > 0, outcomes
    logged = [caplog.text, *(r.getMessage() for r in caplog.records)]
    leaked = {v for v in PERSONAL for text in logged if v in text}
    assert not leaked, leaked
