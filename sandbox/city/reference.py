"""Xinxiang's regions and Henan's standards, loaded from the CSVs in `sandbox/reference`.

Everything the generator knows about the real place comes through here: the 12 current
county-level units (and the retired codes older ID numbers still carry), a synthetic but
stable set of townships per county, and the dibao / tekun standards in force at the
reference date. Townships are synthesised from the county code alone (not the city seed),
so every city shares the same township codes and names.

The CSV gives each code the years it was valid. A county's *lineage* lists the codes its
residents' ID numbers can carry: a retired predecessor (汲县 410722 -> 卫辉市 410781,
辉县 410723 -> 辉县市 410782, 长垣县 410728 -> 长垣市 410783) covers every birth year up
to its last valid year, the current code every later year. Codes that were reused by a
renamed district (410703, 410704, 410711) have no predecessor and cover all years.
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Final

REFERENCE_DIR: Final = Path(__file__).resolve().parent.parent / "reference"

# Relative resident population of each current county-level unit. 原阳 (542,849) and
# 长垣 (905,436) are the published 2020 census figures; the others are rounded estimates
# (no per-county table was found) and only set the relative size of each county.
POPULATION_WEIGHTS: Final[dict[str, int]] = {
    "410702": 520_000,
    "410703": 210_000,
    "410704": 160_000,
    "410711": 420_000,
    "410721": 360_000,
    "410724": 380_000,
    "410725": 542_849,
    "410726": 430_000,
    "410727": 620_000,
    "410781": 470_000,
    "410782": 780_000,
    "410783": 905_436,
}

# Share of each unit's households that are urban (城镇). Chosen so that the weighted city
# mean is the published 58.4 % (2021); districts are mostly urban, counties about half.
URBAN_SHARES: Final[dict[str, float]] = {
    "410702": 0.97,
    "410703": 0.95,
    "410704": 0.70,
    "410711": 0.90,
    "410721": 0.50,
    "410724": 0.45,
    "410725": 0.44,
    "410726": 0.44,
    "410727": 0.40,
    "410781": 0.52,
    "410782": 0.52,
    "410783": 0.58,
}

_SUBDISTRICT_STEMS: Final = (
    "东街", "西街", "南关", "北站", "人民路", "解放路", "胜利路", "健康路", "和平路", "平原路",
    "向阳", "新华", "文化", "卫北", "卫南", "孟营", "花园", "金穗", "东干道", "振中",
    "荣校路", "站前", "新中", "开发区", "铁西", "宏力", "唐庄", "汲水", "中心", "蒲西",
)  # fmt: skip
_TOWN_STEMS: Final = (
    "小冀", "七里营", "朗公庙", "古固寨", "大召营", "翟坡", "合河", "亢村", "位庄", "中和",
    "徐营", "照镜", "太山", "史庄", "冯庄", "黄德", "大宾", "东屯", "榆林", "石寺",
    "王村", "赵堤", "留光", "蒲东", "恼里", "樊相", "丁栾", "苗寨", "魏庄", "佘家",
    "芦岗", "满庄", "孟岗", "常村", "南庄", "丁庄", "峪河", "薄壁", "沙窑", "南寨",
    "高庄", "上八里", "吴村", "北云门", "冀屯", "孟庄", "张村", "洪州", "赵固", "黄土岗",
    "城关", "陈堡", "潞王坟", "耿黄", "大块", "关堤", "师寨", "齐街", "福宁集", "官厂",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Township:
    """A township-level unit: 街道 (urban subdistrict), 镇 (town) or 乡 (rural township)."""

    code: str  # 9 digits: county code + 3 digits
    name: str
    county_code: str
    kind: str  # subdistrict|town|township

    @property
    def urban_capable(self) -> bool:
        """Subdistricts and towns (their seats) hold urban households; 乡 only rural ones."""
        return self.kind != "township"

    @property
    def rural_capable(self) -> bool:
        return self.kind != "subdistrict"


@dataclass(frozen=True, slots=True)
class County:
    """A current county-level unit with the ID area codes its residents carry."""

    code: str
    name: str
    weight: int
    urban_share: float
    lineage: tuple[tuple[str, int, int], ...]  # (area code, first birth year, last birth year)
    townships: tuple[Township, ...]

    def area_code(self, birth_year: int) -> str:
        """The area code an ID number of someone born (registered) here in `birth_year` has."""
        for code, first, last in self.lineage:
            if first <= birth_year <= last:
                return code
        raise AssertionError(f"lineage of {self.code} does not cover {birth_year}")


@dataclass(frozen=True, slots=True)
class Standards:
    """Monthly amounts in fen in force at the reference date."""

    dibao_urban_fen: int
    dibao_rural_fen: int
    tekun_multiple: float
    minimum_wage_fen: int  # class 1; which class each county is in was not found

    def dibao_fen(self, urban: bool) -> int:
        return self.dibao_urban_fen if urban else self.dibao_rural_fen

    def tekun_fen(self, urban: bool) -> int:
        return round(self.dibao_fen(urban) * self.tekun_multiple / 100) * 100


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


_BECAME: Final = re.compile(r"became .*?(\d{6})")
_OPEN_END: Final = 9999


@cache
def counties() -> tuple[County, ...]:
    """The 12 current county-level units, in code order."""
    rows = {row["code"]: row for row in _rows("xinxiang_regions.csv")}
    predecessors: dict[str, list[dict[str, str]]] = {}
    for row in rows.values():
        match = _BECAME.search(row["note"])
        if match and row["valid_to"]:
            predecessors.setdefault(match.group(1), []).append(row)
    result = []
    for code in sorted(POPULATION_WEIGHTS):
        row = rows[code]
        lineage: list[tuple[str, int, int]] = []
        first = 0
        for old in sorted(predecessors.get(code, []), key=lambda r: int(r["valid_to"])):
            lineage.append((old["code"], first, int(old["valid_to"])))
            first = int(old["valid_to"]) + 1
        lineage.append((code, first, _OPEN_END))
        result.append(
            County(
                code=code,
                name=row["name_zh"],
                weight=POPULATION_WEIGHTS[code],
                urban_share=URBAN_SHARES[code],
                lineage=tuple(lineage),
                townships=_townships(code, row["kind"] == "urban district"),
            )
        )
    return tuple(result)


def county_by_code(code: str) -> County:
    for county in counties():
        if county.code == code:
            return county
    raise KeyError(code)


def all_area_codes() -> tuple[str, ...]:
    """Every code an ID number of a Xinxiang resident can start with, sorted."""
    return tuple(sorted({code for c in counties() for code, _, _ in c.lineage}))


def _townships(county_code: str, district: bool) -> tuple[Township, ...]:
    """8-15 townships with codes in the GB/T 10114 style: 街道 0xx, 镇 1xx, 乡 2xx."""
    rng = random.Random(int(county_code))
    if district:
        counts = (rng.randint(6, 10), rng.randint(1, 3), rng.randint(0, 1))
    else:
        counts = (rng.randint(2, 4), rng.randint(5, 8), rng.randint(2, 4))
    stems = [*rng.sample(_SUBDISTRICT_STEMS, counts[0]), *rng.sample(_TOWN_STEMS, sum(counts[1:]))]
    result = []
    for kind, suffix, base, count in zip(
        ("subdistrict", "town", "township"),
        ("街道", "镇", "乡"),
        (1, 101, 201),
        counts,
        strict=True,
    ):
        for offset in range(count):
            stem = stems.pop(0)
            result.append(
                Township(f"{county_code}{base + offset:03d}", stem + suffix, county_code, kind)
            )
    return tuple(result)


def _amount(rows: list[dict[str, str]], kind: str, area: str, as_of: date) -> float:
    """The latest amount of `kind` for `area` in force on `as_of` (a per-year one / 12)."""
    in_force = [
        row
        for row in rows
        if row["kind"] == kind and row["area"] == area
        and date.fromisoformat(row["effective_from"]) <= as_of
    ]  # fmt: skip
    if not in_force:
        raise ValueError(f"no {kind} ({area}) standard in force on {as_of}")
    latest = max(in_force, key=lambda row: row["effective_from"])
    amount = float(latest["amount_yuan"])
    return amount / 12 if "per year" in latest["unit"] else amount


@cache
def standards(as_of: date) -> Standards:
    rows = _rows("henan_standards.csv")
    return Standards(
        dibao_urban_fen=round(_amount(rows, "dibao", "urban", as_of) * 100),
        dibao_rural_fen=round(_amount(rows, "dibao", "rural", as_of) * 100),
        tekun_multiple=_amount(rows, "tekun_basic_living", "any", as_of),
        minimum_wage_fen=round(_amount(rows, "minimum_wage", "class1", as_of) * 100),
    )
