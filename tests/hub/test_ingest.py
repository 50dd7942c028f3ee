"""`hub ingest` end to end: a generated city, its five sandbox departments over HTTP, real Neo4j.

Covers what the data path promises: only consented people reach the graph,
no plain ID number is stored, a second run changes nothing, a run killed with
SIGKILL at random points and re-run ends in the same graph as an undisturbed
run, and subject mode never asks about anyone unconsented.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from graph.connection import Neo4jTarget
from sandbox.servers.requestlog import RequestLog, id_digest
from tests.support import hub_env, run_hub, wipe_graph

AS_OF = "2026-11-01"
VOLATILE = (
    "applied_at",
    "recorded_at",
    "recorded_from",
    "recorded_to",
    "fetched_at",
    "run_id",
    "updated_at",
    "first_seen",
    "last_seen",
    "last_run_id",
    "seen",
)


@pytest.fixture
def env(clean_graph: Neo4jTarget, departments_file: Path, tmp_path: Path) -> dict[str, str]:
    return hub_env(
        tmp_path,
        NEO4J_URI=clean_graph.uri,
        NEO4J_USER=clean_graph.user,
        NEO4J_PASSWORD=clean_graph.password,
        HUB_DEPARTMENTS_FILE=str(departments_file),
        HUB_KEY_DIR=str(tmp_path / "keys"),
    )


def ingest(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    result = run_hub("ingest", "--mode", "bulk", "--today", AS_OF, *extra, env=env)
    assert result.returncode == 0, result.stderr
    return result


def import_consents(env: dict[str, str], city: Path) -> None:
    result = run_hub("consent", "import", str(city / "civil_affairs.sqlite"), env=env)
    assert result.returncode == 0, result.stderr


def city_ids(city: Path) -> list[str]:
    with sqlite3.connect(city / "public_security.sqlite") as db:
        return [row[0] for row in db.execute("SELECT id_number FROM persons")]


def consented_ids(city: Path) -> set[str]:
    with sqlite3.connect(city / "civil_affairs.sqlite") as db:
        rows = db.execute(
            "SELECT s.id_number FROM authorisation_signers s JOIN authorisations a USING (auth_no) "
            "WHERE a.valid_from <= ? AND a.valid_to >= ? "
            "AND (a.revoked_on IS NULL OR a.revoked_on > ?)",
            (AS_OF, AS_OF, AS_OF),
        )
        return {row[0] for row in rows}


def graph_dump(driver: Driver) -> set[str]:
    """The graph's content without what legitimately differs between runs (times, nonces)."""
    records, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p UNION ALL "
        "MATCH (a)-[r]->(b) RETURN [type(r), coalesce(a.pid, a.vid, a.auth_no), "
        "coalesce(b.pid, b.hid, b.vid, b.auth_no)] AS l, properties(r) AS p"
    )
    dump = set()
    for record in records:
        props = {
            k: v for k, v in record["p"].items() if not k.endswith("_enc") and k not in VOLATILE
        }
        dump.add(repr((record["l"], sorted(props.items()))))
    return dump


def test_bulk_ingest_stores_only_consented_people_and_no_plain_ids(
    env: dict[str, str], city: Path, sync_driver: Driver
) -> None:
    import_consents(env, city)
    result = ingest(env)
    assert "ingest summary" in result.stdout
    records, _, _ = sync_driver.execute_query(
        "MATCH (p:Person) WHERE p.id_number_enc IS NOT NULL RETURN count(p) AS n"
    )
    stored = int(records[0]["n"])
    assert 0 < stored <= len(consented_ids(city))
    records, _, _ = sync_driver.execute_query(
        "MATCH (n) RETURN properties(n) AS p UNION ALL MATCH ()-[r]->() RETURN properties(r) AS p"
    )
    everything = repr([r["p"] for r in records])
    leaked = [i for i in city_ids(city) if i in everything]
    assert leaked == []
    before = graph_dump(sync_driver)
    ingest(env)
    assert graph_dump(sync_driver) == before


