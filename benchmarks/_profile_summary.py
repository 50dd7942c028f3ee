"""Where the hub process spent an end-to-end ingest, from a cProfile dump.

Three views: named steps of the data path by inclusive time (synchronous steps are
exact; for coroutines cProfile counts only the time they run, never the time they wait),
self time by library, and the functions with the most self time. The event loop's
`epoll.poll` is the hub waiting for the departments and for Neo4j.
"""

from __future__ import annotations

import pstats
from collections import Counter
from pathlib import Path

Key = tuple[str, int, str]

# (label, [(file path ending, function name)]): inclusive time, summed over the list
STEPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("waiting (event loop idle: HTTP answers, Neo4j)", (("~", "<method 'poll' of 'select.epoll' objects>"),)),
    ("HTTP client (httpx call, incl. reading the body)", (("connectors/http.py", "call"),)),
    ("JSON decode (json.loads)", (("json/__init__.py", "loads"),)),
    ("parse + validate + de-duplicate (Connector.parse)", (("connectors/base.py", "parse"),)),
    ("  of which record validation (pydantic __init__ / model_validate)", (
        ("pydantic/main.py", "__init__"),
        ("pydantic/main.py", "model_validate"),
    )),
    ("content hash (model_dump + json.dumps + sha256), all callers", (("graph/model.py", "content_hash"),)),
    ("consent gate (filter_records, CPU incl. its Neo4j query)", (
        ("connectors/consent_gate.py", "filter_records"),
    )),
    ("GraphWriter.write (row building + driver, CPU)", (("graph/writer.py", "write"),)),
    ("  row building (write_plans *_row)", tuple(
        ("graph/write_plans.py", name)
        for name in (
            "person_row", "household_row", "membership_row", "relation_row", "vehicle_row",
            "death_row", "property_row", "income_row", "bank_account_row", "balance_row",
            "product_row", "enrolment_row", "claim_row", "authorisation_row",
        )
    )),  # fmt: skip
    ("  field encryption (FieldCipher.encrypt)", (("authz/field_crypto.py", "encrypt"),)),
    ("  blind index (BlindIndex.digest), all callers", (("authz/blind_index.py", "digest"),)),
    ("quarantine + cursor bookkeeping", (
        ("graph/ingest_state.py", "quarantine"),
        ("graph/ingest_state.py", "save_cursor"),
        ("graph/ingest_state.py", "load_cursor"),
    )),
)  # fmt: skip

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
    return key[2] == name and (ending == "~" and key[0] == "~" or key[0].endswith(ending))


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
    libraries: Counter[str] = Counter()
    for key, entry in table.items():
        libraries[_library(key)] += entry[2]
    print("\n| self time by library | seconds | share |\n|---|---:|---:|")
    for label, seconds in libraries.most_common():
        print(f"| {label} | {seconds:.1f} | {seconds / total:.0%} |")
    print(f"\n| top {top} functions by self time | calls | self s | inclusive s |")
    print("|---|---:|---:|---:|")
    ranked = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for key, entry in ranked:
        print(f"| {_where(key)} | {entry[1]:,} | {entry[2]:.1f} | {entry[3]:.1f} |")
