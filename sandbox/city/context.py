"""What every cluster of one city shares: reference data, calendars, counters, employers.

Nothing here grows with the city: counters are integers, the employer pool and the
caseworker quotas are per county and township, and the ID number table has a fixed size
(see `idnumbers`).
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sandbox.city import codes
from sandbox.city.idnumbers import IdNumberFactory
from sandbox.city.model import Payer
from sandbox.city.names import COMPANY_WORDS
from sandbox.city.rates import PlantRates
from sandbox.city.reference import (
    County,
    Standards,
    Township,
    all_area_codes,
    counties,
    standards,
)
from sandbox.city.rng import Weighted, derive

OLDEST_AGE = 104
_INDUSTRIES = ("机械", "纺织", "食品", "化工", "建材", "物流", "电器", "医药", "商贸", "建筑")
_COMPANY_KINDS = ("有限公司", "有限责任公司", "股份有限公司")


@dataclass(slots=True)
class Counters:
    """Running numbers behind every unique identifier; they grow in generation order."""

    household: int = 0
    property: int = 0
    vehicle: int = 0
    account: int = 0
    product: int = 0
    enrolment: int = 0
    claim: int = 0
    income: int = 0
    grant: int = 0
    application: int = 0
    authorisation: int = 0
    change: int = 0
    staff: dict[str, int] = field(default_factory=dict)


def _month_back(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 - months
    return index // 12, index % 12 + 1


class CityContext:
    """Shared, read-mostly state of one generation run."""

    def __init__(self, seed: int, as_of: date, rates: PlantRates) -> None:
        self.seed = seed
        self.as_of = as_of
        self.rates = rates
        self.rate_table = rates.as_dict()
        self.standards: Standards = standards(as_of)
        self.counties = counties()
        self.county_choice = Weighted([(c, float(c.weight)) for c in self.counties])
        self.first_birth = date(as_of.year - OLDEST_AGE - 1, 1, 1)
        self.ids = IdNumberFactory(all_area_codes(), self.first_birth, as_of)
        self.counters = Counters()
        self.feed_start = as_of - timedelta(days=3 * 365)
        # income periods: the 12 latest months already filed (on the 10th of the next month)
        latest = 1 if as_of.day > 10 else 2
        self.periods = tuple(
            f"{y:04d}-{m:02d}"
            for y, m in (_month_back(as_of, k) for k in range(latest + 11, latest - 1, -1))
        )
        self.january = next((k for k, p in enumerate(self.periods) if p.endswith("-01")), -1)
        self.filed_on = tuple(
            date(y, m, 10).isoformat()
            for y, m in (_month_back(as_of, k) for k in range(latest + 10, latest - 2, -1))
        )
        # month ends of the 12 months before the reference date, oldest first
        self.month_ends = tuple(
            date(y, m, calendar.monthrange(y, m)[1]).isoformat()
            for y, m in (_month_back(as_of, k) for k in range(12, 0, -1))
        )
        rng = derive(seed, "employers", 0)
        self.employers = {county.code: self._employers(rng, county) for county in self.counties}
        self.caseworker_quota = {
            t.code: 2 + int(t.code) % 3 for county in self.counties for t in county.townships
        }
        self._governments: dict[str, Payer] = {}
        self.caseworkers_filled: dict[str, int] = {}
        self.centre_filled: dict[str, int] = {}

    @staticmethod
    def _employers(rng: random.Random, county: County) -> tuple[Payer, ...]:
        place = "新乡市" if county.code < "410720" else county.name
        result = []
        for _ in range(24):
            word = rng.choice(COMPANY_WORDS)
            name = f"{place}{word}{rng.choice(_INDUSTRIES)}{rng.choice(_COMPANY_KINDS)}"
            result.append(Payer(name, codes.social_credit_code(county.code, rng)))
        return tuple(result)

    def government(self, township: Township) -> Payer:
        """The township government or subdistrict office, employer of its caseworkers."""
        payer = self._governments.get(township.code)
        if payer is None:
            suffix = "办事处" if township.kind == "subdistrict" else "人民政府"
            rng = random.Random(int(township.code))
            tax_id = codes.social_credit_code(township.county_code, rng, kind="11")
            payer = self._governments[township.code] = Payer(township.name + suffix, tax_id)
        return payer

    def civil_affairs(self, county: County) -> Payer:
        """The county's civil affairs bureau, employer of its verification centre."""
        key = county.code + "000"
        payer = self._governments.get(key)
        if payer is None:
            tax_id = codes.social_credit_code(county.code, random.Random(int(key)), kind="11")
            payer = self._governments[key] = Payer(county.name + "民政局", tax_id)
        return payer

    def tax_office(self, county: County) -> Payer:
        """The county tax office, the payer of record for self-declared rent."""
        key = county.code + "999"
        payer = self._governments.get(key)
        if payer is None:
            tax_id = codes.social_credit_code(county.code, random.Random(int(key)), kind="11")
            payer = self._governments[key] = Payer(f"国家税务总局{county.name}税务局", tax_id)
        return payer

    def township(self, code: str) -> Township:
        county = next(c for c in self.counties if c.code == code[:6])
        return next(t for t in county.townships if t.code == code)
