"""How each kind of record becomes graph rows and the one Cypher statement that writes them.

Entities (persons, households) are merged on blind indexes and updated only
when their content hash changes. Facts are immutable versions: a fact node's
key `vid` is derived from its source record and its content, so re-writing the
same record matches the existing node and changes nothing, while a changed
record creates a new version and closes the old one (`recorded_to`); content
that returns to an earlier version's (A, B, then A again) is a new version too,
keyed by how many versions of that content came before. That is
the bitemporal model: `valid_from/valid_to` come from the source, and
`recorded_from/recorded_to` from us, so the graph can be read as of a past
time point.

Every row is built in Python (encryption and blind indexes happen here) and
written with UNWIND in batches; every statement is parameterised.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from graph.model import (
    AssistanceRecord,
    AuthorisationRecord,
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
    VehicleRecord,
)
from graph.protection import FieldProtector

Row = dict[str, Any]
RowBuilder = Callable[[Any, FieldProtector], Row]
LaneKey = Callable[[Row], str]


@dataclass(frozen=True)
class WritePlan:
    """How one kind is written.

    `lane_key`: the one node a row locks besides the nodes it creates; rows
    with different keys may be committed concurrently (None: the rows lock
    several shared nodes, so the kind is written one batch at a time).
    `returning_cypher`: for versioned facts, the statement that tells which of
    the rows `cypher` returned (their version exists, closed) carry content
    that returns to an earlier version's, and how many versions with that
    content the record already has.
    """

    kind: str
    cypher: str
    build_row: RowBuilder
    lane_key: LaneKey | None = None
    returning_cypher: str | None = None


def _by_pid(row: Row) -> str:
    return str(row["pid"])


def _by_hid(row: Row) -> str:
    return str(row["hid"])


def person_key(protector: FieldProtector, id_number: str) -> str:
    return protector.blind(id_number, field="id_number")


def household_key(protector: FieldProtector, hukou_no: str) -> str:
    return protector.blind(hukou_no, field="hukou_no")


def account_key(protector: FieldProtector, account_no: str) -> str:
    return protector.blind(account_no, field="account_no")


def _provenance(
    record: Record, protector: FieldProtector, node_key: str, content_hash: str | None = None
) -> Row:
    return {
        "source": record.source.value,
        "source_record_id_enc": protector.seal(
            record.source_record_id, node_key=node_key, field="source_record_id"
        ),
        "fetched_at": record.fetched_at,
        "content_hash": content_hash or record.content_hash(),
    }


def _sealed(protector: FieldProtector, node_key: str, values: dict[str, str | None]) -> Row:
    return {
        f"{name}_enc": None
        if value is None
        else protector.seal(value, node_key=node_key, field=name)
        for name, value in values.items()
    }


# --- entities -------------------------------------------------------------------------------

PERSON_CYPHER = """
UNWIND $rows AS row
MERGE (p:Person {pid: row.pid})
WITH p, row WHERE p.content_hash IS NULL OR p.content_hash <> row.props.content_hash
SET p += row.props, p.recorded_at = $now
"""


def person_row(record: PersonRecord, protector: FieldProtector) -> Row:
    pid = person_key(protector, record.id_number)
    props = {
        **_provenance(record, protector, pid),
        **_sealed(
            protector,
            pid,
            {"id_number": record.id_number, "name": record.name, "phone": record.phone},
        ),
        "sex": record.sex,
        "birth_date": record.birth_date,
        "vital_status": record.vital_status,
        "death_date": record.death_date,
        "disability_grade": record.disability_grade,
        "school_level": record.school_level,
        "serious_illness": record.serious_illness,
        "region_code": record.id_number[:6],
    }
    return {"pid": pid, "props": props}


HOUSEHOLD_CYPHER = """
UNWIND $rows AS row
MERGE (h:Household {hid: row.hid})
WITH h, row WHERE h.content_hash IS NULL OR h.content_hash <> row.props.content_hash
SET h += row.props, h.recorded_at = $now
"""


def household_row(record: HouseholdRecord, protector: FieldProtector) -> Row:
    hid = household_key(protector, record.hukou_no)
    props = {
        **_provenance(record, protector, hid),
        **_sealed(protector, hid, {"hukou_no": record.hukou_no, "address": record.address}),
        "region_code": record.region_code,
        "township_code": record.township_code,
        "township_name": record.township_name,
        "urban": record.urban,
    }
    return {"hid": hid, "props": props}


MEMBERSHIP_CYPHER = """
UNWIND $rows AS row
MERGE (p:Person {pid: row.pid})
MERGE (h:Household {hid: row.hid})
MERGE (p)-[m:MEMBER_OF]->(h)
WITH m, row WHERE m.content_hash IS NULL OR m.content_hash <> row.props.content_hash
SET m += row.props, m.recorded_at = $now
"""


def membership_row(record: MembershipRecord, protector: FieldProtector) -> Row:
    pid = person_key(protector, record.id_number)
    props = {
        **_provenance(record, protector, pid),
        "role": record.role,
        "valid_from": record.since,
        "valid_to": record.until,
    }
    return {"pid": pid, "hid": household_key(protector, record.hukou_no), "props": props}


def _relation_cypher(rel_type: str) -> str:
    return f"""
