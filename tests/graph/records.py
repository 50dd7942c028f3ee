"""A small household's records from all five departments, for graph tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from graph.model import (
    AssistanceRecord,
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
    PropertyOwner,
    PropertyRecord,
    Record,
    RelationRecord,
    Source,
    VehicleRecord,
)
from tests.sandbox.servers.tiny_city import PEOPLE

FETCHED = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
HUKOU = "H41070200000001"
NAMES = {PEOPLE.head: "王建国", PEOPLE.spouse: "李秀英", PEOPLE.child: "王小明"}
ACCOUNT = "6222020200112233445"


def household_records(gross_fen: int = 450000) -> list[Record]:
    ps = Source.PUBLIC_SECURITY
    records: list[Record] = [
        HouseholdRecord(
            source=ps,
            source_record_id=HUKOU,
            fetched_at=FETCHED,
            hukou_no=HUKOU,
            region_code="410702",
            township_code="410702001",
            township_name="渠东街道",
            urban=True,
            address="新乡市红旗区渠东街道建设路12号",
        )
    ]
    for id_number, name in NAMES.items():
        records.append(
            PersonRecord(
                source=ps,
                source_record_id=id_number,
                fetched_at=FETCHED,
                id_number=id_number,
                name=name,
                sex="M" if id_number != PEOPLE.spouse else "F",
                birth_date=date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])),
                phone="13800001234",
                vital_status="alive",
            )
        )
        role = {PEOPLE.head: "head", PEOPLE.spouse: "spouse", PEOPLE.child: "child"}[id_number]
        records.append(
            MembershipRecord(
                source=ps,
                source_record_id=f"{HUKOU}/{id_number}",
                fetched_at=FETCHED,
                hukou_no=HUKOU,
                id_number=id_number,
                role=role,
                since=date(2005, 1, 1),
            )
        )
    records += [
        RelationRecord(
            source=ps,
            source_record_id="rel-1",
            fetched_at=FETCHED,
            from_id=PEOPLE.spouse,
            to_id=PEOPLE.head,
            relation="spouse",
        ),
        RelationRecord(
            source=ps,
            source_record_id="rel-2",
            fetched_at=FETCHED,
            from_id=PEOPLE.head,
            to_id=PEOPLE.child,
            relation="parent",
        ),
        VehicleRecord(
            source=ps,
            source_record_id="豫G12345",
            fetched_at=FETCHED,
            plate="豫G12345",
            owner_id=PEOPLE.head,
            vehicle_kind="car",
            brand="比亚迪",
            registered_on=date(2020, 5, 1),
            value_fen=6_000_000,
            status="registered",
        ),
        DeathRecord(
            source=ps,
            source_record_id="chg-9",
            fetched_at=FETCHED,
            id_number=PEOPLE.elder,
            hukou_no="H41072100000002",
            region_code="410721",
            occurred_on=date(2026, 3, 2),
        ),
        PropertyRecord(
            source=Source.HOUSING,
            source_record_id="豫(2019)新乡市不动产权第0012345号",
            fetched_at=FETCHED,
            cert_no="豫(2019)新乡市不动产权第0012345号",
            region_code="410702",
            address="新乡市红旗区平原路8号3单元",
            usage="residential",
            area_m2=96.5,
            registered_on=date(2019, 6, 1),
            value_fen=52_000_000,
            status="registered",
            owners=(
                PropertyOwner(id_number=PEOPLE.head, share_pct=50),
                PropertyOwner(id_number=PEOPLE.spouse, share_pct=50),
            ),
        ),
        IncomeRecord(
            source=Source.TAX,
            source_record_id="T20261000000001",
            fetched_at=FETCHED,
            id_number=PEOPLE.head,
            period="2026-10",
            category="wage",
            payer_name="新乡市某机械厂",
            payer_tax_id="91410700MA44XXXX1X",
            gross_fen=gross_fen,
            tax_fen=0,
            filed_on=date(2026, 11, 10),
        ),
        BankAccountRecord(
            source=Source.BANKING,
            source_record_id=ACCOUNT,
            fetched_at=FETCHED,
            account_no=ACCOUNT,
            id_number=PEOPLE.spouse,
            bank="中国工商银行",
            account_kind="demand",
            opened_on=date(2015, 3, 1),
        ),
        BalanceRecord(
            source=Source.BANKING,
            source_record_id=f"{ACCOUNT}@2026-10-31",
            fetched_at=FETCHED,
            account_no=ACCOUNT,
            id_number=PEOPLE.spouse,
            as_of=date(2026, 10, 31),
            balance_fen=1_234_567,
        ),
        FinancialProductRecord(
            source=Source.BANKING,
            source_record_id="WM-1",
            fetched_at=FETCHED,
            product_id="WM-1",
            id_number=PEOPLE.spouse,
            bank="中国工商银行",
            product_kind="wealth_management",
            principal_fen=5_000_000,
            bought_on=date(2026, 1, 5),
            matures_on=date(2027, 1, 5),
        ),
        EnrolmentRecord(
            source=Source.MEDICAL,
            source_record_id="E1",
            fetched_at=FETCHED,
            enrolment_id="E1",
            id_number=PEOPLE.child,
            scheme="resident",
            region_code="410702",
            since=date(2010, 1, 1),
            status="active",
        ),
        ClaimRecord(
            source=Source.MEDICAL,
            source_record_id="C1",
            fetched_at=FETCHED,
            claim_id="C1",
            id_number=PEOPLE.child,
            settled_on=date(2026, 4, 1),
            hospital="新乡医学院第一附属医院",
            claim_kind="inpatient",
            diagnosis_group="injury",
            total_fen=800_000,
            fund_paid_fen=560_000,
            out_of_pocket_fen=240_000,
        ),
    ]
    return records


def assistance_grant(  # noqa: PLR0917 - the few fields a test varies
    grant_id: str,
    id_number: str,
    category: str = "dibao",
    valid_from: date = date(2024, 3, 1),
    valid_to: date | None = None,
    amount_fen: int = 44000,
    care_level: str | None = None,
) -> AssistanceRecord:
    """A roll grant of the household above (civil affairs' own data)."""
    return AssistanceRecord.model_validate(
        {
            "source": Source.CIVIL_AFFAIRS,
            "source_record_id": grant_id,
            "fetched_at": FETCHED,
            "grant_id": grant_id,
            "id_number": id_number,
            "hukou_no": HUKOU,
            "category": category,
            "region_code": "410702",
            "township_code": "410702001",
            "valid_from": valid_from,
            "valid_to": valid_to,
            "amount_fen": amount_fen,
            "care_level": care_level,
        }
    )
