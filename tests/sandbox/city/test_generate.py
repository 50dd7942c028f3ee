"""The entry point: determinism, the manifest, credentials, and the output folder rules."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path

import pytest

from sandbox import store
from sandbox.city import CityRequestError, Manifest, PlantRates, generate_city
from tests.sandbox.city.conftest import City, dump


def test_same_seed_gives_identical_tables(twins: tuple[Path, Path, Path]) -> None:
    first, second, _ = twins
    one, two = dump(first), dump(second)
    assert len(one) == 19
    for table, rows in one.items():
        assert rows == two[table], table
    assert (first / "ground_truth.jsonl").read_bytes() == (
        second / "ground_truth.jsonl"
    ).read_bytes()
    assert json.loads((first / "manifest.json").read_text()) == json.loads(
        (second / "manifest.json").read_text()
    )


def test_another_seed_gives_another_city(twins: tuple[Path, Path, Path]) -> None:
    first, _, other = twins
    one, three = dump(first), dump(other)
    assert one["public_security.persons"] != three["public_security.persons"]
    assert one["tax.income"] != three["tax.income"]


def test_credentials_are_fresh_secrets(twins: tuple[Path, Path, Path]) -> None:
    first, second, _ = twins
    one = json.loads((first / "credentials.json").read_text())
    two = json.loads((second / "credentials.json").read_text())
    assert set(one["departments"]) == set(store.DEPARTMENTS)
    for department, credential in one["departments"].items():
        assert set(credential) == {"client_id", "secret"}
        assert len(credential["secret"]) >= 32
        assert credential != two["departments"][department]
    assert one["bulk_agreement_no"].startswith("BD410700")
    assert one["admin_token"] != two["admin_token"]
    assert stat.S_IMODE((first / "credentials.json").stat().st_mode) == 0o600


def test_the_manifest_describes_the_city(city: City) -> None:
    manifest = Manifest.read(city.path)
    assert manifest == city.manifest
    assert manifest.format_version == store.FORMAT_VERSION
    assert manifest.households == 5000
    assert manifest.as_of == date(2026, 11, 1)
    assert manifest.rates == PlantRates()
    for department, counts in manifest.counts.items():
        for table, rows in counts.items():
            counted = city.value(department, f"SELECT count(*) FROM {table}")  # noqa: S608
            assert counted == rows
    assert manifest.counts["public_security"]["households"] == 5000


def test_a_previous_city_may_be_overwritten(tmp_path: Path) -> None:
    generate_city(tmp_path, 30, 1)
    (tmp_path / "logs").mkdir()
    manifest = generate_city(tmp_path, 20, 2)
    assert manifest.households == 20
    assert Manifest.read(tmp_path).seed == 2


def test_a_folder_holding_something_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / "thesis.txt").write_text("years of work")
    with pytest.raises(CityRequestError, match="non-empty folder"):
        generate_city(tmp_path, 10, 1)
    assert (tmp_path / "thesis.txt").exists()
    assert not (tmp_path / "persons.sqlite").exists()


@pytest.mark.parametrize(
    ("households", "as_of", "message"),
    [
        (0, date(2026, 11, 1), "households"),
        (5_000_001, date(2026, 11, 1), "households"),
        (10, date(2021, 1, 1), "as-of"),
    ],
)
def test_bad_requests_are_refused(
    tmp_path: Path, households: int, as_of: date, message: str
) -> None:
    with pytest.raises(CityRequestError, match=message):
        generate_city(tmp_path / "city", households, 1, as_of)
    assert not (tmp_path / "city").exists()


def test_rates_are_checked() -> None:
    with pytest.raises(ValueError, match=r"between 0 and 0\.5"):
        PlantRates(vehicle=0.6)
    with pytest.raises(ValueError, match="add up"):
        PlantRates.uniform(0.11)


def test_one_household_is_a_city(tmp_path: Path) -> None:
    manifest = generate_city(tmp_path, 1, 5)
    assert manifest.counts["public_security"]["households"] == 1