UNWIND $rows AS row
MERGE (a:Person {{pid: row.from_pid}})
MERGE (b:Person {{pid: row.to_pid}})
MERGE (a)-[r:{rel_type}]->(b)
WITH r, row WHERE r.content_hash IS NULL OR r.content_hash <> row.props.content_hash
SET r += row.props, r.recorded_at = $now
"""


RELATION_TYPES = {"spouse": "SPOUSE_OF", "parent": "PARENT_OF", "supporter": "SUPPORTS"}


def relation_row(record: RelationRecord, protector: FieldProtector) -> Row:
    from_pid = person_key(protector, record.from_id)
    to_pid = person_key(protector, record.to_id)
    if record.relation == "spouse" and to_pid < from_pid:  # symmetric: stored once
        from_pid, to_pid = to_pid, from_pid
    props = {**_provenance(record, protector, from_pid), "valid_from": record.since}
    return {"from_pid": from_pid, "to_pid": to_pid, "props": props}


# --- versioned facts ------------------------------------------------------------------------


def _fact_cypher(label: str, link: str, merge_persons: bool = True) -> str:
    """A fact kind's statement; `merge_persons`: merge each row's `pid` first, once per batch.

    Why versions are looked up before they are created, instead of merged:
    a MERGE takes a lock on the key it looks up, and telling a version it
    created from one it found meant reading a property back from the
    transaction state; together a quarter of Neo4j's time per fact. A new
    version closes the open version of its record and is created; one that
    exists and is open was written before and is left; one that exists but is
    closed is returned, since its record's content may have returned to an
    earlier version's (the writer then asks `returning_cypher` and writes the
    record's next version of that content, see `returning_version`). The
    writer sends one version per record per batch, so rows of a batch never
    close each other's versions. Against a concurrent writer of the same
    version, the existence check is itself a locking seek on the `vid`
    uniqueness constraint (Neo4j locks unique-index reads in updating
    statements): it waits for the other's commit and then finds the version;
    two checks that both find nothing deadlock on their CREATEs, and the
    driver retries the loser, which then finds it.

    Why persons are merged first: a batch names each person many times (a
    balance per account per month); merging each distinct one once, then
    matching it, costs Neo4j about a tenth less per fact than a MERGE per row.
    Property owners are still merged per row: the benchmark wrote properties
    several times slower with them merged first (not understood; PROFILE alone
    showed no worse plan).
    """
    persons = """
CALL () {
  UNWIND $rows AS row
  WITH DISTINCT row.pid AS pid
  MERGE (:Person {pid: pid})
}"""
    return f"""{persons if merge_persons else ""}
UNWIND $rows AS row
OPTIONAL MATCH (known:{label} {{vid: row.vid}})
CALL (row, known) {{
  WITH row, known WHERE known IS NULL
  CALL (row) {{
    OPTIONAL MATCH (old:{label} {{record_key: row.props.record_key}})
    WHERE old.recorded_to IS NULL
    SET old.recorded_to = $now
  }}
  CREATE (f:{label})
  SET f = row.props, f.vid = row.vid, f.recorded_from = $now
  {link}
}}
WITH row, known WHERE known.recorded_to IS NOT NULL
RETURN row.vid AS closed
"""


def _returning_cypher(label: str) -> str:
    """Of rows whose version exists but is closed: those whose record's open version has
    other content (the content returns), with how many versions of that content exist."""
    return f"""
