"""`hub roll import` end to end: a generated city's roll export into the real Neo4j, read back.

What the import promises: every valid grant becomes one Assistance fact version
linked to its recipient, no plain ID or hukou number is stored, a second import
changes nothing, a broken row is skipped and reported by blind reference only,
and `assistance_of` gives back exactly what the bureau exported, as of now or
as of an earlier recorded time.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from neo4j import AsyncDriver, Driver

from authz.protection import FieldProtection
from graph.assistance_reader import assistance_of
from graph.connection import Neo4jTarget
from graph.write_plans import person_key
from sandbox.city import generate_city
from tests.support import hub_env, run_hub

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    city = tmp_path_factory.mktemp("roll-import") / "city"
    generate_city(city, households=150, seed=11)
    return city / "civil_affairs.sqlite"


@pytest.fixture
def env(clean_graph: Neo4jTarget, tmp_path: Path) -> dict[str, str]:
    return hub_env(
        tmp_path,
        NEO4J_URI=clean_graph.uri,
        NEO4J_USER=clean_graph.user,
        NEO4J_PASSWORD=clean_graph.password,
        HUB_KEY_DIR=str(tmp_path / "keys"),
    )


def roll_rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT * FROM roll ORDER BY grant_id"))


def import_roll(env: dict[str, str], export: Path) -> str:
    result = run_hub("roll", "import", str(export), env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def counts(stdout: str) -> list[int]:
    """The summary table's one row of figures: read, written, skipped, graph changes."""
    for line in stdout.splitlines():
        cells = line.replace("│", " ").replace("┃", " ").split()
        if len(cells) == 4 and all(cell.isdigit() for cell in cells):
            return [int(cell) for cell in cells]
    raise AssertionError(f"no summary row in {stdout!r}")


def assistance_dump(driver: Driver) -> list[str]:
    records, _, _ = driver.execute_query(
        "MATCH (p:Person)-[r:RECEIVES]->(a:Assistance) "
        "RETURN p.pid AS pid, properties(r) AS rel, properties(a) AS props ORDER BY a.vid"
    )
    return [repr((r["pid"], r["rel"], sorted(r["props"].items()))) for r in records]


def test_import_stores_every_grant_blind_and_a_second_import_changes_nothing(
    env: dict[str, str], export: Path, sync_driver: Driver
) -> None:
    rows = roll_rows(export)
    first = import_roll(env, export)
    assert "roll import" in first
    read, written, skipped, changes = counts(first)
    assert (read, written, skipped) == (len(rows), len(rows), 0)
    assert changes > 0
    records, _, _ = sync_driver.execute_query(
        "MATCH (:Person)-[:RECEIVES]->(a:Assistance) "
        "RETURN count(a) AS n, count(DISTINCT a.grant_id) AS grants"
    )
    assert (records[0]["n"], records[0]["grants"]) == (len(rows), len(rows))
    before = assistance_dump(sync_driver)
    stored = "\n".join(before)
    identifiers = {row[1] for row in rows} | {row[2] for row in rows}  # ID and hukou numbers
    assert [i for i in identifiers if i in stored] == []
    assert all("hukou_no_enc" in line for line in before)

    second = import_roll(env, export)
    assert counts(second) == [len(rows), len(rows), 0, 0]
    assert assistance_dump(sync_driver) == before


