"""DataLoaders, made fresh for every request: each graph read happens once, batched.

Resolvers ask loaders, never the driver, so a household of N members costs one
authorisation read for all N (not N), and a list of cases one read for all
their flags. Keys are blind indexes and ids; nothing here decides access.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from neo4j import AsyncDriver
from strawberry.dataloader import DataLoader

from authz.consent import SignedAuthorisation
from graph.case_store import (
    CaseRow,
    FlagRow,
    HouseholdPlace,
    VerificationRow,
    cases_by_id,
    flags_by_id,
    flags_of,
    household_places,
    households_with_open_case,
    verifications_of,
)
from graph.consent_store import AuthorisationSummary, authorisations_signed_by, list_authorisations
from graph.household_reader import HouseholdAsOf, read_household_as_of

HouseholdKey = tuple[str, date, date, datetime]  # hid, window start, window end, recorded at


class Loaders:
    def __init__(self, driver: AsyncDriver, database: str, organisation: str) -> None:
        self._driver = driver
        self._database = database
        self._organisation = organisation
        self.places = DataLoader(load_fn=self._places)
        self.households = DataLoader(load_fn=self._households)
        self.signed = DataLoader(load_fn=self._signed)
        self.open_case = DataLoader(load_fn=self._open_case)
        self.cases = DataLoader(load_fn=self._cases)
        self.verifications = DataLoader(load_fn=self._verifications)
        self.flags = DataLoader(load_fn=self._flags)
        self.flag = DataLoader(load_fn=self._flag)
        self.authorisations_for = DataLoader(load_fn=self._authorisations_for)

    async def _places(self, hids: Sequence[str]) -> list[HouseholdPlace | None]:
        found = await household_places(self._driver, self._database, hids)
        return [found.get(h) for h in hids]

    async def _households(self, keys: Sequence[HouseholdKey]) -> list[HouseholdAsOf | None]:
        # One map-projected read per household; a request rarely asks for more than one.
        return [
            await read_household_as_of(
                self._driver, self._database, hid, window=(start, end), recorded_at=recorded
            )
            for hid, start, end, recorded in keys
        ]

    async def _signed(self, pids: Sequence[str]) -> list[list[SignedAuthorisation]]:
        found = await authorisations_signed_by(self._driver, self._database, pids)
        return [found.get(p, []) for p in pids]

    async def _open_case(self, hids: Sequence[str]) -> list[bool]:
        found = await households_with_open_case(
            self._driver, self._database, hids, self._organisation
        )
        return [h in found for h in hids]

    async def _cases(self, case_ids: Sequence[str]) -> list[CaseRow | None]:
        found = await cases_by_id(self._driver, self._database, case_ids)
        return [found.get(c) for c in case_ids]

    async def _verifications(self, case_ids: Sequence[str]) -> list[list[VerificationRow]]:
        found = await verifications_of(self._driver, self._database, case_ids)
        return [found.get(c, []) for c in case_ids]

    async def _flags(self, case_ids: Sequence[str]) -> list[list[FlagRow]]:
        found = await flags_of(self._driver, self._database, case_ids)
        return [found.get(c, []) for c in case_ids]

    async def _flag(self, flag_ids: Sequence[str]) -> list[FlagRow | None]:
        found = await flags_by_id(self._driver, self._database, flag_ids)
        return [found.get(f) for f in flag_ids]

    async def _authorisations_for(self, hids: Sequence[str]) -> list[list[AuthorisationSummary]]:
        return [await list_authorisations(self._driver, self._database, hid=hid) for hid in hids]
