"""The public-security department's conformance case: rows in the tiny city, server, connector.

The family lives in one household; the child also holds a second open
membership in the outsider's household (a planted case), the spouse died in
2026 and a neighbouring household, in the family's county, consented to
nothing. A subject pull of the family yields 3 persons, 2 households, 4 of
the family's own memberships, 3 relations, 1 vehicle and the spouse's death.

A full bulk pull (`BULK_RECORDS` distinct facts), by partition:
- persons:410702 — head, neighbour 1, neighbour 2, child (the spouse has no open
  membership): 4 persons, 5 memberships (the child's two, as her own facts come
  with her lowest county), 1 vehicle, 4 relations (head->child, head->spouse,
  neighbour 1 -> neighbour 2, and spouse->child through the child's dossier,
  though the spouse is outside the snapshot), 2 households (home, neighbours') = 16;
- persons:410721 — outsider and child: 1 person, 1 membership, 1 vehicle,
  1 relation (outsider supports the elder), 1 household (carried by each of its
  open members' dossiers, counted once) = 5;
- changes — birth, move, two deaths: 2 death records; the other counties are
  unknown to the register (400 UNKNOWN_REGION): nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.departments.public_security import PublicSecurityConnector
from sandbox.servers import public_security
from tests.connectors.conformance_case import ConformanceCase
from tests.sandbox.servers.tiny_city import PEOPLE, department_db, id_number

HOME = "H41070200000001"
OTHER_HOME = "H41072100000002"
ELDER_HOME = "H41072800000003"
NEIGHBOURS_HOME = "H41070200000004"
NEIGHBOURS = (id_number("410702", "19880101", 60), id_number("410702", "19890202", 61))
BULK_RECORDS = 16 + 5 + 2


def _person(
    id_no: str, name: str, sex: str, birth: str, death: str | None = None
) -> tuple[Any, ...]:
    vital = "deceased" if death else "alive"
    return (id_no, name, sex, birth, None, vital, death, None, None, 0)


def seed(city: Path) -> None:
    with department_db(city, "public_security") as db:
        db.executemany(
            "INSERT INTO households VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (HOME, "410702", "410702001", "东街街道", 1, "红旗区东街1号", "1998-03-01"),
                (OTHER_HOME, "410721", "410721101", "孟庄镇", 0, "新乡县孟庄镇李村", "1990-01-01"),
                (ELDER_HOME, "410728", "410728102", "蒲西街道", 0, "长垣市蒲西街7号", "1970-01-01"),
                (NEIGHBOURS_HOME, "410702", "410702001", "东街街道", 1, "红旗区东街3号",
                 "2000-01-01"),
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO persons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                _person(PEOPLE.head, "张建国", "M", "1970-03-12"),
                _person(PEOPLE.spouse, "李秀英", "F", "1972-05-08", "2026-09-15"),
                _person(PEOPLE.child, "张明", "F", "2005-01-01"),
                _person(PEOPLE.outsider, "王强", "M", "1980-01-01"),
                _person(PEOPLE.elder, "赵老汉", "M", "1945-01-01", "2020-02-02"),
                _person(NEIGHBOURS[0], "邻居甲", "M", "1988-01-01"),
                _person(NEIGHBOURS[1], "邻居乙", "F", "1989-02-02"),
            ],
        )
        db.executemany(
            "INSERT INTO memberships VALUES (?, ?, ?, ?, ?)",
            [
                (HOME, PEOPLE.head, "head", "1998-03-01", None),
                (HOME, PEOPLE.spouse, "spouse", "1998-03-01", "2026-09-15"),
                (HOME, PEOPLE.child, "child", "2005-01-20", None),
                (OTHER_HOME, PEOPLE.outsider, "head", "1990-01-01", None),
                (OTHER_HOME, PEOPLE.child, "other", "2024-09-01", None),
                (ELDER_HOME, PEOPLE.elder, "head", "1970-01-01", "2020-02-02"),
                (NEIGHBOURS_HOME, NEIGHBOURS[0], "head", "2010-01-01", None),
                (NEIGHBOURS_HOME, NEIGHBOURS[1], "spouse", "2012-01-01", None),
            ],
        )
        db.executemany(
            "INSERT INTO relations VALUES (?, ?, ?, ?)",
            [
                (PEOPLE.head, PEOPLE.spouse, "spouse", "1996-10-01"),
                (PEOPLE.head, PEOPLE.child, "parent", "2005-01-01"),
                (PEOPLE.spouse, PEOPLE.child, "parent", "2005-01-01"),
                (PEOPLE.outsider, PEOPLE.elder, "supporter", None),
                (NEIGHBOURS[0], NEIGHBOURS[1], "spouse", "2011-11-11"),
            ],
        )
        db.executemany(
            "INSERT INTO vehicles VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                ("豫G·12345", PEOPLE.head, "car", "五菱", "2019-04-01", 3_500_050, "registered"),
                ("豫G·99999", PEOPLE.outsider, "truck", "解放", "2020-01-01", 9_000_000,
                 "registered"),
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?)",
            [
                (1, "birth", PEOPLE.child, HOME, "410702", "2005-01-20"),
                (2, "death", PEOPLE.elder, ELDER_HOME, "410728", "2020-02-02"),
                (3, "move", PEOPLE.child, OTHER_HOME, "410721", "2024-09-01"),
                (4, "death", PEOPLE.spouse, HOME, "410702", "2026-09-15"),
            ],
        )
    db.close()


CASE = ConformanceCase(
    source="public_security",
    seed=seed,
    create_app=public_security.create_app,
    connector=PublicSecurityConnector,
    subject_kinds=frozenset({"person", "household", "membership", "relation", "vehicle", "death"}),
    bulk_records=BULK_RECORDS,
)
