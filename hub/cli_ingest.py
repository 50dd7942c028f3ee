"""`hub ingest`, `hub consent` and `hub roll`: consented records, the consents, and the roll.

ID numbers given on the command line are never printed back: the summary
shows counts, and refused subjects by blind reference only.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from authz.consent import standing
from connectors.sync import SyncSummary
from graph.identifiers import id_number_problem, normalise_id_number
from graph.model import DEPARTMENT_SOURCES, AuthorisationRecord, Signature, Source
from hub.cli_support import UsageError, load_settings, out, user_errors
from hub.consent_admin import add_authorisation, find, revoke
from hub.ingest import IngestRequest, RollImport, import_authorisations, import_roll, run_ingest
from hub.settings import Settings

consent_cli = typer.Typer(no_args_is_help=True, help="Authorisations (授权书) in the graph.")
roll_cli = typer.Typer(
    no_args_is_help=True, help="The assistance roll (低保/特困/低收入/临时救助) in the graph."
)
SKIPPED_SHOWN = 20


class Mode(StrEnum):
    BULK = "bulk"
    SUBJECTS = "subjects"


def _departments(value: str) -> list[Source]:
    if value == "all":
        return list(DEPARTMENT_SOURCES)
    chosen: list[Source] = []
    for name in (part.strip() for part in value.split(",") if part.strip()):
        try:
            source = Source(name)
        except ValueError:
            raise UsageError(
                f"unknown department {name!r}; choose from "
                f"{', '.join(s.value for s in DEPARTMENT_SOURCES)} or 'all'"
            ) from None
        if source not in DEPARTMENT_SOURCES:
            raise UsageError(f"{name} is not a department the hub pulls from")
        chosen.append(source)
    if not chosen:
        raise UsageError("name at least one department")
    return chosen


def _id_numbers(ids: list[str], ids_file: Path | None) -> list[str]:
    values = list(ids)
    if ids_file is not None:
        values += [line.strip() for line in ids_file.read_text(encoding="utf-8").splitlines()]
    clean = [normalise_id_number(v) for v in values if v.strip()]
    bad = sum(1 for v in clean if id_number_problem(v) is not None)
    if bad:
        raise UsageError(f"{bad} of the ID numbers given are not valid resident ID numbers")
    return list(dict.fromkeys(clean))


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} must be a date YYYY-MM-DD") from None


def ingest(  # noqa: PLR0917 - typer maps each option to a parameter
    mode: Annotated[Mode, typer.Option(help="bulk (batch comparison) or subjects (verification)")],
    departments: Annotated[str, typer.Option(help="comma-separated departments, or all")] = "all",
    id_number: Annotated[list[str], typer.Option("--id", help="subjects mode: an ID number")] = [],  # noqa: B006 - typer needs a literal default
    ids_file: Annotated[
        Path | None, typer.Option(help="subjects mode: one ID number per line")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="time point YYYY-MM-DD (default: today)")
    ] = None,
    today: Annotated[
        str | None, typer.Option(help="date consents are checked at (default: today)")
    ] = None,
    max_pages: Annotated[
        int | None, typer.Option(min=1, help="bulk: stop after this many pages")
    ] = None,
) -> None:
    """Pull records from the departments into the graph, with a summary per department."""
    settings = load_settings()
    with user_errors():
        chosen = _departments(departments)
        ids = _id_numbers(id_number, ids_file) if mode is Mode.SUBJECTS else []
        if mode is Mode.SUBJECTS and not ids:
            raise UsageError("subjects mode needs --id or --ids-file")
        if mode is Mode.BULK and (id_number or ids_file):
            raise UsageError(
                "bulk mode pulls everyone consented; --id and --ids-file are for subjects"
            )
        request = IngestRequest(
            mode=mode.value,
            departments=chosen,
            today=_parse_date(today, "--today") or date.today(),
            id_numbers=ids,
            as_of=_parse_date(as_of, "--as-of"),
            max_pages=max_pages,
        )
        summaries = run_with_progress(settings, request)
    out.print(summary_table(summaries))


def run_with_progress(settings: Settings, request: IngestRequest) -> list[SyncSummary]:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} records"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=out, transient=False) as progress:
        tasks = {s.value: progress.add_task(s.value, total=None) for s in request.departments}

        def advance(source: str, pulled: int) -> None:
            progress.update(tasks[source], completed=pulled)

        summaries = asyncio.run(run_ingest(settings, request, advance))
        for summary in summaries:
            progress.update(tasks[summary.source], completed=summary.pulled)
    return summaries


def summary_table(summaries: list[SyncSummary]) -> Table:
    table = Table(title="ingest summary (no consent: dropped, never stored)")
    headers = (
        "department",
        "pulled",
        "written",
        "quarantined",
        "dupes",
        "no consent",
        "refused",
        "retries",
        "pages",
    )
    for column in headers:
        table.add_column(column, justify="left" if column == "department" else "right")
    for s in summaries:
        table.add_row(
            s.source,
            str(s.pulled),
            str(s.written),
            str(s.quarantined),
            str(s.duplicates),
            str(s.dropped_without_consent),
            str(len(s.refused_subjects)),
            str(s.retried),
            str(s.pages),
        )
    return table


@consent_cli.command("import")
def consent_import(
    export: Annotated[Path, typer.Argument(help="civil affairs' export (civil_affairs.sqlite)")],
) -> None:
    """Import the authorisations households signed, from the bureau's export."""
    settings = load_settings()
    with user_errors():
        written, skipped = asyncio.run(import_authorisations(settings, export))
    out.print(f"authorisations imported: {written}; skipped as invalid: {skipped}")


