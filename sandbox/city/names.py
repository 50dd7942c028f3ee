"""Chinese names, phone numbers and addresses, drawn with the caller's own generator.

The word lists are Faker zh_CN's (surnames with their published frequencies, given names
by sex, mobile prefixes, company words); Faker itself is never called per person, which
would be a hundred times slower and would not follow our per-cluster random streams.
"""

from __future__ import annotations

import random
from typing import Final

from faker.providers.company.zh_CN import Provider as CompanyWords
from faker.providers.person.zh_CN import Provider as PersonWords
from faker.providers.phone_number.zh_CN import Provider as PhoneWords

from sandbox.city.reference import County, Township
from sandbox.city.rng import Weighted, between

SURNAMES: Final = Weighted(list(PersonWords.last_names.items()))
_MALE: Final = tuple(PersonWords.first_names_male)
_FEMALE: Final = tuple(PersonWords.first_names_female)
_PHONE_PREFIXES: Final = tuple(str(p) for p in PhoneWords.phonenumber_prefixes)
COMPANY_WORDS: Final = tuple(CompanyWords.company_prefixes)

_ROAD_STEMS: Final = (
    "人民", "解放", "胜利", "和平", "平原", "建设", "新中", "劳动", "自由", "金穗",
    "宏力", "华兰", "荣校", "牧野", "卫河", "东明", "向阳", "文化", "健康", "友谊",
    "开元", "新飞", "新二街", "红旗", "南干道", "北干道", "卫辉", "振中", "和谐", "幸福",
)  # fmt: skip
_ROAD_SUFFIXES: Final = ("路", "街", "大道")
_VILLAGE_SUFFIXES: Final = ("庄", "营", "寨", "屯", "岗", "桥", "店", "集", "楼", "堤", "湾")
_VILLAGE_DIRECTIONS: Final = ("", "", "", "东", "西", "南", "北", "前", "后", "大", "小")


def surname(rng: random.Random) -> str:
    return SURNAMES.pick(rng)


def given_name(rng: random.Random, male: bool) -> str:
    pool = _MALE if male else _FEMALE
    first = pool[int(rng.random() * len(pool))]
    if len(first) == 1 and rng.random() < 0.55:  # most names of the young have two characters
        return first + pool[int(rng.random() * len(pool))][-1]
    return first


def phone(rng: random.Random) -> str:
    prefix = _PHONE_PREFIXES[int(rng.random() * len(_PHONE_PREFIXES))]
    return f"{prefix}{int(rng.random() * 100_000_000):08d}"


def address(rng: random.Random, county: County, township: Township, urban: bool) -> str:
    """新乡市 + county + township + road and number (urban) or village and number (rural)."""
    place = f"新乡市{county.name}{township.name}"
    if urban:
        road = _ROAD_STEMS[int(rng.random() * len(_ROAD_STEMS))]
        suffix = _ROAD_SUFFIXES[int(rng.random() * 3)]
        return (
            f"{place}{road}{suffix}{between(rng, 1, 399)}号院{between(rng, 1, 30)}号楼"
            f"{between(rng, 1, 4)}单元{between(rng, 1, 24)}0{between(rng, 1, 4)}室"
        )
    direction = _VILLAGE_DIRECTIONS[int(rng.random() * len(_VILLAGE_DIRECTIONS))]
    village = SURNAMES.pick(rng) + _VILLAGE_SUFFIXES[int(rng.random() * len(_VILLAGE_SUFFIXES))]
    return f"{place}{direction}{village}村{between(rng, 1, 280)}号"
