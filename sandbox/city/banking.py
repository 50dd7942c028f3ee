"""Banking (银行): accounts, twelve month-end balances each, and financial products.

Nearly every adult has a demand account, many in town also a time deposit; balances
scale with the household's wealth. Recipient households keep a few thousand yuan at
most, well below the limits a verification applies; a large balance on a recipient is
always planted.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from math import exp
from typing import Final

from sandbox.city import codes
from sandbox.city.context import CityContext
from sandbox.city.model import Cluster, Household, Person
from sandbox.city.rng import Weighted, between
from sandbox.city.writer import Batch

POOR: Final = ("dibao", "tekun", "low_income")
BANKS: Final = {
    "中国工商银行": "622202",
    "中国农业银行": "622848",
    "中国建设银行": "621700",
    "中国银行": "621661",
    "中国邮政储蓄银行": "621799",
    "河南省农村信用社": "623059",
}
_URBAN_BANKS = Weighted(
    [
        ("中国工商银行", 25),
        ("中国建设银行", 20),
        ("中国农业银行", 15),
        ("中国银行", 10),
        ("中国邮政储蓄银行", 12),
        ("河南省农村信用社", 18),
    ]
)
_RURAL_BANKS = Weighted(
    [("河南省农村信用社", 45), ("中国邮政储蓄银行", 30), ("中国农业银行", 20), ("中国工商银行", 5)]
)
_PRODUCTS = Weighted([("wealth_management", 50), ("fund", 25), ("bond", 10), ("insurance", 15)])
_TERM_DAYS = {"wealth_management": (180, 1095), "bond": (1095, 1825), "insurance": (3650, 7300)}
_EARLIEST_OPENING = date(1995, 1, 1)


def emit(rng: random.Random, ctx: CityContext, cluster: Cluster, batch: Batch) -> None:
    for person, household in cluster.residents():
        age = person.age(ctx.as_of)
        if person.death is not None or age < 16:
            continue
        poor = household.status in POOR
        banks = _URBAN_BANKS if household.urban else _RURAL_BANKS
        if rng.random() < (0.7 if age >= 75 else 0.95 if household.urban else 0.82):
            base = _demand_base(rng, household, poor)
            _account(rng, ctx, batch, person, banks.pick(rng), "demand", base)
        if not poor and age >= 22 and rng.random() < min(0.6, 0.22 * household.level):
            base = 5_000_000 * household.level * exp(rng.gauss(0, 0.7))
            _account(rng, ctx, batch, person, banks.pick(rng), "time", base)
        if not poor and age >= 25 and household.level > 1.2 and rng.random() < 0.12:
            _product(rng, ctx, batch, person, banks.pick(rng), household.level)
    for asset in cluster.assets:
        if asset.kind == "deposit":
            bank = _URBAN_BANKS.pick(rng)
            value = asset.value_fen
            asset.code = _account(rng, ctx, batch, asset.owner, bank, "time", value, steady=True)


def _demand_base(rng: random.Random, household: Household, poor: bool) -> float:
    if poor:
        return 10_000 + 250_000 * rng.random()  # 100-2,600 yuan
    median = 1_500_000 if household.urban else 800_000
    return median * household.level * exp(rng.gauss(0, 0.8))


def _account(  # noqa: PLR0917 - an account row's worth of values
    rng: random.Random,
    ctx: CityContext,
    batch: Batch,
    person: Person,
    bank: str,
    kind: str,
    base: float,
    *,
    steady: bool = False,
) -> str:
    """An account and its month-end balances around `base` (steady ones barely move)."""
    number = codes.account_no(BANKS[bank], ctx.counters.account)
    ctx.counters.account += 1
    earliest = max(person.birth + timedelta(days=16 * 366), _EARLIEST_OPENING)
    latest = ctx.as_of - timedelta(days=400 if steady else 45)
    opened = earliest + timedelta(days=int(max(0, (latest - earliest).days) * rng.random()))
    opened_on = opened.isoformat()
    closed_on = None
    if not steady and rng.random() < 0.03:
        later = [m for m in ctx.month_ends[2:] if m > opened_on]
        closed_on = later[int(rng.random() * len(later))] if later else None
    batch.accounts.append((number, person.id_number, bank, kind, opened_on, closed_on))
    month_ends = ctx.month_ends
    if opened_on > month_ends[0]:
        month_ends = tuple(m for m in month_ends if m >= opened_on)
    if closed_on is not None:
        month_ends = tuple(m for m in month_ends if m < closed_on)
    swing = 0.08 if steady or kind == "time" else 0.6
    scale, low, draw = base * swing, base * (1 - swing / 2), rng.random
    batch.balances.extend([(number, m, int(low + scale * draw())) for m in month_ends])
    if closed_on is not None:
        batch.balances.append((number, closed_on, 0))
    return number


def _product(  # noqa: PLR0917 - a product row's worth of values
    rng: random.Random, ctx: CityContext, batch: Batch, person: Person, bank: str, level: float
) -> None:
    kind = _PRODUCTS.pick(rng)
    bought = ctx.as_of - timedelta(days=between(rng, 10, 3 * 365))
    term = _TERM_DAYS.get(kind)
    matures = (bought + timedelta(days=between(rng, *term))).isoformat() if term else None
    principal = int(between(rng, 10, 300) * level) * 100_000
    product_id = f"LC{codes.scatter(ctx.counters.product, 10**12, 7_777_777_777):012d}"
    ctx.counters.product += 1
    batch.products.append(
        (product_id, person.id_number, bank, kind, principal, bought.isoformat(), matures)
    )
