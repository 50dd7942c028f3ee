"""Housing (不动产登记) and vehicles (车辆登记): what households own.

Most households own their home: an apartment in town, priced by county, or a rural
homestead. Wealthier households own more (a second flat, a shop), and some let one.
About 30 % of households have a vehicle. Recipient and low-income households own at most
a modest home and a tricycle or motorbike: anything more on a recipient is planted.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Final

from sandbox.city import codes, names
from sandbox.city.context import CityContext
from sandbox.city.model import Asset, Cluster, Household, Person
from sandbox.city.rng import Weighted, between
from sandbox.city.writer import Batch

POOR: Final = ("dibao", "tekun", "low_income")
_CARS = Weighted(
    [("大众", 18), ("丰田", 10), ("本田", 9), ("别克", 6), ("比亚迪", 12), ("吉利", 10),
     ("长安", 9), ("哈弗", 7), ("五菱", 8), ("日产", 5), ("奇瑞", 5), ("宝马", 2), ("奥迪", 2)]
)  # fmt: skip
_SMALL = {
    "motorcycle": ("豪爵", "五羊-本田", "雅马哈", "新大洲"),
    "tricycle": ("宗申", "金彭", "福田五星"),
    "truck": ("解放", "东风", "福田"),
}


def _price_per_m2(household: Household, rng: random.Random) -> float:
    base = 6800 if household.county.code < "410720" else 4300
    return base * (0.8 + 0.4 * rng.random())


def _registry(household: Household) -> str:
    return "新乡市" if household.county.code < "410720" else household.county.name


def _between(rng: random.Random, first: date, last: date) -> date:
    if last <= first:
        return last
    return first + timedelta(days=int((last - first).days * rng.random()))


def _owners(
    rng: random.Random, household: Household, adults: list[Person]
) -> list[tuple[Person, int]]:
    head = adults[0]
    spouse = next((m.person for m in household.open_members() if m.role == "spouse"), None)
    if spouse is not None and spouse is not head and spouse.death is None and rng.random() < 0.65:
        return [(head, 50), (spouse, 50)]
    return [(head, 100)]


def emit(rng: random.Random, ctx: CityContext, cluster: Cluster, batch: Batch) -> None:
    poor = cluster.on_the_roll()
    for household in cluster.households:
        head = household.head()
        adults = sorted(
            (
                p
                for p in household.people()
                if p.death is None
                and p.age(ctx.as_of) >= 18
                and (household.status != "none" or id(p) not in poor)
            ),
            key=lambda p: (p is not head, -p.age(ctx.as_of)),
        )
        if adults:
            _properties(rng, ctx, household, adults, batch)
            _vehicles(rng, ctx, household, adults, batch)
    for asset in cluster.assets:
        if asset.kind == "property":
            _planted_property(rng, ctx, asset, batch)
        elif asset.kind == "vehicle":
            asset.code = _vehicle(rng, ctx, batch, asset.owner, "car", asset.value_fen, years=3)


def _property(
    ctx: CityContext,
    household: Household,
    owners: list[tuple[Person, int]],
    row: tuple[str, str, float, date, int, str],
    batch: Batch,
) -> str:
    address, usage, area, registered, value, status = row
    cert = codes.certificate_no(registered.year, _registry(household), ctx.counters.property)
    ctx.counters.property += 1
    batch.properties.append(
        (
            cert,
            household.county.code,
            address,
            usage,
            round(area, 2),
            registered.isoformat(),
            value,
            status,
        )
    )
    batch.property_owners.extend((cert, person.id_number, share) for person, share in owners)
    return cert


def _properties(
    rng: random.Random, ctx: CityContext, household: Household, adults: list[Person], batch: Batch
) -> None:
    as_of, poor = ctx.as_of, household.status in POOR
    head = adults[0]
    earliest = max(household.registered_on, head.birth + timedelta(days=22 * 365))
    owners = _owners(rng, household, adults)
    if household.urban:
        if rng.random() < (0.35 if poor else min(0.92, 0.7 + 0.15 * household.level)):
            area = 40 + 30 * rng.random() if poor else 70 + 70 * rng.random()
            registered = _between(rng, earliest, as_of - timedelta(days=30))
            status = (
                "mortgaged"
                if not poor and registered.year >= as_of.year - 10 and rng.random() < 0.3
                else "registered"
            )
            value = int(area * _price_per_m2(household, rng)) * 100
            _property(
                ctx,
                household,
                owners,
                (household.address, "residential", area, registered, value, status),
                batch,
            )
    elif rng.random() < 0.9:
        area = 120 + 180 * rng.random()
        registered = _between(
            rng, max(household.registered_on, date(1990, 1, 1)), as_of - timedelta(days=30)
        )
        value = int(area * (300 + 400 * rng.random())) * 100
        _property(
            ctx,
            household,
            owners,
            (household.address, "rural_homestead", area, registered, value, "registered"),
            batch,
        )
    if poor:
        return
    extra = min(0.45, 0.1 * household.level) + (0.0 if household.urban else 0.06)
    for _ in range(2):
        if rng.random() >= extra:
            break
        extra /= 4
        commercial = rng.random() < 0.25
        towns = [t for t in household.county.townships if t.urban_capable]
        address = names.address(rng, household.county, towns[int(rng.random() * len(towns))], True)
        area = 30 + 90 * rng.random() if commercial else 60 + 80 * rng.random()
        registered = _between(rng, earliest, as_of - timedelta(days=30))
        value = int(area * _price_per_m2(household, rng) * (1.3 if commercial else 1.0)) * 100
        usage = "commercial" if commercial else "residential"
        _property(
            ctx,
            household,
            [(head, 100)],
            (address, usage, area, registered, value, "registered"),
            batch,
        )
        if rng.random() < 0.3:
            household.rent_fen = between(rng, 8, 30) * 10_000
    if rng.random() < 0.04:  # a home sold long ago stays on record, cancelled
        registered = _between(rng, earliest, as_of - timedelta(days=400))
        value = int(70 * _price_per_m2(household, rng) * 0.7) * 100
        address = names.address(rng, household.county, household.township, True)
        _property(
            ctx,
            household,
            [(head, 100)],
            (address, "residential", 70.0, registered, value, "cancelled"),
            batch,
        )


def _planted_property(rng: random.Random, ctx: CityContext, asset: Asset, batch: Batch) -> None:
    household = asset.household
    towns = [t for t in household.county.townships if t.kind == "subdistrict"] or list(
        household.county.townships
    )
    address = names.address(rng, household.county, towns[int(rng.random() * len(towns))], True)
    registered = ctx.as_of - timedelta(days=between(rng, 200, 6 * 365))
    area = 80 + 60 * rng.random()
    asset.code = _property(
        ctx,
        household,
        [(asset.owner, 100)],
        (address, "residential", area, registered, asset.value_fen, "registered"),
        batch,
    )


def _vehicles(
    rng: random.Random, ctx: CityContext, household: Household, adults: list[Person], batch: Batch
) -> None:
    driver = adults[int(rng.random() * min(2, len(adults)))]
    if household.status in POOR:
        if rng.random() < 0.08:
            kind = "tricycle" if rng.random() < 0.6 else "motorcycle"
            _vehicle(rng, ctx, batch, driver, kind, between(rng, 15, 60) * 10_000)
        return
    level = household.level
    car = (0.27 if household.urban else 0.19) * min(1.6, level**0.5)
    if rng.random() < car:
        new_price = min(600_000, 60_000 + 180_000 * level * rng.random())
        years = int(rng.random() * 12)
        value = max(5_000, int(new_price * 0.85**years)) * 100
        _vehicle(rng, ctx, batch, driver, "car", value, years=years + 1)
    small = 0.05 if household.urban else 0.15
    if rng.random() < small:
        kind = "tricycle" if rng.random() < 0.5 else "motorcycle"
        _vehicle(rng, ctx, batch, driver, kind, between(rng, 15, 80) * 10_000)
    if not household.urban and rng.random() < 0.02:
        _vehicle(rng, ctx, batch, driver, "truck", between(rng, 40, 200) * 100_000)
    if rng.random() < 0.03:
        value = between(rng, 3, 10) * 100_000
        _vehicle(rng, ctx, batch, driver, "car", value, years=14, status="scrapped")


def _vehicle(  # noqa: PLR0917 - a row's worth of values
    rng: random.Random,
    ctx: CityContext,
    batch: Batch,
    owner: Person,
    kind: str,
    value_fen: int,
    *,
    years: int = 8,
    status: str = "registered",
) -> str:
    plate = codes.plate(ctx.counters.vehicle)
    ctx.counters.vehicle += 1
    brands = _SMALL.get(kind)
    brand = _CARS.pick(rng) if brands is None else brands[int(rng.random() * len(brands))]
    earliest = max(owner.birth + timedelta(days=18 * 366), ctx.as_of - timedelta(days=365 * years))
    registered = _between(rng, earliest, ctx.as_of - timedelta(days=7))
    batch.vehicles.append(
        (plate, owner.id_number, kind, brand, registered.isoformat(), value_fen, status)
    )
    return plate
