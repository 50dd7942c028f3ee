"""Civil affairs' own export: the authorisations (授权书) households signed, and the roll.

Not a department behind an interface: the bureau exports its register and its
assistance roll (低保/特困/低收入/临时救助) as a file (the sandbox writes one
beside each city), and the hub imports them with the same validation and
provenance as any connector. Rows that fail validation are returned as
skipped, with a blind reference, never their content.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import ValidationError

from connectors.base import Parsed
from connectors.errors import SkippableRecord
from graph.identifiers import normalise_id_number
from graph.model import AssistanceRecord, AuthorisationRecord, Signature, Source

SOURCE = Source.CIVIL_AFFAIRS.value


def read_authorisations(export: Path, blind: Callable[[str], str]) -> Parsed:
    """Every authorisation in the bureau's export (`civil_affairs.sqlite`)."""
    connection = _open(export)
    try:
        signers: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for auth_no, id_number, signed_on in connection.execute(
            "SELECT auth_no, id_number, signed_on FROM authorisation_signers "
            "ORDER BY auth_no, id_number"
        ):
            signers[auth_no].append((id_number, signed_on))
        rows = connection.execute(
            "SELECT auth_no, hukou_no, departments, purpose, valid_from, valid_to, revoked_on "
            "FROM authorisations ORDER BY auth_no"
        ).fetchall()
    finally:
        connection.close()
    fetched_at = datetime.now(UTC)
    parsed = Parsed()
    for auth_no, hukou_no, departments, purpose, valid_from, valid_to, revoked_on in rows:
        try:
            parsed.records.append(
                AuthorisationRecord(
                    source=Source.CIVIL_AFFAIRS,
                    source_record_id=auth_no,
                    fetched_at=fetched_at,
                    auth_no=auth_no,
                    hukou_no=hukou_no,
                    departments=tuple(Source(d) for d in departments.split(",") if d),
                    purpose=purpose,
                    valid_from=date.fromisoformat(valid_from),
                    valid_to=date.fromisoformat(valid_to),
                    revoked_on=date.fromisoformat(revoked_on) if revoked_on else None,
                    signatures=tuple(
                        Signature(id_number=i, signed_on=date.fromisoformat(on))
                        for i, on in signers[auth_no]
                    ),
                )
            )
        except (ValidationError, ValueError, TypeError) as error:
            reason = f"invalid authorisation ({type(error).__name__})"
            parsed.skipped.append(SkippableRecord(SOURCE, "authorisation", reason, blind(auth_no)))
    return parsed


def read_roll(export: Path, blind: Callable[[str], str]) -> Parsed:
    """Every grant on the bureau's assistance roll (`civil_affairs.sqlite`, table `roll`).

    A skipped row is referred to by the blind index of its ID number (the same
    digest as the person's `pid`, so an operator holding the key can find the
    person), never by anything readable from the row.
    """
    connection = _open(export)
    try:
        rows = connection.execute(
            "SELECT grant_id, id_number, hukou_no, category, region_code, township_code, "
            "valid_from, valid_to, amount_fen, care_level FROM roll ORDER BY grant_id"
        ).fetchall()
    finally:
        connection.close()
    fetched_at = datetime.now(UTC)
    parsed = Parsed()
    for row in rows:
        grant_id, id_number, hukou_no, category, region, township, start, end, amount, care = row
        try:
            parsed.records.append(
                AssistanceRecord(
                    source=Source.CIVIL_AFFAIRS,
                    source_record_id=grant_id,
                    fetched_at=fetched_at,
                    grant_id=grant_id,
                    id_number=id_number,
                    hukou_no=hukou_no,
                    category=category,
                    region_code=region,
                    township_code=township,
                    valid_from=date.fromisoformat(start),
                    valid_to=date.fromisoformat(end) if end else None,
                    amount_fen=amount,
                    care_level=care,
                )
            )
        except (ValidationError, ValueError, TypeError) as error:
            reason = f"invalid roll grant ({type(error).__name__})"
            ref = blind(normalise_id_number(id_number)) if isinstance(id_number, str) else None
            parsed.skipped.append(SkippableRecord(SOURCE, "assistance", reason, ref))
    return parsed


def _open(export: Path) -> sqlite3.Connection:
    """Read-only: the export is the bureau's file, and the hub never writes to it."""
    if not export.exists():
        raise FileNotFoundError(f"{export} does not exist: point at the bureau's export file")
    return sqlite3.connect(f"file:{export}?mode=ro", uri=True)
