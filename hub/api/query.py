"""The read side of the API: health, cases, households, assistance status."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import strawberry
from strawberry.types.info import Info

from authz.field_groups import DecisionContext, FieldGroup
from authz.principal import Role
from graph.assistance_reader import assistance_of
from graph.case_store import CaseFilter, CaseRow, CaseStatus, count_cases, list_cases
from graph.health import read_health
from graph.identifiers import id_number_problem, normalise_id_number
from hub.api.context import Context
from hub.api.errors import BadInput, NotAvailable, RateLimited
from hub.api.household_query import hid_of, load_household
from hub.api.pagination import Connection, Edge, PageInfo, decode_cursor, encode_cursor, page_size
from hub.api.types.assistance import AssistanceStatus, Purpose, assistance_status
from hub.api.types.cases import Case, case
from hub.api.types.household import Household


@strawberry.type(description="Whether the hub can read its graph, and what the graph is.")
class Health:
    neo4j_version: str
    neo4j_edition: str
    node_count: int
    schema_version: int


def _case_allowed(info: Info[Context, None], row: CaseRow) -> Case | None:
    found = case(row, info.context.principal)
    resource, context = found.decision_inputs(FieldGroup.CASE_READ)
    return found if info.context.allows(FieldGroup.CASE_READ, resource, context) else None


@strawberry.type
class Query:
    @strawberry.field(description="A live read from Neo4j (administrators).")
    async def health(self, info: Info[Context, None]) -> Health:
        if not info.context.allows(FieldGroup.HEALTH_READ, None, DecisionContext()):
            raise NotAvailable
        graph = info.context.graph
        found = await read_health(graph.driver, graph.database)
        return Health(
            neo4j_version=found.neo4j_version,
            neo4j_edition=found.neo4j_edition,
            node_count=found.node_count,
            schema_version=found.schema_version,
        )

    @strawberry.field(description="One case, if it is yours to see.")
    async def case(self, info: Info[Context, None], id: strawberry.ID) -> Case:
        row = await info.context.loaders.cases.load(str(id))
        found = None if row is None else _case_allowed(info, row)
        if found is None:
            raise NotAvailable
        return found

    @strawberry.field(description="Cases in your township (caseworkers) or jurisdiction.")
    async def cases(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        open_only: bool = True,
    ) -> Connection[Case]:
        size = page_size(first)
        ctx = info.context
        principal = ctx.principal
        start = None if after is None else decode_cursor(after, "c:")
        status = CaseStatus.OPEN if open_only else None
        where = CaseFilter(regions=(), status=status)  # other roles: no cases
        if principal.role is Role.CASEWORKER:
            # A caseworker's access rests on an open case of its own office: closed ones
            # would be refused one by one, so they are not listed (or counted) at all.
            where = CaseFilter(principal.region, principal.organisation, None, CaseStatus.OPEN)
        elif principal.role is Role.VERIFICATION_CENTRE:
            where = CaseFilter(regions=(principal.region,), status=status)
        graph = ctx.graph
        rows, total = await asyncio.gather(
            list_cases(graph.driver, graph.database, where, after=start, limit=size + 1),
            count_cases(graph.driver, graph.database, where),
        )
        shown = [c for c in (_case_allowed(info, r) for r in rows[:size]) if c is not None]
        edges = [Edge(cursor=encode_cursor(f"c:{c.id}"), node=c) for c in shown]
        more = len(rows) > size
        last = encode_cursor(f"c:{rows[size - 1].case_id}") if more else None
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more, end_cursor=last or (edges[-1].cursor if edges else None)
            ),
            total_count=total,
        )

    @strawberry.field(description="A household by hukou number, as of a day (default today).")
    async def household(
        self,
        info: Info[Context, None],
        hukou_no: str,
        as_of: date | None = None,
        recorded_at: datetime | None = None,
    ) -> Household:
        return await load_household(info, hid_of(info, hukou_no), as_of, recorded_at)

    @strawberry.field(
        description="For other agencies: does this person hold assistance status on a day?"
    )
    async def assistance_status(
        self,
        info: Info[Context, None],
        id_number: str,
        purpose: Purpose,
        on: date | None = None,
    ) -> AssistanceStatus:
        ctx = info.context
        if not ctx.allows(
            FieldGroup.ASSISTANCE_STATUS, None, DecisionContext(purpose=purpose.value)
        ):
            raise NotAvailable
        normalised = normalise_id_number(id_number)
        if id_number_problem(normalised) is not None:
            raise BadInput("idNumber is not a valid resident ID number")
        protection = ctx.services.protection
        pid = protection.blind(normalised, field="id_number")
        principal = ctx.principal
        if not ctx.services.agency_limiter.admit(
            f"{principal.organisation}/{principal.subject}", pid
        ):
            raise RateLimited
        day = on or ctx.today
        grants = await assistance_of(ctx.graph.driver, ctx.graph.database, [pid], day)
        return assistance_status(grants.get(pid, []), day)
