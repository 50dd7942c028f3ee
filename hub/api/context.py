"""The per-request GraphQL context: who asks, what the process holds, and this request's loaders.

`Services` is built once by the app's lifespan; `Context` once per request,
with fresh DataLoaders (a loader caches for one request only, so nothing one
caller loaded is ever served to another) and the list of every authorisation
decision the request made, which the audit log will record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from neo4j import AsyncDriver
from starlette.requests import Request
from starlette.responses import Response

from authz.decision import Decision, PolicyDecisionPoint
from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from authz.principal import Principal
from authz.protection import FieldProtection
from graph.case_store import VerificationRow
from hub.api.loaders import Loaders
from hub.api.rate_limit import DistinctSubjectLimiter


@dataclass(frozen=True)
class GraphAccess:
    """The process-wide driver and the database it reads; opened once by the app's lifespan."""

    driver: AsyncDriver
    database: str


class VerificationSubmitter(Protocol):
    """Where an accepted verification request goes to be run (`hub.verification`)."""

    def submit(self, request: VerificationRow, members: dict[str, str]) -> None: ...


@dataclass(frozen=True)
class Services:
    graph: GraphAccess
    pdp: PolicyDecisionPoint
    protection: FieldProtection
    agency_limiter: DistinctSubjectLimiter
    verifications: VerificationSubmitter


@dataclass
class Context:
    request: Request
    response: Response
    services: Services
    principal: Principal
    loaders: Loaders
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    decisions: list[Decision] = field(default_factory=list)

    @property
    def graph(self) -> GraphAccess:
        return self.services.graph

    @property
    def today(self) -> date:
        """The date consent is checked against: access happens now, whatever `asOf` says."""
        return self.now.date()

    def allows(
        self,
        group: FieldGroup,
        resource: HouseholdResource | None,
        context: DecisionContext,
    ) -> bool:
        """Ask the decision point; every decision is kept for the audit entry."""
        decision = self.services.pdp.decide(self.principal, group, resource, context)
        self.decisions.append(decision)
        return decision.allowed


def new_context(request: Request, response: Response, services: Services) -> Context:
    principal: Principal = request.state.principal
    return Context(
        request=request,
        response=response,
        services=services,
        principal=principal,
        loaders=Loaders(services.graph.driver, services.graph.database, principal.organisation),
    )
