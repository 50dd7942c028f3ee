"""The housing department's conformance case: rows in the tiny city, server, connector.

In the family's county, 410702: a flat the head and spouse own half each, a
plot all three share with the outsider (four rows: with pages of 2 or 3 rows it
runs across pages, with 2 it fills a whole page) and the head's shop. In the
outsider's county, 410721: a farm the outsider shares with the child, and the
outsider's own house. The other counties hold no property (400 UNKNOWN_REGION).

A subject pull of the family yields 7 property records: one per (certificate,
consenting owner) for co-owned certificates (flat x2, plot x3, farm x1) and the
shop, whose sole owner's view is the bulk record itself. A full bulk pull yields
one record per certificate: 5.
"""

from __future__ import annotations

from pathlib import Path

from connectors.departments.housing import HousingConnector
from sandbox.servers import housing
from tests.connectors.conformance_case import ConformanceCase
from tests.sandbox.servers.tiny_city import PEOPLE, department_db

FLAT = "豫(2019)新乡市不动产权第0000001号"
PLOT = "豫(2020)新乡市不动产权第0000002号"
SHOP = "豫(2021)新乡市不动产权第0000003号"
FARM = "豫(2018)新乡县不动产权第0000004号"
HOUSE = "豫(2017)新乡县不动产权第0000005号"


def seed(city: Path) -> None:
    with department_db(city, "housing") as db:
        db.executemany(
            "INSERT INTO properties VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (FLAT, "410702", "红旗区东街1号1单元", "residential", 89.5, "2019-05-20",
                 65_000_000, "registered"),
                (PLOT, "410702", "红旗区东街9号", "commercial", 120.25, "2020-02-02",
                 30_000_001, "mortgaged"),
                (SHOP, "410702", "胜利路8号商铺", "commercial", 42.0, "2021-03-03",
                 80_000_001, "registered"),
                (FARM, "410721", "新乡县孟庄镇李村8号", "rural_homestead", 180.0, "2018-01-01",
                 5_000_000, "registered"),
                (HOUSE, "410721", "新乡县孟庄镇李村9号", "rural_homestead", 150.75, "2017-07-07",
                 4_000_000, "registered"),
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO property_owners VALUES (?, ?, ?)",
            [
                (FLAT, PEOPLE.head, 50),
                (FLAT, PEOPLE.spouse, 50),
                (PLOT, PEOPLE.head, 25),
                (PLOT, PEOPLE.spouse, 25),
                (PLOT, PEOPLE.child, 25),
                (PLOT, PEOPLE.outsider, 25),
                (SHOP, PEOPLE.head, 100),
                (FARM, PEOPLE.outsider, 60),
                (FARM, PEOPLE.child, 40),
                (HOUSE, PEOPLE.outsider, 100),
            ],
        )
    db.close()


CASE = ConformanceCase(
    source="housing",
    seed=seed,
    create_app=housing.create_app,
    connector=HousingConnector,
    subject_kinds=frozenset({"property"}),
    bulk_records=5,
)