@pytest.mark.anyio
async def test_assistance_of_gives_back_what_the_bureau_exported(
    env: dict[str, str], export: Path, driver: AsyncDriver, tmp_path: Path
) -> None:
    import_roll(env, export)
    protection = FieldProtection.local(tmp_path / "keys")  # the keys the import used
    rows = roll_rows(export)
    expected: dict[str, set[tuple[object, ...]]] = {}
    for grant_id, id_number, _, category, region, township, start, end, amount, care in rows:
        valid_to = date.fromisoformat(end) if end else None
        valid_from = date.fromisoformat(start)
        in_force = valid_from <= AS_OF and (valid_to is None or valid_to >= AS_OF)
        grant = (grant_id, category, region, township, valid_from, valid_to, amount, care)
        expected.setdefault(person_key(protection, id_number), set()).add((*grant, in_force))
    assert any(len(grants) > 1 for grants in expected.values())  # someone holds two
    assert any(not g[-1] for grants in expected.values() for g in grants)  # and one has ended
    stranger = person_key(protection, "410702197003120115")
    found = await assistance_of(driver, "neo4j", [*expected, stranger], AS_OF)
    got = {
        pid: {
            (
                g.grant_id,
                g.category,
                g.region_code,
                g.township_code,
                g.valid_from,
                g.valid_to,
                g.amount_fen,
                g.care_level,
                g.in_force,
            )
            for g in grants
        }
        for pid, grants in found.items()
    }
    assert got == expected
    grants = [g for gs in found.values() for g in gs]
    assert {(g.source, g.source_record_id == g.grant_id) for g in grants} == {
        ("civil_affairs", True)
    }
    assert all(len(g.content_hash) == 64 and g.fetched_at <= g.recorded_from for g in grants)


@pytest.mark.anyio
async def test_a_changed_export_is_a_new_version_and_the_old_one_stays_readable(
    env: dict[str, str], export: Path, driver: AsyncDriver, tmp_path: Path
) -> None:
    changed = tmp_path / "civil_affairs.sqlite"
    shutil.copy(export, changed)
    grant_id, id_number, amount = next(
        (row[0], row[1], row[8]) for row in roll_rows(export) if row[3] == "dibao"
    )
    with sqlite3.connect(changed) as db:
        db.execute("UPDATE roll SET amount_fen = amount_fen + 1000 WHERE grant_id = ?", (grant_id,))
    import_roll(env, export)
    between = datetime.now(UTC)
    assert counts(import_roll(env, changed))[3] > 0
    pid = person_key(FieldProtection.local(tmp_path / "keys"), id_number)
    now = await assistance_of(driver, "neo4j", [pid], AS_OF)
    then = await assistance_of(driver, "neo4j", [pid], AS_OF, recorded_at=between)
    assert [g.amount_fen for g in now[pid] if g.grant_id == grant_id] == [amount + 1000]
    assert [g.amount_fen for g in then[pid] if g.grant_id == grant_id] == [amount]
    records, _, _ = await driver.execute_query(
        "MATCH (a:Assistance {grant_id: $g}) RETURN count(a) AS n", g=grant_id
    )
    assert records[0]["n"] == 2


def test_a_broken_row_is_skipped_and_reported_without_its_content(
    env: dict[str, str], export: Path, tmp_path: Path, sync_driver: Driver
) -> None:
    broken = tmp_path / "civil_affairs.sqlite"
    shutil.copy(export, broken)
    rows = roll_rows(export)
    victim = next(row for row in rows if row[3] == "dibao")
    with sqlite3.connect(broken) as db:
        db.execute("UPDATE roll SET care_level = 'full' WHERE grant_id = ?", (victim[0],))
    result = run_hub("roll", "import", str(broken), env=env)
    assert result.returncode == 0, result.stderr
    assert counts(result.stdout)[:3] == [len(rows), len(rows) - 1, 1]
    assert "skipped: invalid roll grant" in result.stdout
    said = result.stdout + result.stderr
    assert [v for v in (victim[0], victim[1], victim[2]) if v in said] == []
    records, _, _ = sync_driver.execute_query(
        "MATCH (a:Assistance {grant_id: $g}) RETURN count(a) AS n", g=victim[0]
    )
    assert records[0]["n"] == 0


def test_a_missing_export_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    result = run_hub("roll", "import", str(tmp_path / "nowhere.sqlite"), env=env)
    assert result.returncode == 1
    assert "point at the bureau's export file" in result.stderr
    assert "Traceback" not in result.stderr
