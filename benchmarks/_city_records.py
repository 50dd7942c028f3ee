"""A generated city's department rows as the domain records the graph writer takes.

Only for benchmarks: the hub never reads the generator's files (it pulls the departments
over HTTP); here the writer is measured alone, so its input is built straight from the
SQLite files, with the same `source_record_id`s the connectors give. Every row of the five
departments becomes a record (the consent gate is not applied), and authorisations are
left out (civil affairs is not a department). Records are streamed one table at a time in
the writer's plan order, in chunks, so memory stays flat however large the city.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from graph.model import (
    BalanceRecord,
    BankAccountRecord,
    ClaimRecord,
    DeathRecord,
    EnrolmentRecord,
    FinancialProductRecord,
    HouseholdRecord,
    IncomeRecord,
    MembershipRecord,
    PersonRecord,
    PropertyRecord,
    Record,
    RelationRecord,
    Source,
    VehicleRecord,
)

Build = Callable[[sqlite3.Row, datetime], Record]


@dataclass(frozen=True)
class Table:
    """One department table (`FROM ... [WHERE ...]`, aliased `t`) and its row -> record."""

    name: str
    database: str
    columns: str
    source: str
    build: Build
    where: str = ""
    group_by: str = ""


def _person(r: sqlite3.Row, at: datetime) -> Record:
    return PersonRecord(
        source=Source.PUBLIC_SECURITY,
        source_record_id=r["id_number"],
        fetched_at=at,
        id_number=r["id_number"],
        name=r["name"],
        sex=r["sex"],
        birth_date=r["birth_date"],
        phone=r["phone"],
        vital_status=r["vital_status"],
        death_date=r["death_date"],
        disability_grade=r["disability_grade"],
        school_level=r["school_level"],
        serious_illness=bool(r["serious_illness"]),
    )


def _household(r: sqlite3.Row, at: datetime) -> Record:
    return HouseholdRecord(
        source=Source.PUBLIC_SECURITY,
        source_record_id=r["hukou_no"],
        fetched_at=at,
        hukou_no=r["hukou_no"],
        region_code=r["region_code"],
        township_code=r["township_code"],
        township_name=r["township_name"],
        urban=bool(r["urban"]),
        address=r["address"],
    )


def _membership(r: sqlite3.Row, at: datetime) -> Record:
    return MembershipRecord(
        source=Source.PUBLIC_SECURITY,
        source_record_id=f"{r['hukou_no']}/{r['id_number']}",
        fetched_at=at,
        hukou_no=r["hukou_no"],
        id_number=r["id_number"],
        role=r["role"],
        since=r["since"],
        until=r["until"],
    )


def _relation(r: sqlite3.Row, at: datetime) -> Record:
    return RelationRecord(
        source=Source.PUBLIC_SECURITY,
        source_record_id=f"{r['kind']}:{r['from_id']}:{r['to_id']}",
        fetched_at=at,
        from_id=r["from_id"],
        to_id=r["to_id"],
        relation=r["kind"],
        since=r["since"],
    )


def _vehicle(r: sqlite3.Row, at: datetime) -> Record:
    return VehicleRecord(
        source=Source.PUBLIC_SECURITY,
        source_record_id=r["plate"],
        fetched_at=at,
        plate=r["plate"],
        owner_id=r["owner_id"],
        vehicle_kind=r["kind"],
        brand=r["brand"],
        registered_on=r["registered_on"],
        value_fen=r["value_fen"],
        status=r["status"],
    )


def _death(r: sqlite3.Row, at: datetime) -> Record:
    return DeathRecord(
        source=Source.PUBLIC_SECURITY,
        source_record_id=f"death:{r['id_number']}",
        fetched_at=at,
        id_number=r["id_number"],
        hukou_no=r["hukou_no"],
        region_code=r["region_code"],
        occurred_on=r["occurred_on"],
    )


def _property(r: sqlite3.Row, at: datetime) -> Record:
    owners = [part.split(":") for part in r["owners"].split(",")]
    return PropertyRecord(
        source=Source.HOUSING,
        source_record_id=r["cert_no"],
        fetched_at=at,
        cert_no=r["cert_no"],
        region_code=r["region_code"],
        address=r["address"],
        usage=r["usage"],
        area_m2=r["area_m2"],
        registered_on=r["registered_on"],
        value_fen=r["value_fen"],
        status=r["status"],
        owners=tuple({"id_number": i, "share_pct": int(s)} for i, s in sorted(owners)),
    )


def _income(r: sqlite3.Row, at: datetime) -> Record:
    return IncomeRecord(
        source=Source.TAX,
        source_record_id=r["record_id"],
        fetched_at=at,
        id_number=r["id_number"],
        period=r["period"],
        category=r["category"],
        payer_name=r["payer_name"],
        payer_tax_id=r["payer_tax_id"],
        gross_fen=r["gross_fen"],
        tax_fen=r["tax_fen"],
        filed_on=r["filed_on"],
    )


def _account(r: sqlite3.Row, at: datetime) -> Record:
    return BankAccountRecord(
        source=Source.BANKING,
        source_record_id=r["account_no"],
        fetched_at=at,
        account_no=r["account_no"],
        id_number=r["id_number"],
        bank=r["bank"],
        account_kind=r["kind"],
        opened_on=r["opened_on"],
        closed_on=r["closed_on"],
    )


def _balance(r: sqlite3.Row, at: datetime) -> Record:
    return BalanceRecord(
        source=Source.BANKING,
        source_record_id=f"{r['account_no']}@{r['as_of']}",
        fetched_at=at,
        account_no=r["account_no"],
        id_number=r["id_number"],
        as_of=r["as_of"],
        balance_fen=r["balance_fen"],
    )


def _product(r: sqlite3.Row, at: datetime) -> Record:
    return FinancialProductRecord(
        source=Source.BANKING,
        source_record_id=r["product_id"],
        fetched_at=at,
        product_id=r["product_id"],
        id_number=r["id_number"],
        bank=r["bank"],
        product_kind=r["kind"],
        principal_fen=r["principal_fen"],
        bought_on=r["bought_on"],
        matures_on=r["matures_on"],
    )


def _enrolment(r: sqlite3.Row, at: datetime) -> Record:
    return EnrolmentRecord(
        source=Source.MEDICAL,
        source_record_id=r["enrolment_id"],
        fetched_at=at,
        enrolment_id=r["enrolment_id"],
        id_number=r["id_number"],
        scheme=r["scheme"],
        region_code=r["region_code"],
        since=r["since"],
        until=r["until"],
        status=r["status"],
    )


def _claim(r: sqlite3.Row, at: datetime) -> Record:
    return ClaimRecord(
        source=Source.MEDICAL,
        source_record_id=r["claim_id"],
        fetched_at=at,
        claim_id=r["claim_id"],
        id_number=r["id_number"],
        settled_on=r["settled_on"],
        hospital=r["hospital"],
        claim_kind=r["kind"],
        diagnosis_group=r["diagnosis_group"],
        total_fen=r["total_fen"],
        fund_paid_fen=r["fund_paid_fen"],
        out_of_pocket_fen=r["out_of_pocket_fen"],
    )


# In the writer's plan order: entities, then relations, then facts.
TABLES: tuple[Table, ...] = (
    Table("person", "public_security", "t.*", "persons t", _person),
    Table("household", "public_security", "t.*", "households t", _household),
    Table("membership", "public_security", "t.*", "memberships t", _membership),
    Table("relation", "public_security", "t.*", "relations t", _relation),
    Table("vehicle", "public_security", "t.*", "vehicles t", _vehicle),
    Table("death", "public_security", "t.*", "changes t", _death, where="t.kind = 'death'"),
    Table(
        "property",
        "housing",
        "t.*, group_concat(o.id_number || ':' || o.share_pct) AS owners",
        "properties t JOIN property_owners o USING (cert_no)",
        _property,
        group_by="t.cert_no",
    ),
    Table("income", "tax", "t.*", "income t", _income),
    Table("bank_account", "banking", "t.*", "accounts t", _account),
    Table(
        "balance",
        "banking",
        "t.*, a.id_number",
        "balances t JOIN accounts a USING (account_no)",
        _balance,
    ),
    Table("financial_product", "banking", "t.*", "products t", _product),
    Table("enrolment", "medical", "t.*", "enrolments t", _enrolment),
    Table("claim", "medical", "t.*", "claims t", _claim),
)


def _query(table: Table, select: str) -> str:
    where = " AND ".join(filter(None, ["t.rowid % :every = 0", table.where]))
    group = f" GROUP BY {table.group_by}" if table.group_by else ""
    return f"SELECT {select} FROM {table.source} WHERE {where}{group} ORDER BY t.rowid"  # noqa: S608 - fixed table definitions above


def _connect(city: Path, database: str) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{city / database}.sqlite?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def count_rows(city: Path, table: Table, every: int = 1) -> int:
    """How many records `table` yields when every `every`-th row is taken."""
    connection = _connect(city, table.database)
    try:
        query = f"SELECT count(*) FROM ({_query(table, 't.rowid')})"  # noqa: S608 - see _query
        return int(connection.execute(query, {"every": every}).fetchone()[0])
    finally:
        connection.close()


@dataclass
class Chunk:
    table: str
    records: list[Record]
    invalid: int  # rows the record models refused (none in a generated city)
    build_seconds: float  # reading SQLite and validating the records


def stream(
    city: Path,
    fetched_at: datetime,
    *,
    every: int = 1,
    chunk_size: int = 20_000,
    clock: Callable[[], float],
) -> Iterator[Chunk]:
    """Every `every`-th row of each table (by rowid) as records, `chunk_size` at a time."""
    for table in TABLES:
        connection = _connect(city, table.database)
        try:
            cursor = connection.execute(_query(table, table.columns), {"every": every})
            while True:
                started = clock()
                rows = cursor.fetchmany(chunk_size)
                if not rows:
                    break
                records: list[Record] = []
                invalid = 0
                for row in rows:
                    try:
                        records.append(table.build(row, fetched_at))
                    except ValidationError:
                        invalid += 1
                yield Chunk(table.name, records, invalid, clock() - started)
        finally:
            connection.close()
