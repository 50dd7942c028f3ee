"""Names, phones and addresses: Chinese, plausible, and inherited the Chinese way."""

from __future__ import annotations

import re

from faker.providers.person.zh_CN import Provider as PersonWords
from faker.providers.phone_number.zh_CN import Provider as PhoneWords

from tests.sandbox.city.conftest import City

SURNAMES = set(PersonWords.last_names)
PREFIXES = {str(p) for p in PhoneWords.phonenumber_prefixes}


def test_names_start_with_a_known_surname(city: City) -> None:
    names = [name for (name,) in city.rows("public_security", "SELECT name FROM persons")]
    assert all(name[:1] in SURNAMES or name[:2] in SURNAMES for name in names)
    assert all(2 <= len(name) <= 5 for name in names)
    assert len(set(names)) > 0.5 * len(names)


def test_children_mostly_carry_their_fathers_surname(city: City) -> None:
    pairs = city.rows(
        "public_security",
        "SELECT f.name, c.name FROM relations r JOIN persons f ON f.id_number = r.from_id"
        " JOIN persons c ON c.id_number = r.to_id WHERE r.kind = 'parent' AND f.sex = 'M'",
    )
    assert len(pairs) > 1000
    same = sum(child.startswith(father[:1]) for father, child in pairs)
    assert same > 0.9 * len(pairs)


def test_phones_are_chinese_mobiles(city: City) -> None:
    phones = [
        p
        for (p,) in city.rows(
            "public_security", "SELECT phone FROM persons WHERE phone IS NOT NULL"
        )
    ]
    assert phones
    assert all(len(p) == 11 and p[:3] in PREFIXES for p in phones)


def test_addresses_name_the_township(city: City) -> None:
    rows = city.rows("public_security", "SELECT township_name, urban, address FROM households")
    for township, urban, address in rows:
        assert address.startswith("新乡市")
        assert township in address
        pattern = r"(路|街|大道)\d+号院" if urban else r"村\d+号$"
        assert re.search(pattern, address), address
