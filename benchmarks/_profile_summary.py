"""Where the hub process spent an end-to-end ingest, from a cProfile dump.

Three views: named steps of the data path by inclusive time (synchronous steps are
exact; for coroutines cProfile counts only the time they run, never the time they wait),
self time by library, and the functions with the most self time. The event loop's
`epoll.poll` is the hub waiting for the departments and for Neo4j.
"""

from __future__ import annotations

import pstats
from collections import defaultdict
from pathlib import Path

Key = tuple[str, int, str]

IDLE = ("~", "<method 'poll' of 'select.epoll' objects>")
ROW_BUILDERS = tuple(
    ("graph/write_plans.py", f"{kind}_row")
    for kind in (
        "person", "household", "membership", "relation", "vehicle", "death", "property",
        "income", "bank_account", "balance", "product", "enrolment", "claim", "authorisation",
    )
)  # fmt: skip
# (label, [(file path ending, function name)]): inclusive time, summed over the list
STEPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("waiting (event loop idle: HTTP answers, Neo4j)", (IDLE,)),
    ("HTTP client (DepartmentClient.call, CPU)", (("connectors/http.py", "call"),)),
    ("JSON decode (json.loads)", (("json/__init__.py", "loads"),)),
    ("parse + validate + de-duplicate (Connector.parse)", (("connectors/base.py", "parse"),)),
    (
        "  of which record validation (pydantic)",
        (("pydantic/main.py", "__init__"), ("pydantic/main.py", "model_validate")),
    ),
    ("content hash (Record.content_hash), all callers", (("graph/model.py", "content_hash"),)),
    (
        "consent gate (BulkConsent filters + for_bulk, CPU)",
        (
            ("connectors/consent_gate.py", "filter_items"),
            ("connectors/consent_gate.py", "filter_records"),
            ("connectors/consent_gate.py", "for_bulk"),
        ),
    ),
    ("GraphWriter.write (row building + driver, CPU)", (("graph/writer.py", "write"),)),
    ("  row building (write_plans *_row)", ROW_BUILDERS),
    ("  field encryption (FieldCipher.encrypt)", (("authz/field_crypto.py", "encrypt"),)),
    ("blind index (BlindIndex.digest), all callers", (("authz/blind_index.py", "digest"),)),
    (
        "quarantine + cursors (CPU)",
        (
            ("graph/ingest_state.py", "quarantine"),
            ("graph/ingest_state.py", "save_cursor"),
            ("graph/ingest_state.py", "load_cursor"),
        ),
    ),
)

LIBRARIES: tuple[tuple[str, str], ...] = (
    ("select.epoll", "idle (epoll)"),
    ("/neo4j/", "neo4j driver"),
    ("/pydantic", "pydantic"),
    ("/httpx/", "HTTP client (httpx, httpcore, h11)"),
    ("/httpcore/", "HTTP client (httpx, httpcore, h11)"),
    ("/h11/", "HTTP client (httpx, httpcore, h11)"),
    ("/json/", "json"),
    ("_json", "json"),
    ("/cryptography/", "cryptography"),
    ("AESGCM", "cryptography"),
    ("hmac", "hashlib / hmac"),
    ("hashlib", "hashlib / hmac"),
    ("sha256", "hashlib / hmac"),
    ("/asyncio/", "asyncio"),
    ("/connectors/", "hub code (connectors, graph, authz, hub)"),
    ("/graph/", "hub code (connectors, graph, authz, hub)"),
    ("/authz/", "hub code (connectors, graph, authz, hub)"),
    ("/hub/", "hub code (connectors, graph, authz, hub)"),
)


def _matches(key: Key, ending: str, name: str) -> bool:
    if key[2] != name:
        return False
    return key[0] == "~" if ending == "~" else key[0].endswith(ending)


def _library(key: Key) -> str:
    where = f"{key[0]}:{key[2]}"
    return next((label for part, label in LIBRARIES if part in where), "other")


def _where(key: Key) -> str:
    file, line, name = key
    return name if file == "~" else f"{'/'.join(Path(file).parts[-2:])}:{line} {name}"


def summarise(path: Path, top: int = 15) -> None:
    stats = pstats.Stats(str(path))
    table: dict[Key, tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in table.values())
    print(f"profiled time {total:.1f} s (self time of every function, the idle loop included)\n")
    print("| step | seconds | share |\n|---|---:|---:|")
    for label, parts in STEPS:
        seconds = sum(
            entry[3]
            for key, entry in table.items()
            if any(_matches(key, ending, name) for ending, name in parts)
        )
        print(f"| {label} | {seconds:.1f} | {seconds / total:.0%} |")
    libraries: defaultdict[str, float] = defaultdict(float)
    for key, entry in table.items():
        libraries[_library(key)] += entry[2]
    print("\n| self time by library | seconds | share |\n|---|---:|---:|")
    for label, seconds in sorted(libraries.items(), key=lambda item: -item[1]):
        print(f"| {label} | {seconds:.1f} | {seconds / total:.0%} |")
    print(f"\n| top {top} functions by self time | calls | self s | inclusive s |")
    print("|---|---:|---:|---:|")
    ranked = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for key, entry in ranked:
        print(f"| {_where(key)} | {entry[1]:,} | {entry[2]:.1f} | {entry[3]:.1f} |")