UNWIND $rows AS row
OPTIONAL MATCH (open:{label} {{record_key: row.props.record_key}})
WHERE open.recorded_to IS NULL
WITH row, collect(open.content_hash) AS open_content
WHERE NOT row.props.content_hash IN open_content
MATCH (same:{label} {{record_key: row.props.record_key}})
WHERE same.content_hash = row.props.content_hash
RETURN row.vid AS vid, count(same) AS generation
"""


def version_key(record_key: str, content_hash: str, generation: int = 0) -> str:
    """A fact version's `vid`: its record, its content, and how many versions with the
    same content the record had before (0 but for content that returns)."""
    suffix = f":{generation}" if generation else ""
    return hashlib.sha256(f"{record_key}:{content_hash}{suffix}".encode()).hexdigest()


def returning_version(row: Row, record: Record, protector: FieldProtector, generation: int) -> Row:
    """`row` as version `generation` of its content: a new `vid`, and its sealed fields
    sealed again under it (their associated data binds the vid). Every sealed field of a
    fact is named after the record field it seals."""
    props = row["props"]
    vid = version_key(props["record_key"], props["content_hash"], generation)
    resealed = {
        name: protector.seal(str(getattr(record, field)), node_key=vid, field=field)
        for name, value in props.items()
        if value is not None and (field := name.removesuffix("_enc")) != name
    }
    return {**row, "vid": vid, "props": {**props, **resealed}}


def _person_link(rel_type: str) -> str:
    return f"WITH f, row\nMATCH (p:Person {{pid: row.pid}})\nCREATE (p)-[:{rel_type}]->(f)"


def _fact_row(  # noqa: PLR0917 - one call shape shared by every fact kind
    record: Record,
    protector: FieldProtector,
    subject: str,
    valid: tuple[date | None, date | None],
    plain: Row,
    sealed: dict[str, str | None] | None = None,
) -> Row:
    record_key = protector.blind(
        f"{record.source.value}:{record.kind}:{record.source_record_id}", field="source_record"
    )
    content_hash = record.content_hash()
    vid = version_key(record_key, content_hash)
    props = {
        **_provenance(record, protector, vid, content_hash),
        **_sealed(protector, vid, sealed or {}),
        **plain,
        "record_key": record_key,
        "valid_from": valid[0],
        "valid_to": valid[1],
    }
    return {"vid": vid, "pid": person_key(protector, subject), "props": props}


def vehicle_row(record: VehicleRecord, protector: FieldProtector) -> Row:
    plain = {
        "vehicle_kind": record.vehicle_kind,
        "brand": record.brand,
        "registered_on": record.registered_on,
        "value_fen": record.value_fen,
        "status": record.status,
    }
    valid = (record.registered_on, None)
    sealed: dict[str, str | None] = {"plate": record.plate}
    return _fact_row(record, protector, record.owner_id, valid, plain, sealed)


def death_row(record: DeathRecord, protector: FieldProtector) -> Row:
    plain = {"region_code": record.region_code, "occurred_on": record.occurred_on}
    return _fact_row(record, protector, record.id_number, (record.occurred_on, None), plain)


PROPERTY_LINK = """WITH f, row
UNWIND row.owners AS owner
MERGE (p:Person {pid: owner.pid})
MERGE (p)-[o:OWNS]->(f)
SET o.share_pct = owner.share_pct"""


def property_row(record: PropertyRecord, protector: FieldProtector) -> Row:
    plain = {
        "cert_no": record.cert_no,
        "region_code": record.region_code,
        "usage": record.usage,
        "area_m2": record.area_m2,
        "registered_on": record.registered_on,
        "value_fen": record.value_fen,
        "status": record.status,
    }
    first = record.owners[0].id_number
    valid = (record.registered_on, None)
    sealed: dict[str, str | None] = {"address": record.address}
    row = _fact_row(record, protector, first, valid, plain, sealed)
    row["owners"] = [
        {"pid": person_key(protector, owner.id_number), "share_pct": owner.share_pct}
        for owner in record.owners
    ]
    return row


def income_row(record: IncomeRecord, protector: FieldProtector) -> Row:
    year, month = (int(part) for part in record.period.split("-"))
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    plain = {
        "period": record.period,
        "category": record.category,
        "payer_name": record.payer_name,
        "payer_tax_id": record.payer_tax_id,
        "gross_fen": record.gross_fen,
        "tax_fen": record.tax_fen,
        "filed_on": record.filed_on,
    }
    return _fact_row(record, protector, record.id_number, (first, last), plain)


def bank_account_row(record: BankAccountRecord, protector: FieldProtector) -> Row:
    plain = {
        "account_ref": account_key(protector, record.account_no),
        "bank": record.bank,
        "account_kind": record.account_kind,
        "opened_on": record.opened_on,
        "closed_on": record.closed_on,
    }
    valid = (record.opened_on, record.closed_on)
    sealed: dict[str, str | None] = {"account_no": record.account_no}
    return _fact_row(record, protector, record.id_number, valid, plain, sealed)


def balance_row(record: BalanceRecord, protector: FieldProtector) -> Row:
    plain = {
        "account_ref": account_key(protector, record.account_no),
        "as_of": record.as_of,
        "balance_fen": record.balance_fen,
    }
    return _fact_row(record, protector, record.id_number, (record.as_of, record.as_of), plain)


def product_row(record: FinancialProductRecord, protector: FieldProtector) -> Row:
    plain = {
        "product_id": record.product_id,
        "bank": record.bank,
        "product_kind": record.product_kind,
        "principal_fen": record.principal_fen,
        "bought_on": record.bought_on,
        "matures_on": record.matures_on,
    }
    valid = (record.bought_on, record.matures_on)
    return _fact_row(record, protector, record.id_number, valid, plain)


def enrolment_row(record: EnrolmentRecord, protector: FieldProtector) -> Row:
    plain = {
        "enrolment_id": record.enrolment_id,
        "scheme": record.scheme,
        "region_code": record.region_code,
        "status": record.status,
    }
    return _fact_row(record, protector, record.id_number, (record.since, record.until), plain)


def claim_row(record: ClaimRecord, protector: FieldProtector) -> Row:
    plain = {
        "claim_id": record.claim_id,
        "settled_on": record.settled_on,
        "hospital": record.hospital,
        "claim_kind": record.claim_kind,
        "diagnosis_group": record.diagnosis_group,
        "total_fen": record.total_fen,
        "fund_paid_fen": record.fund_paid_fen,
        "out_of_pocket_fen": record.out_of_pocket_fen,
    }
    valid = (record.settled_on, record.settled_on)
    return _fact_row(record, protector, record.id_number, valid, plain)


def assistance_row(record: AssistanceRecord, protector: FieldProtector) -> Row:
    """The recipient is the RECEIVES link's pid; the roll's household is `hid` (a blind index).

    The household is kept as a property, not a link: the roll may name a hukou
    no department has sent yet, and a comparison needs only to match on `hid`.
    """
    plain = {
        "grant_id": record.grant_id,
        "category": record.category,
        "region_code": record.region_code,
        "township_code": record.township_code,
        "amount_fen": record.amount_fen,
        "care_level": record.care_level,
        "hid": household_key(protector, record.hukou_no),
    }
    valid = (record.valid_from, record.valid_to)
    sealed: dict[str, str | None] = {"hukou_no": record.hukou_no}
    return _fact_row(record, protector, record.id_number, valid, plain, sealed)


AUTHORISATION_CYPHER = """
UNWIND $rows AS row
MERGE (a:Authorisation {auth_no: row.auth_no})
WITH a, row, a.revoked_on AS revoked
WHERE a.content_hash IS NULL OR a.content_hash <> row.props.content_hash
SET a += row.props, a.recorded_at = $now
SET a.revoked_on = CASE
  WHEN revoked IS NULL THEN row.props.revoked_on
  WHEN row.props.revoked_on IS NULL OR revoked < row.props.revoked_on THEN revoked
  ELSE row.props.revoked_on END
