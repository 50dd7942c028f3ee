"""A caseworker's day, end to end: open a case, read the household, see consent at work."""

from __future__ import annotations

import pytest
from neo4j import AsyncDriver
from starlette.requests import Request
from starlette.responses import Response

from authz.principal import Role
from authz.protection import FieldProtection
from hub.api.context import new_context
from hub.api.schema import build_schema
from tests.graph.records import HUKOU
from tests.hub.api.harness import OWN_TOWNSHIP, Api, principal
from tests.hub.api.scenarios import authorisation, write_household

pytestmark = pytest.mark.anyio

OPEN = "mutation($h: String!) { openCase(hukouNo: $h, category: DIBAO) { id open townshipCode } }"
HOUSEHOLD = """
query($id: ID!) { case(id: $id) { id household { id hukouNo townshipName members {
  id idNumber name role birthDate consents { department state authNo }
  finances { vehicles { brand plate valueFen provenance { source sourceRecordId recordKey } }
             income { totalCount edges { node { period grossFen } } }
             accounts { bank accountNo balances { asOf balanceFen } } }
} finances { incomeByMonth { month grossFen } propertyCount depositsFen } } } }
"""


async def test_caseworker_opens_a_case_and_reads_the_household(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    await write_household(driver, protection, [authorisation()])
    worker = principal(Role.CASEWORKER, OWN_TOWNSHIP)
    opened = await api.query(worker, OPEN, {"h": HUKOU})
    assert "errors" not in opened, opened
    case_id = opened["data"]["openCase"]["id"]
    body = await api.query(worker, HOUSEHOLD, {"id": case_id})
    assert "errors" not in body, body
    household = body["data"]["case"]["household"]
    assert household["hukouNo"].startswith("H4")
    assert "*" in household["hukouNo"]
    assert len(household["members"]) == 3
    head = next(m for m in household["members"] if m["role"] == "head")
    assert "********" in head["idNumber"]
    assert head["finances"]["vehicles"][0]["valueFen"] == 6_000_000
    assert household["finances"]["incomeByMonth"] == [{"month": "2026-10", "grossFen": 450000}]


async def test_every_decision_is_kept_with_the_policies_that_made_it(
    api: Api, driver: AsyncDriver, protection: FieldProtection
) -> None:
    """What the audit log will record: one decision per group asked, naming its policies."""
    await write_household(driver, protection, [authorisation()])
    worker = principal(Role.CASEWORKER, OWN_TOWNSHIP)
    await api.query(worker, OPEN, {"h": HUKOU})
    request = Request({"type": "http", "method": "POST", "path": "/graphql", "headers": []})
    request.state.principal = worker
    context = new_context(request, Response(), api.services)
    result = await build_schema(development=False).execute(
        "query($h: String!) { household(hukouNo: $h) { members { idNumber "
        "finances { income { totalCount } accounts { bank } } } } }",
        variable_values={"h": HUKOU},
        context_value=context,
    )
    assert result.errors is None
    decided = {(d.group.value, d.allowed, d.policies) for d in context.decisions}
    assert decided == {
        ("household.members", True, ("caseworker-household-read",)),
        ("identifiers.unmasked", False, ()),
        ("finance.tax", True, ("caseworker-finance-read",)),
        ("finance.banking", True, ("caseworker-finance-read",)),
    }