@consent_cli.command("add")
def consent_add(  # noqa: PLR0917 - typer maps each option to a parameter
    auth_no: Annotated[str, typer.Option(help="the authorisation's number (授权书编号)")],
    hukou_no: Annotated[str, typer.Option(help="the household's hukou number")],
    valid_from: Annotated[str, typer.Option(help="first day it covers, YYYY-MM-DD")],
    valid_to: Annotated[str, typer.Option(help="last day it covers, YYYY-MM-DD")],
    signer: Annotated[list[str], typer.Option(help="a signing member's ID number (repeat)")],
    departments: Annotated[str, typer.Option(help="comma-separated departments, or all")] = "all",
    purpose: Annotated[str, typer.Option(help="application or review")] = "application",
    signed_on: Annotated[str | None, typer.Option(help="date signed (default: valid-from)")] = None,
) -> None:
    """Record a signed authorisation (every signer's ID number is checked, never printed)."""
    settings = load_settings()
    with user_errors():
        start = _required_date(valid_from, "--valid-from")
        end = _required_date(valid_to, "--valid-to")
        if end < start:
            raise UsageError("--valid-to is before --valid-from")
        signers = _id_numbers(signer, None)
        on = _parse_date(signed_on, "--signed-on") or start
        try:
            record = AuthorisationRecord(
                source=Source.CIVIL_AFFAIRS,
                source_record_id=auth_no,
                fetched_at=datetime.now(UTC),
                auth_no=auth_no,
                hukou_no=hukou_no,
                departments=tuple(_departments(departments)),
                purpose=purpose,
                valid_from=start,
                valid_to=end,
                signatures=tuple(Signature(id_number=i, signed_on=on) for i in signers),
            )
        except ValidationError as error:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
            raise UsageError(f"invalid authorisation: {fields}") from None
        changes = asyncio.run(add_authorisation(settings, record))
    out.print(
        f"authorisation {auth_no} recorded for {len(signers)} signer(s)"
        + ("" if changes else " (already recorded, unchanged)")
    )


@consent_cli.command("revoke")
def consent_revoke(
    auth_no: Annotated[str, typer.Argument(help="the authorisation's number")],
    on: Annotated[str | None, typer.Option(help="revoked from this day (default: today)")] = None,
) -> None:
    """Revoke an authorisation: no department is asked, and nothing is read, under it again."""
    settings = load_settings()
    with user_errors():
        day = _parse_date(on, "--on") or date.today()
        revoked = asyncio.run(revoke(settings, auth_no, day))
        if revoked is None:
            raise UsageError(f"no authorisation {auth_no} in the graph")
    out.print(f"authorisation {auth_no} revoked from {revoked.isoformat()}")


@consent_cli.command("list")
def consent_list(
    auth_no: Annotated[str | None, typer.Option(help="this authorisation")] = None,
    hukou_no: Annotated[str | None, typer.Option(help="this household's")] = None,
    id_number: Annotated[str | None, typer.Option("--id", help="signed by this person")] = None,
    at: Annotated[str | None, typer.Option(help="status as of YYYY-MM-DD (default: today)")] = None,
) -> None:
    """Authorisations with their status; signers are counted, never listed."""
    settings = load_settings()
    with user_errors():
        day = _parse_date(at, "--at") or date.today()
        ids = _id_numbers([id_number], None) if id_number else [None]
        found = asyncio.run(find(settings, auth_no=auth_no, hukou_no=hukou_no, id_number=ids[0]))
    table = Table(title=f"authorisations (status at {day.isoformat()})")
    for column in (
        "number",
        "departments",
        "purpose",
        "from",
        "to",
        "revoked",
        "signers",
        "status",
    ):
        table.add_column(column)
    for a in found:
        # the same for every department it lists: whether it is in force on that day
        status = standing(a.as_signed(), day).value
        table.add_row(
            a.auth_no,
            ",".join(a.departments),
            a.purpose,
            a.valid_from.isoformat(),
            a.valid_to.isoformat(),
            a.revoked_on.isoformat() if a.revoked_on else "",
            str(a.signers),
            status,
        )
    out.print(table)


def _required_date(value: str, option: str) -> date:
    parsed = _parse_date(value, option)
    if parsed is None:
        raise UsageError(f"{option} is required")
    return parsed


@roll_cli.command("import")
def roll_import(
    export: Annotated[Path, typer.Argument(help="civil affairs' export (civil_affairs.sqlite)")],
) -> None:
    """Import the assistance roll from the bureau's export; importing it again changes nothing."""
    settings = load_settings()
    with user_errors():
        result = asyncio.run(import_roll(settings, export))
    out.print(roll_table(result))
    for skipped in result.skipped[:SKIPPED_SHOWN]:
        ref = skipped.subject_ref[:16] if skipped.subject_ref else "none"
        out.print(f"skipped: {skipped.reason}; person ref {ref}")
    if len(result.skipped) > SKIPPED_SHOWN:
        out.print(f"... and {len(result.skipped) - SKIPPED_SHOWN} more skipped")


def roll_table(result: RollImport) -> Table:
    """Counts only: a skipped row is shown by reason and blind reference, never its content."""
    table = Table(title="roll import (skipped: invalid rows, not stored)")
    for column in ("read", "written", "skipped", "graph changes"):
        table.add_column(column, justify="right")
    table.add_row(
        str(result.read), str(result.written), str(len(result.skipped)), str(result.changes)
    )
    return table
