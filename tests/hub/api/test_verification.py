"""A verification request, run for real: the five sandbox departments asked about the members only.

A generated city's departments serve over sockets; the household of an
authorised application is in the graph (public security only, as after an
intake); a caseworker opens a case and requests a verification; the runner
pulls every member from every department as of the time point, and the
request logs show no one else was asked about.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from neo4j import AsyncDriver

from authz.principal import Role
from authz.protection import FieldProtection
from graph.connection import Neo4jTarget
from sandbox.servers.requestlog import RequestLog, id_digest
from tests.graph.records import HUKOU
from tests.hub.api.harness import build_api, principal
from tests.hub.api.scenarios import authorisation, write_household
from tests.support import hub_env, run_hub

pytestmark = pytest.mark.anyio

CITY_TODAY = "2026-11-01"
DEPARTMENTS = ("public_security", "housing", "tax", "banking", "medical")


def fully_authorised_household(city: Path) -> tuple[str, str, list[str]]:
    """A household whose every current member signed one authorisation for all five departments,
    valid both on the city's day and today; (hukou number, township, members)."""
    today = datetime.now(UTC).date().isoformat()
    with sqlite3.connect(city / "public_security.sqlite") as ps:
        ps.execute(f"ATTACH '{city / 'civil_affairs.sqlite'}' AS ca")
        rows = ps.execute(
            "SELECT h.hukou_no, h.township_code, a.auth_no FROM households h "
            "JOIN ca.authorisations a ON a.hukou_no = h.hukou_no "
            "WHERE a.departments = ? AND a.revoked_on IS NULL "
            "AND a.valid_from <= ? AND a.valid_to >= ? ORDER BY h.hukou_no",
            (",".join(DEPARTMENTS), CITY_TODAY, today),
        ).fetchall()
        for hukou_no, township, auth_no in rows:
            members = [
                r[0]
                for r in ps.execute(
                    "SELECT id_number FROM memberships WHERE hukou_no = ? AND until IS NULL",
                    (hukou_no,),
                )
            ]
            signers = {
                r[0]
                for r in ps.execute(
                    "SELECT id_number FROM ca.authorisation_signers WHERE auth_no = ?", (auth_no,)
                )
            }
            if len(members) >= 2 and set(members) <= signers:
                return hukou_no, township, sorted(members)
    raise AssertionError("the city has no fully authorised household")


async def test_a_requested_verification_pulls_exactly_the_members_from_every_department(
    driver: AsyncDriver,
    clean_graph: Neo4jTarget,
    city: Path,
    departments_file: Path,
    tmp_path: Path,
) -> None:
    hukou_no, township, members = fully_authorised_household(city)
    env = hub_env(
        tmp_path,
        NEO4J_URI=clean_graph.uri,
        NEO4J_USER=clean_graph.user,
        NEO4J_PASSWORD=clean_graph.password,
        HUB_DEPARTMENTS_FILE=str(departments_file),
    )
    imported = run_hub("consent", "import", str(city / "civil_affairs.sqlite"), env=env)
    assert imported.returncode == 0, imported.stderr
    ids = [a for m in members for a in ("--id", m)]
    intake = run_hub(
        "ingest", "--mode", "subjects", "--departments", "public_security", *ids, env=env
    )
    assert intake.returncode == 0, intake.stderr
    logs = {d: RequestLog(city / "logs" / f"{d}-requests.jsonl") for d in DEPARTMENTS}
    seen = {d: len(log.entries()) for d, log in logs.items()}

    protection = FieldProtection.local(tmp_path / "state" / "keys")
    api = build_api(driver, protection, tmp_path, departments_file=departments_file)
    worker = principal(Role.CASEWORKER, township)
    opened = await api.query(
        worker,
        "mutation($h: String!) { openCase(hukouNo: $h, category: DIBAO) { id } }",
        {"h": hukou_no},
    )
    case_id = opened["data"]["openCase"]["id"]
    before = await api.query(
        worker,
        "query($h: String!) { household(hukouNo: $h) { finances { incomeByMonth { month } } } }",
        {"h": hukou_no},
    )
    assert before["data"]["household"]["finances"]["incomeByMonth"] == []
    requested = await api.query(
        worker,
        'mutation($c: ID!) { requestVerification(caseId: $c, purpose: "application", '
        'asOf: "2026-11-01") { id status } }',
        {"c": case_id},
    )
    assert requested["data"]["requestVerification"]["status"] == "REQUESTED", requested
    await api.services.verifications.wait()  # type: ignore[attr-defined]

    status = await api.query(
        worker,
        "query($c: ID!) { case(id: $c) { verificationRequests { status outcome finishedAt } } }",
        {"c": case_id},
    )
    [done] = status["data"]["case"]["verificationRequests"]
    assert done["status"] == "COMPLETED", done
    assert done["outcome"].startswith("5 departments;")
    assert done["finishedAt"] is not None
    for department, log in logs.items():
        asked = {d for e in log.entries()[seen[department] :] for d in e["ids"]}
        assert asked, department
        assert asked <= {id_digest(m) for m in members}, department
    after = await api.query(
        worker,
        "query($h: String!) { household(hukouNo: $h) { members { finances { "
        "enrolments { scheme } } } } }",
        {"h": hukou_no},
    )
    enrolments = [
        e for m in after["data"]["household"]["members"] for e in m["finances"]["enrolments"]
    ]
    assert enrolments  # medical insurance answered for the members
    await api.client.aclose()


async def test_without_departments_a_request_waits(
    driver: AsyncDriver, protection: FieldProtection, tmp_path: Path
) -> None:
    await write_household(driver, protection, [authorisation()])
    api = build_api(driver, protection, tmp_path)
    worker = principal(Role.CASEWORKER, "410702001")
    opened = await api.query(
        worker,
        "mutation($h: String!) { openCase(hukouNo: $h, category: DIBAO) { id } }",
        {"h": HUKOU},
    )
    case_id = opened["data"]["openCase"]["id"]
    requested = await api.query(
        worker,
        'mutation($c: ID!) { requestVerification(caseId: $c, purpose: "review") { status } }',
        {"c": case_id},
    )
    assert requested["data"]["requestVerification"]["status"] == "REQUESTED"
    await api.services.verifications.wait()  # type: ignore[attr-defined]
    listed = await api.query(
        worker,
        "query($c: ID!) { case(id: $c) { verificationRequests { status } } }",
        {"c": case_id},
    )
    assert listed["data"]["case"]["verificationRequests"] == [{"status": "REQUESTED"}]
    await api.client.aclose()