MERGE (h:Household {hid: row.hid})
MERGE (a)-[:FOR_HOUSEHOLD]->(h)
WITH a, row
CALL (a) {
  OPTIONAL MATCH (:Person)-[old:SIGNED]->(a)
  DELETE old
}
WITH a, row
UNWIND row.signers AS signer
MERGE (p:Person {pid: signer.pid})
MERGE (p)-[s:SIGNED]->(a)
SET s.signed_on = signer.signed_on
"""


def authorisation_row(record: AuthorisationRecord, protector: FieldProtector) -> Row:
    """Authorisation numbers are document numbers, not personal data, and stay readable.

    A revocation is sticky: a later import of an older copy of the register
    cannot clear it (the earliest revocation date wins).
    """
    props = {
        **_provenance(record, protector, record.auth_no),
        "departments": sorted(source.value for source in record.departments),
        "purpose": record.purpose,
        "valid_from": record.valid_from,
        "valid_to": record.valid_to,
        "revoked_on": record.revoked_on,
    }
    signers = [
        {"pid": person_key(protector, s.id_number), "signed_on": s.signed_on}
        for s in record.signatures
    ]
    hid = household_key(protector, record.hukou_no)
    return {"auth_no": record.auth_no, "hid": hid, "props": props, "signers": signers}


# Fact labels, in the order of their constraints: migration 2's, then Assistance (migration 4);
# every MERGE key is unique.
FACT_LABELS = {
    "vehicle": ("Vehicle", "OWNS_VEHICLE"),
    "death": ("DeathRecord", "DIED"),
    "property": ("Property", "OWNS"),
    "income": ("IncomeRecord", "EARNED"),
    "bank_account": ("BankAccount", "HOLDS_ACCOUNT"),
    "balance": ("BalanceSnapshot", "HAS_BALANCE"),
    "financial_product": ("FinancialProduct", "HOLDS_PRODUCT"),
    "enrolment": ("InsuranceEnrolment", "ENROLLED_IN"),
    "claim": ("MedicalClaim", "CLAIMED"),
    "assistance": ("Assistance", "RECEIVES"),
}
_FACT_ROWS: dict[str, RowBuilder] = {
    "vehicle": vehicle_row,
    "death": death_row,
    "property": property_row,
    "income": income_row,
    "bank_account": bank_account_row,
    "balance": balance_row,
    "financial_product": product_row,
    "enrolment": enrolment_row,
    "claim": claim_row,
    "assistance": assistance_row,
}


def _fact_plan(kind: str) -> WritePlan:
    """Co-owned properties lock several persons: one lane; other facts lock their subject."""
    label, rel_type = FACT_LABELS[kind]
    returning = _returning_cypher(label)
    if kind == "property":
        cypher = _fact_cypher(label, PROPERTY_LINK, merge_persons=False)
        return WritePlan(kind, cypher, _FACT_ROWS[kind], returning_cypher=returning)
    cypher = _fact_cypher(label, _person_link(rel_type))
    return WritePlan(kind, cypher, _FACT_ROWS[kind], lane_key=_by_pid, returning_cypher=returning)


PLANS: dict[str, WritePlan] = {
    "person": WritePlan("person", PERSON_CYPHER, person_row, lane_key=_by_pid),
    "household": WritePlan("household", HOUSEHOLD_CYPHER, household_row, lane_key=_by_hid),
    # a membership locks its person and its household; a household's members share a lane
    "membership": WritePlan("membership", MEMBERSHIP_CYPHER, membership_row, lane_key=_by_hid),
    "authorisation": WritePlan("authorisation", AUTHORISATION_CYPHER, authorisation_row),
    **{
        f"relation:{name}": WritePlan(f"relation:{name}", _relation_cypher(rel), relation_row)
        for name, rel in RELATION_TYPES.items()
    },
    **{kind: _fact_plan(kind) for kind in FACT_LABELS},
}


def record_identity(record: Record) -> tuple[str, str, str]:
    """What makes two records versions of one source record (the fact's `record_key`)."""
    return (record.source.value, plan_key(record), record.source_record_id)


def plan_key(record: Record) -> str:
    """The plan that writes this record; relations split by type (not a Cypher parameter)."""
    if isinstance(record, RelationRecord):
        return f"relation:{record.relation}"
    return record.kind
