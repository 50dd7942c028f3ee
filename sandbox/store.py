"""The data contract between the city generator and the department servers.

A generated city is a folder:

    DIR/manifest.json            seed, size, reference date, counts, format version
    DIR/credentials.json         each department's credential (and the tax HMAC secret)
    DIR/public_security.sqlite   户籍: households, persons, memberships, relations, vehicles,
                                 changes
    DIR/housing.sqlite           不动产登记: properties and their owners
    DIR/tax.sqlite               税务: monthly income records
    DIR/banking.sqlite           银行: accounts, month-end balances, financial products
    DIR/medical.sqlite           医保: enrolments and claims
    DIR/civil_affairs.sqlite     民政: the assistance roll, applications, authorisations (授权书),
                                 caseworkers; the bureau's own data, exported for the hub
    DIR/ground_truth.jsonl       planted cases; tests and benchmarks read it, the hub never does
    DIR/logs/                    the servers' request logs (written when they run)

Each department owns one SQLite file, as each real department owns its own
system: a server opens only its own file (and civil affairs' authorisation
register, to check the 授权书编号 it is shown). Money is stored as integer fen
(分) and each server renders it in its department's style. Dates are ISO
`YYYY-MM-DD`; months `YYYY-MM`. Every table's rows are written in a
deterministic order for a given seed, so two runs give identical content.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

FORMAT_VERSION: Final = 1

PUBLIC_SECURITY: Final = "public_security"
HOUSING: Final = "housing"
TAX: Final = "tax"
BANKING: Final = "banking"
MEDICAL: Final = "medical"
CIVIL_AFFAIRS: Final = "civil_affairs"
DEPARTMENTS: Final = (PUBLIC_SECURITY, HOUSING, TAX, BANKING, MEDICAL)

SCHEMAS: Final[dict[str, str]] = {
    PUBLIC_SECURITY: """
        -- one hukou (户口) household; township_code = region_code + 3 digits
        CREATE TABLE households (
            hukou_no      TEXT PRIMARY KEY,      -- 'H' + region_code + 8 digits
            region_code   TEXT NOT NULL,         -- current county-level code (410702 ...)
            township_code TEXT NOT NULL,         -- 9 digits
            township_name TEXT NOT NULL,
            urban         INTEGER NOT NULL,      -- 1 urban (城镇), 0 rural (农村)
            address       TEXT NOT NULL,
            registered_on TEXT NOT NULL
        );
        CREATE TABLE persons (
            id_number        TEXT PRIMARY KEY,   -- 18 characters, GB 11643 check digit
            name             TEXT NOT NULL,
            sex              TEXT NOT NULL CHECK (sex IN ('M', 'F')),
            birth_date       TEXT NOT NULL,
            phone            TEXT,
            vital_status     TEXT NOT NULL CHECK (vital_status IN ('alive', 'deceased')),
            death_date       TEXT,
            disability_grade INTEGER CHECK (disability_grade BETWEEN 1 AND 4), -- 1 most severe
            -- primary|junior|senior|vocational|undergraduate|graduate
            school_level     TEXT,
            serious_illness  INTEGER NOT NULL DEFAULT 0
        );
        -- a person normally has one open membership; a planted case has two
        CREATE TABLE memberships (
            hukou_no  TEXT NOT NULL REFERENCES households (hukou_no),
            id_number TEXT NOT NULL REFERENCES persons (id_number),
            role      TEXT NOT NULL,   -- head|spouse|child|parent|grandchild|sibling|other
            since     TEXT NOT NULL,
            until     TEXT,
            PRIMARY KEY (hukou_no, id_number)
        );
        CREATE INDEX memberships_by_person ON memberships (id_number);
        -- spouse: symmetric, stored once (from < to); parent: from is the parent of to;
        -- supporter: from carries a legal support duty (赡养/抚养/扶养) towards to
        CREATE TABLE relations (
            from_id TEXT NOT NULL,
            to_id   TEXT NOT NULL,
            kind    TEXT NOT NULL CHECK (kind IN ('spouse', 'parent', 'supporter')),
            since   TEXT,
            PRIMARY KEY (from_id, to_id, kind)
        );
        CREATE INDEX relations_by_to ON relations (to_id);
        CREATE TABLE vehicles (
            plate         TEXT PRIMARY KEY,     -- 豫G·12345 style
            owner_id      TEXT NOT NULL,
            kind          TEXT NOT NULL,        -- car|truck|motorcycle|tricycle
            brand         TEXT NOT NULL,
            registered_on TEXT NOT NULL,
            value_fen     INTEGER NOT NULL,     -- estimated market value
            status        TEXT NOT NULL         -- registered|scrapped
        );
        CREATE INDEX vehicles_by_owner ON vehicles (owner_id);
        -- the change feed, read by cursor (seq)
        CREATE TABLE changes (
            seq         INTEGER PRIMARY KEY,
            kind        TEXT NOT NULL CHECK (kind IN ('death', 'move', 'birth')),
            id_number   TEXT NOT NULL,
            hukou_no    TEXT NOT NULL,
            region_code TEXT NOT NULL,
            occurred_on TEXT NOT NULL
        );
    """,
    HOUSING: """
        CREATE TABLE properties (
            -- 不动产权证书号, e.g. 豫(2019)新乡市不动产权第0012345号
            cert_no       TEXT PRIMARY KEY,
            region_code   TEXT NOT NULL,
            address       TEXT NOT NULL,
            usage         TEXT NOT NULL,        -- residential|commercial|industrial|rural_homestead
            area_m2       REAL NOT NULL,
            registered_on TEXT NOT NULL,
            value_fen     INTEGER NOT NULL,     -- assessed value
            status        TEXT NOT NULL         -- registered|cancelled|mortgaged
        );
        CREATE TABLE property_owners (
            cert_no   TEXT NOT NULL REFERENCES properties (cert_no),
            id_number TEXT NOT NULL,
            share_pct INTEGER NOT NULL,         -- 1..100
            PRIMARY KEY (cert_no, id_number)
        );
        CREATE INDEX property_owners_by_person ON property_owners (id_number);
    """,
    TAX: """
        CREATE TABLE income (
            record_id    TEXT PRIMARY KEY,      -- 'T' + 14 digits
            id_number    TEXT NOT NULL,
            period       TEXT NOT NULL,         -- YYYY-MM
            category     TEXT NOT NULL,         -- wage|labour|business|rental|interest|other
            payer_name   TEXT NOT NULL,
            payer_tax_id TEXT NOT NULL,         -- 18-character unified social credit code
            gross_fen    INTEGER NOT NULL,
            tax_fen      INTEGER NOT NULL,
            filed_on     TEXT NOT NULL,
            seq          INTEGER NOT NULL UNIQUE -- insertion order, the bulk cursor
        );
        CREATE INDEX income_by_person ON income (id_number, period);
    """,
    BANKING: """
        CREATE TABLE accounts (
            account_no TEXT PRIMARY KEY,        -- 16-19 digits
            id_number  TEXT NOT NULL,
            bank       TEXT NOT NULL,
            kind       TEXT NOT NULL,           -- demand|time
            opened_on  TEXT NOT NULL,
            closed_on  TEXT
        );
        CREATE INDEX accounts_by_person ON accounts (id_number);
        -- month-end balances for the 12 months before the reference date
        CREATE TABLE balances (
            account_no  TEXT NOT NULL REFERENCES accounts (account_no),
            as_of       TEXT NOT NULL,          -- a month-end date
            balance_fen INTEGER NOT NULL,
            PRIMARY KEY (account_no, as_of)
        );
        CREATE TABLE products (
            product_id    TEXT PRIMARY KEY,
            id_number     TEXT NOT NULL,
            bank          TEXT NOT NULL,
            kind          TEXT NOT NULL,        -- wealth_management|fund|bond|insurance
            principal_fen INTEGER NOT NULL,
            bought_on     TEXT NOT NULL,
            matures_on    TEXT
        );
        CREATE INDEX products_by_person ON products (id_number);
    """,
    MEDICAL: """
        CREATE TABLE enrolments (
            enrolment_id TEXT PRIMARY KEY,
            id_number    TEXT NOT NULL,
            scheme       TEXT NOT NULL,         -- employee|resident
            region_code  TEXT NOT NULL,
            since        TEXT NOT NULL,
            until        TEXT,
            status       TEXT NOT NULL          -- active|suspended|ended
        );
        CREATE INDEX enrolments_by_person ON enrolments (id_number);
        CREATE TABLE claims (
            claim_id           TEXT PRIMARY KEY,
            id_number          TEXT NOT NULL,
            settled_on         TEXT NOT NULL,
            hospital           TEXT NOT NULL,
            kind               TEXT NOT NULL,   -- inpatient|outpatient|pharmacy
            diagnosis_group    TEXT NOT NULL,   -- chronic|cancer|injury|maternity|other
            total_fen          INTEGER NOT NULL,
            fund_paid_fen      INTEGER NOT NULL,
            out_of_pocket_fen  INTEGER NOT NULL -- total - fund_paid
        );
        CREATE INDEX claims_by_person ON claims (id_number, settled_on);
    """,
    CIVIL_AFFAIRS: """
        -- the assistance roll (低保/特困/低收入/临时救助), one row per grant
        CREATE TABLE roll (
            grant_id      TEXT PRIMARY KEY,
            id_number     TEXT NOT NULL,
            hukou_no      TEXT NOT NULL,
            category      TEXT NOT NULL,        -- dibao|tekun|low_income|temporary
            region_code   TEXT NOT NULL,
            township_code TEXT NOT NULL,
            valid_from    TEXT NOT NULL,
            valid_to      TEXT,                 -- NULL: open-ended
            amount_fen    INTEGER NOT NULL,     -- monthly (one-off for temporary)
            care_level    TEXT                  -- tekun only: full|half|self
        );
        CREATE INDEX roll_by_person ON roll (id_number);
        CREATE TABLE applications (
            application_id TEXT PRIMARY KEY,
            hukou_no       TEXT NOT NULL,
            applicant_id   TEXT NOT NULL,
            category       TEXT NOT NULL,
            township_code  TEXT NOT NULL,
            submitted_on   TEXT NOT NULL,
            status         TEXT NOT NULL        -- pending|under_verification
        );
        -- 授权书: one per household; every counted member should sign
        CREATE TABLE authorisations (
            auth_no     TEXT PRIMARY KEY,       -- 'SQ' + region_code + year + 6 digits
            hukou_no    TEXT NOT NULL,
            departments TEXT NOT NULL,          -- comma-separated subset of DEPARTMENTS
            purpose     TEXT NOT NULL,          -- application|review
            valid_from  TEXT NOT NULL,
            valid_to    TEXT NOT NULL,
            revoked_on  TEXT
        );
        CREATE TABLE authorisation_signers (
            auth_no   TEXT NOT NULL REFERENCES authorisations (auth_no),
            id_number TEXT NOT NULL,
            signed_on TEXT NOT NULL,
            PRIMARY KEY (auth_no, id_number)
        );
        CREATE INDEX signers_by_person ON authorisation_signers (id_number);
        CREATE TABLE caseworkers (
            staff_id      TEXT PRIMARY KEY,
            id_number     TEXT NOT NULL,
            township_code TEXT NOT NULL,
            role          TEXT NOT NULL         -- caseworker|verification_centre
        );
    """,
}


def database_path(data_dir: Path, department: str) -> Path:
    if department not in SCHEMAS:
        raise ValueError(f"unknown department {department!r}; expected one of {sorted(SCHEMAS)}")
    return data_dir / f"{department}.sqlite"


def create_database(data_dir: Path, department: str) -> sqlite3.Connection:
    """A new, empty department database with its schema (an existing file is replaced)."""
    path = database_path(data_dir, department)
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMAS[department])
    return connection


def open_read_only(data_dir: Path, department: str) -> sqlite3.Connection:
    """A department's database opened read-only, shareable across a server's threads."""
    path = database_path(data_dir, department)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist; generate a city first with `hub sandbox generate`"
        )
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
