"""The banking department's conformance case: accounts, balances and products in the tiny city.

Subject pulls ask as of the tiny city's AS_OF (2026-11-01); bulk pulls ask as
of 2026-10-31, the latest month-end on or before it (pinned: the connector's
default, our own today's last month-end, would drift past the bank's today).
Every balance that counts is on or before 2026-10-31, so both see the same ones.

    head      demand account (balance 2026-10-31), a closed time account and a
              matured product (neither listed), a fund
    spouse    a new account (latest balance 2026-09-30), one without a balance yet
    child     an insurance product of 20000.50 yuan (a JSON 20000.5)
    outsider  an account and a product: bulk only (he signed nothing)
    extras    two more holders (one overdrawn), one with a product only

Bulk: 7 holders (page_size 2: four jobs of one result page; page_size 3:
three jobs, the first two of two result pages, the server paging by 2);
records 3 + 3 + 1 (family) + 3 (outsider) + 2 + 2 + 1 (extras) = 15.
"""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path

from connectors.base import Blind, DepartmentAccess
from connectors.departments.banking import BankingConnector
from connectors.http import DepartmentClient
from sandbox.servers import banking
from tests.connectors.conformance_case import ConformanceCase
from tests.sandbox.servers.tiny_city import PEOPLE, department_db, id_number

BULK_AS_OF = date(2026, 10, 31)
EXTRAS = [id_number("410702", "19900101", 101 + n) for n in range(3)]
HEAD, HEAD_TIME, SPOUSE_NEW, SPOUSE_EMPTY, OUTSIDER = (
    "6222020000000001",
    "6227000000000002",
    "6222020000000003",
    "6222020000000005",
    "6217000000000004",
)
ACCOUNTS = [
    (HEAD, PEOPLE.head, "工商银行", "demand", "2015-03-01", None),
    (HEAD_TIME, PEOPLE.head, "建设银行", "time", "2020-01-01", "2026-03-15"),
    (SPOUSE_NEW, PEOPLE.spouse, "工商银行", "demand", "2026-08-01", None),
    (SPOUSE_EMPTY, PEOPLE.spouse, "新乡银行", "demand", "2026-10-15", None),
    (OUTSIDER, PEOPLE.outsider, "农业银行", "demand", "2018-05-05", None),
    ("6210000000000101", EXTRAS[0], "新乡银行", "demand", "2019-01-01", None),
    ("6210000000000102", EXTRAS[1], "新乡银行", "demand", "2019-01-01", None),
]
PRODUCTS = [
    ("P1", PEOPLE.head, "工商银行", "wealth_management", 5000000, "2025-06-01", "2026-05-31"),
    ("P2", PEOPLE.head, "建设银行", "fund", 123456, "2026-01-10", None),
    ("P3", PEOPLE.child, "新乡银行", "insurance", 2000050, "2026-02-01", None),
    ("P4", PEOPLE.outsider, "农业银行", "bond", 1000000, "2025-01-01", "2027-01-01"),
    ("P5", EXTRAS[2], "新乡银行", "fund", 7, "2026-07-01", None),
]


def month_ends() -> list[str]:
    months = [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)]
    return [f"{y}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}" for y, m in months]


def seed(city: Path) -> None:
    balances = [
        (account, end, 100007 * int(end[5:7]) + int(account[-1]))
        for account, _, _, _, opened, closed in ACCOUNTS
        if account != SPOUSE_EMPTY
        for end in month_ends()
        if opened <= end and (closed is None or closed >= end)
        if not (account == SPOUSE_NEW and end == "2026-10-31")  # not yet reported
    ]
    balances.append(("6210000000000102", "2026-10-31", -1234))  # overdrawn: a negative balance
    balances.remove(("6210000000000102", "2026-10-31", 100007 * 10 + 2))
    with department_db(city, "banking") as db:
        db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)", ACCOUNTS)
        db.executemany("INSERT INTO balances VALUES (?, ?, ?)", balances)
        db.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)", PRODUCTS)
    db.close()


class TinyCityBanking(BankingConnector):
    """The banking connector with its bulk date pinned to the tiny city's last month-end."""

    def __init__(
        self,
        access: DepartmentAccess,
        client: DepartmentClient,
        blind: Blind,
        page_size: int | None = None,
    ) -> None:
        super().__init__(access, client, blind, page_size, bulk_as_of=BULK_AS_OF)


CASE = ConformanceCase(
    source="banking",
    seed=seed,
    create_app=banking.create_app,
    connector=TinyCityBanking,
    subject_kinds=frozenset({"bank_account", "balance", "financial_product"}),
    bulk_records=15,
    app_options={"job_delay_seconds": 0.05, "page_size": 2},
)
