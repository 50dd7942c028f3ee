"""The graph `api_latency.py` reads: a whole city, plus consent and an open case for a sample.

The city comes from the ingest benchmark's cache (`.cache/bench-ingest/city-N-SEED`,
generated there on first use) and is written, every row of the five departments, through
`GraphWriter` into a Neo4j of our own (Bolt port 7698, one home per city size under
`.cache/bench-api/`, field keys in `.cache/bench-api/keys`). Then, for a fixed random
sample of households: one valid authorisation signed by every current member covering
the five departments, and an open case of the township's organisation. What was built is
described in `prepared.json` beside the store; the next run reuses the store when that
description matches (a 100,000-household city takes half an hour to write).
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _city_records import stream  # noqa: E402 - after the path set-up
from neo4j import AsyncDriver  # noqa: E402

from authz.protection import FieldProtection  # noqa: E402
from graph.case_store import open_case  # noqa: E402
from graph.connection import Neo4jTarget, open_driver  # noqa: E402
from graph.local_server import LOCAL_USER, LocalNeo4j, LocalNeo4jOptions  # noqa: E402
from graph.migrations import apply_migrations  # noqa: E402
from graph.model import DEPARTMENT_SOURCES, AuthorisationRecord, Signature, Source  # noqa: E402
from graph.write_plans import household_key  # noqa: E402
from graph.writer import GraphWriter  # noqa: E402

WORK = ROOT / ".cache" / "bench-api"
KEY_DIR = WORK / "keys"
BOLT_PORT = 7698
DATABASE = "neo4j"
PREPARED = "prepared.json"
FORMAT = 1


@dataclass(frozen=True)
class SampleHousehold:
    hukou_no: str
    hid: str
    township_code: str
    region_code: str
    organisation: str
    case_id: str
    members: int


@dataclass(frozen=True)
class Prepared:
    households: int
    seed: int
    sample_size: int
    sample_seed: int
    as_of: str  # the city's as-of day: the query asks for the household on that day
    records: int
    build_seconds: float
    built_at: str
    sample: tuple[SampleHousehold, ...]

    def identity(self) -> dict[str, Any]:
        return identity(self.households, self.seed, self.sample_size, self.sample_seed)


def identity(households: int, seed: int, sample_size: int, sample_seed: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "households": households,
        "seed": seed,
        "sample_size": sample_size,
        "sample_seed": sample_seed,
        "key_dir": str(KEY_DIR),
    }


def neo4j_options(households: int, seed: int) -> LocalNeo4jOptions:
    return LocalNeo4jOptions(
        home=WORK / f"neo4j-{households}-{seed}",
        jar_cache=ROOT / ".cache" / "neo4j",
        bolt_port=BOLT_PORT,
        heap="2g",
        pagecache="2g",
    )


def target(server: LocalNeo4j) -> Neo4jTarget:
    return Neo4jTarget(
        uri=server.uri, user=LOCAL_USER, password=server.password(), database=DATABASE
    )


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _read_prepared(home: Path) -> Prepared | None:
    path = home / PREPARED
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    sample = tuple(SampleHousehold(**s) for s in raw.pop("sample"))
    raw.pop("identity", None)
    return Prepared(**raw, sample=sample)


def _choose_sample(city: Path, size: int, seed: int) -> list[tuple[str, str, str, list[str]]]:
    """(hukou_no, township, region, current members' ID numbers) of `size` random households."""
    connection = sqlite3.connect(f"file:{city / 'public_security.sqlite'}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT hukou_no, township_code, region_code FROM households ORDER BY hukou_no"
        ).fetchall()
        chosen = random.Random(seed).sample(rows, size)  # noqa: S311 - a sample, not a secret
        out = []
        for hukou_no, township, region in chosen:
            members = [
                r[0]
                for r in connection.execute(
                    "SELECT id_number FROM memberships WHERE hukou_no = ? AND until IS NULL"
                    " ORDER BY id_number",
                    (hukou_no,),
                )
            ]
            out.append((hukou_no, township, region, members))
        return out
    finally:
        connection.close()


def _authorisation(n: int, hukou_no: str, members: list[str], today: date) -> AuthorisationRecord:
    auth_no = f"BA{n:010d}"
    return AuthorisationRecord(
        source=Source.CIVIL_AFFAIRS,
        source_record_id=auth_no,
        fetched_at=datetime.now(UTC),
        auth_no=auth_no,
        hukou_no=hukou_no,
        departments=tuple(DEPARTMENT_SOURCES),
        purpose="application",
        valid_from=today - timedelta(days=30),
        valid_to=today + timedelta(days=365),
        signatures=tuple(
            Signature(id_number=m, signed_on=today - timedelta(days=30)) for m in members
        ),
    )


async def _build(
    driver: AsyncDriver,
    city: Path,
    protection: FieldProtection,
    sample_size: int,
    sample_seed: int,
) -> tuple[int, list[SampleHousehold]]:
    await apply_migrations(driver, DATABASE)
    writer = GraphWriter(driver, DATABASE, protection)
    fetched_at = datetime.now(UTC)
    written = 0
    last_table = ""
    started = time.monotonic()
    for chunk in stream(city, fetched_at, clock=time.perf_counter):
        if chunk.table != last_table:
            elapsed = time.monotonic() - started
            log(f"  writing {chunk.table} ({written:,} records so far, {elapsed:.0f} s)")
            last_table = chunk.table
        await writer.write(chunk.records)
        written += len(chunk.records)
    log(f"  {written:,} records written in {time.monotonic() - started:.0f} s; sample next")
    today = datetime.now(UTC).date()
    chosen = _choose_sample(city, sample_size, sample_seed)
    await writer.write(
        [_authorisation(n, h, members, today) for n, (h, _, _, members) in enumerate(chosen)]
    )
    sample = []
    for hukou_no, township, region, members in chosen:
        hid = household_key(protection, hukou_no)
        organisation = f"civil-affairs-{township}"
        row = await open_case(
            driver,
            DATABASE,
            hid=hid,
            category="dibao",
            organisation=organisation,
            opened_by=f"caseworker-{township}",
        )
        if row is None:
            raise SystemExit(f"household {hukou_no} is not in the graph")
        sample.append(
            SampleHousehold(
                hukou_no, hid, township, region, organisation, row.case_id, len(members)
            )
        )
    return written, sample


def prepare(
    city: Path, households: int, seed: int, sample_size: int, sample_seed: int
) -> tuple[LocalNeo4j, Prepared]:
    """Our Neo4j, started, holding the prepared city (built now unless already there)."""
    server = LocalNeo4j(neo4j_options(households, seed))
    home = server.home
    wanted = identity(households, seed, sample_size, sample_seed)
    found = _read_prepared(home)
    stored = home / PREPARED
    if found is not None and json.loads(stored.read_text())["identity"] == wanted:
        log(f"reusing the prepared graph in {home}")
        server.start()
        return server, found
    log(f"building the graph for {households:,} households in {home}")
    server.stop()
    shutil.rmtree(home / "data", ignore_errors=True)
    stored.unlink(missing_ok=True)
    server.start()
    KEY_DIR.mkdir(parents=True, exist_ok=True)
    protection = FieldProtection.local(KEY_DIR)
    manifest = json.loads((city / "manifest.json").read_text(encoding="utf-8"))

    async def build() -> tuple[int, list[SampleHousehold]]:
        driver = await open_driver(target(server))
        try:
            return await _build(driver, city, protection, sample_size, sample_seed)
        finally:
            await driver.close()

    started = time.monotonic()
    records, sample = asyncio.run(build())
    prepared = Prepared(
        households=households,
        seed=seed,
        sample_size=sample_size,
        sample_seed=sample_seed,
        as_of=manifest["as_of"],
        records=records,
        build_seconds=time.monotonic() - started,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        sample=tuple(sample),
    )
    stored.write_text(
        json.dumps({"identity": wanted, **asdict(prepared)}, indent=1), encoding="utf-8"
    )
    log(f"graph built in {prepared.build_seconds:.0f} s")
    return server, prepared