@pytest.mark.slow
def test_kill_9_at_random_points_then_rerun_equals_an_undisturbed_run(
    env: dict[str, str], city: Path, sync_driver: Driver
) -> None:
    import_consents(env, city)
    ingest(env)
    undisturbed = graph_dump(sync_driver)
    wipe_graph(sync_driver)
    import_consents(env, city)
    rng = random.Random(7)  # noqa: S311 - repeatable kill points, not a secret
    interrupted = 0
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-m", "hub", "ingest", "--mode", "bulk", "--today", AS_OF],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(1.5, 4.0))
        interrupted += child.poll() is None  # still running: killed mid-run
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert interrupted >= 2
    ingest(env)
    assert graph_dump(sync_driver) == undisturbed


def test_subject_mode_never_asks_about_the_unconsented(
    env: dict[str, str], city: Path, departments_file: Path
) -> None:
    import_consents(env, city)
    consented = sorted(consented_ids(city))[:3]
    stranger = next(i for i in city_ids(city) if i not in consented_ids(city))
    logs = {
        d: RequestLog(city / "logs" / f"{d}-requests.jsonl")
        for d in ("public_security", "housing", "tax", "banking", "medical")
    }
    seen = {d: len(log.entries()) for d, log in logs.items()}
    args = [a for i in [*consented, stranger] for a in ("--id", i)]
    result = run_hub(
        "ingest", "--mode", "subjects", "--today", AS_OF, "--as-of", AS_OF, *args, env=env
    )
    assert result.returncode == 0, result.stderr
    assert stranger not in result.stdout + result.stderr
    for department, log in logs.items():
        asked = {d for e in log.entries()[seen[department] :] for d in e["ids"]}
        assert id_digest(stranger) not in asked, department
        assert asked <= {id_digest(i) for i in consented}, department


def test_bad_ingest_input_is_refused_clearly(env: dict[str, str]) -> None:
    cases = [
        (["--mode", "subjects"], "needs --id"),
        (["--mode", "subjects", "--id", "123"], "not valid resident ID numbers"),
        (["--mode", "bulk", "--departments", "weather"], "unknown department"),
        (["--mode", "bulk", "--today", "yesterday"], "--today must be a date"),
    ]
    for args, message in cases:
        result = run_hub("ingest", *args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def set_faults(city: Path, departments_file: Path, faults: dict[str, object]) -> None:
    admin = json.loads((city / "credentials.json").read_text())["admin_token"]
    for entry in json.loads(departments_file.read_text())["departments"].values():
        response = httpx.put(
            entry["base_url"] + "/_sandbox/faults", json=faults, headers={"x-sandbox-admin": admin}
        )
        assert response.status_code == 200, response.text


def test_department_faults_are_survived_quarantined_and_reported(
    env: dict[str, str], city: Path, departments_file: Path, sync_driver: Driver
) -> None:
    import_consents(env, city)
    faults: dict[str, object] = {
        "error_rate": 0.15,
        "drop_rate": 0.05,
        "malformed_rate": 0.02,
        "duplicate_rate": 0.1,
        "out_of_order": True,
        "seed": 9,
    }
    set_faults(city, departments_file, faults)
    try:
        result = ingest(env)
    finally:
        set_faults(city, departments_file, {})
    assert "ingest summary" in result.stdout
    records, _, _ = sync_driver.execute_query(
        "MATCH (q:Quarantined) RETURN count(q) AS n, collect(q.reason)[0..50] AS reasons"
    )
    assert records[0]["n"] > 0
    assert not any(i in repr(records[0]["reasons"]) for i in city_ids(city))


def test_neo4j_down_is_a_clear_error(env: dict[str, str], free_port: int) -> None:
    down = {**env, "NEO4J_URI": f"bolt://127.0.0.1:{free_port}"}
    result = run_hub("ingest", "--mode", "bulk", "--today", AS_OF, env=down, timeout=120)
    assert result.returncode == 1
    assert f"cannot reach Neo4j at bolt://127.0.0.1:{free_port}" in result.stderr
    assert "Traceback" not in result.stderr
