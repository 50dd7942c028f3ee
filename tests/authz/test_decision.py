"""PolicyDecisionPoint: loading, naming, memoising, failing closed."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from authz import _cedar, decision
from authz.decision import (
    POLICY_DIRECTORY,
    SCHEMA_FILE,
    Decision,
    PolicyDecisionPoint,
    PolicyLoadError,
)
from authz.errors import AuthzError
from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from authz.principal import Principal, Privilege, Role

POLICY_IDS = {
    "caseworker-case-open",
    "caseworker-case-work",
    "caseworker-verification-request",
    "caseworker-household-read",
    "caseworker-finance-read",
    "caseworker-identifiers-unmask",
    "verification-centre-household-read",
    "verification-centre-finance-read",
    "verification-centre-identifiers-unmask",
    "verification-centre-case-read",
    "verification-centre-verification-request",
    "agency-assistance-status",
    "auditor-audit-read",
    "administrator-health-read",
    "forbid-agency-personal-data",
    "forbid-auditor-personal-data",
    "forbid-administrator-personal-data",
}
HOME = HouseholdResource("410702001", "410702")
AWAY = HouseholdResource("410702002", "410702")
OPEN = DecisionContext(case_open=True, consent=True, purpose="dibao-application")
CASEWORKER = Principal("alice", Role.CASEWORKER, "410702001", "township-1")
AGENCY = Principal("edu-1", Role.AGENCY, "410702", "education")

# An extra policy that errors at evaluation (Long overflow) whenever it is reached.
OVERFLOWING_FORBID = """
@id("overflowing-forbid")
forbid (principal, action == Hub::Action::"finance.tax", resource)
when { 9223372036854775807 + (if context.consent then 1 else 0) > 0 };
"""


@pytest.fixture(scope="module")
def pdp() -> PolicyDecisionPoint:
    return PolicyDecisionPoint.from_directory()


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    """A writable copy of the packaged policies."""
    directory = tmp_path / "policies"
    shutil.copytree(POLICY_DIRECTORY, directory)
    return directory


def load_error(directory: Path) -> PolicyLoadError:
    with pytest.raises(PolicyLoadError) as caught:
        PolicyDecisionPoint.from_directory(directory)
    return caught.value


# Loading and naming


def test_the_packaged_policies_load_with_their_names(pdp: PolicyDecisionPoint) -> None:
    assert pdp.policy_ids == POLICY_IDS
    assert re.fullmatch(r"[0-9a-f]{64}", pdp.version)
    files = {p.name for p in POLICY_DIRECTORY.iterdir() if p.suffix in {".cedar", ".cedarschema"}}
    assert files == {
        "caseworker.cedar",
        "verification_centre.cedar",
        "agency.cedar",
        "auditor.cedar",
        "administrator.cedar",
        "global.cedar",
        SCHEMA_FILE,
    }


def test_the_policy_files_are_package_data() -> None:
    pyproject = (POLICY_DIRECTORY.parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"policies/*.cedar"' in pyproject
    assert '"policies/*.cedarschema"' in pyproject


def test_the_version_is_a_digest_of_the_texts(pdp: PolicyDecisionPoint, policies: Path) -> None:
    assert PolicyDecisionPoint.from_directory(policies).version == pdp.version
    auditor = policies / "auditor.cedar"
    auditor.write_text(auditor.read_text(encoding="utf-8") + "// reviewed\n", encoding="utf-8")
    assert PolicyDecisionPoint.from_directory(policies).version != pdp.version


def test_an_allow_names_the_permitting_policy(pdp: PolicyDecisionPoint) -> None:
    got = pdp.decide(CASEWORKER, FieldGroup.FINANCE_BANKING, HOME, OPEN)
    assert got == Decision(
        True, FieldGroup.FINANCE_BANKING, ("caseworker-finance-read",), pdp.version
    )
    assert not got.failed_closed


def test_an_explicit_forbid_names_the_forbidding_policy(pdp: PolicyDecisionPoint) -> None:
    got = pdp.decide(AGENCY, FieldGroup.HOUSEHOLD_MEMBERS, HOME, OPEN)
    assert got == Decision(
        False, FieldGroup.HOUSEHOLD_MEMBERS, ("forbid-agency-personal-data",), pdp.version
    )


def test_a_default_deny_names_no_policy(pdp: PolicyDecisionPoint) -> None:
    got = pdp.decide(CASEWORKER, FieldGroup.FINANCE_BANKING, AWAY, OPEN)
    assert got == Decision(False, FieldGroup.FINANCE_BANKING, (), pdp.version)


def test_a_decision_is_immutable(pdp: PolicyDecisionPoint) -> None:
    got = pdp.decide(AGENCY, FieldGroup.ASSISTANCE_STATUS, None, OPEN)
    assert got.allowed
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.allowed = False  # type: ignore[misc]


# Memoisation


def test_a_repeated_question_is_answered_from_the_memo() -> None:
    pdp = PolicyDecisionPoint.from_directory()
    first = pdp.decide(CASEWORKER, FieldGroup.CASE_READ, HOME, OPEN)
    again = pdp.decide(CASEWORKER, FieldGroup.CASE_READ, HOME, OPEN)
    assert again is first
    assert pdp.cache_info()[:3] == (1, 1, 1)


def test_the_memo_ignores_the_subject_but_not_the_attributes() -> None:
    pdp = PolicyDecisionPoint.from_directory()
    pdp.decide(CASEWORKER, FieldGroup.IDENTIFIERS_UNMASKED, HOME, OPEN)
    colleague = dataclasses.replace(CASEWORKER, subject="bob")
    assert not pdp.decide(colleague, FieldGroup.IDENTIFIERS_UNMASKED, HOME, OPEN).allowed
    assert pdp.cache_info().hits == 1
    unmasking = dataclasses.replace(
        CASEWORKER, privileges=frozenset({Privilege.UNMASK_IDENTIFIERS})
    )
    assert pdp.decide(unmasking, FieldGroup.IDENTIFIERS_UNMASKED, HOME, OPEN).allowed
    elsewhere = dataclasses.replace(unmasking, region="410702002")
    assert not pdp.decide(elsewhere, FieldGroup.IDENTIFIERS_UNMASKED, HOME, OPEN).allowed
    closed = dataclasses.replace(OPEN, case_open=False)
    assert not pdp.decide(unmasking, FieldGroup.IDENTIFIERS_UNMASKED, HOME, closed).allowed
    assert pdp.cache_info().hits == 1
    assert pdp.cache_info().misses == 4


def test_the_memo_is_bounded() -> None:
    pdp = PolicyDecisionPoint.from_directory(cache_size=2)
    for group in (FieldGroup.CASE_READ, FieldGroup.CASE_OPEN, FieldGroup.FLAGS_READ):
        pdp.decide(CASEWORKER, group, HOME, OPEN)
    assert pdp.cache_info().size == 2
    pdp.decide(CASEWORKER, FieldGroup.CASE_READ, HOME, OPEN)  # evicted: least recently used
    assert pdp.cache_info().hits == 0
    pdp.clear_cache()
    assert pdp.cache_info() == (0, 0, 0, 2)
    with pytest.raises(ValueError, match="cache_size"):
        PolicyDecisionPoint.from_directory(cache_size=0)


def test_decide_many_answers_each_group_once_and_fills_the_memo() -> None:
    pdp = PolicyDecisionPoint.from_directory()
    groups = [FieldGroup.FINANCE_TAX, FieldGroup.AUDIT_READ, FieldGroup.FINANCE_TAX]
    many = pdp.decide_many(CASEWORKER, groups, HOME, OPEN)
    assert list(many) == [FieldGroup.FINANCE_TAX, FieldGroup.AUDIT_READ]
    assert many[FieldGroup.FINANCE_TAX].allowed
    assert not many[FieldGroup.AUDIT_READ].allowed
    assert (
        pdp.decide(CASEWORKER, FieldGroup.FINANCE_TAX, HOME, OPEN) is many[FieldGroup.FINANCE_TAX]
    )
    assert pdp.decide_many(CASEWORKER, [], HOME, OPEN) == {}


# Failing closed


def test_an_evaluation_error_is_a_denial_that_records_it(policies: Path) -> None:
    (policies / "overflow.cedar").write_text(OVERFLOWING_FORBID, encoding="utf-8")
    pdp = PolicyDecisionPoint.from_directory(policies)
    got = pdp.decide(CASEWORKER, FieldGroup.FINANCE_TAX, HOME, OPEN)
    assert not got.allowed
    assert got.failed_closed
    assert got.policies == ()
    assert any("overflowing-forbid" in e and "overflow" in e for e in got.errors)
    many = pdp.decide_many(
        CASEWORKER, [FieldGroup.FINANCE_TAX, FieldGroup.FINANCE_BANKING], HOME, OPEN
    )
    assert not many[FieldGroup.FINANCE_TAX].allowed
    assert many[FieldGroup.FINANCE_BANKING].allowed  # the error is confined to its group


def test_cedar_alone_would_have_allowed_the_erroring_request(policies: Path) -> None:
    """Why failing closed matters: Cedar skips the erroring forbid and the permit wins."""
    (policies / "overflow.cedar").write_text(OVERFLOWING_FORBID, encoding="utf-8")
    pdp = PolicyDecisionPoint.from_directory(policies)
    [raw] = _cedar.evaluate(
        [decision._request(CASEWORKER, FieldGroup.FINANCE_TAX, HOME, OPEN)],
        pdp._policies,
        decision._entities(CASEWORKER, HOME),
        pdp._schema,
    )
    assert raw.decision == "Allow"
    assert raw.errors


def test_a_request_cedar_cannot_build_is_a_denial(monkeypatch: pytest.MonkeyPatch) -> None:
    pdp = PolicyDecisionPoint.from_directory()
    real = decision._request

    def unknown_action(*args: object) -> dict[str, object]:
        request = real(*args)  # type: ignore[arg-type]
        return {**request, "action": {"type": "Hub::Action", "id": "finance"}}  # a family

    monkeypatch.setattr(decision, "_request", unknown_action)
    got = pdp.decide(CASEWORKER, FieldGroup.FINANCE_TAX, HOME, OPEN)
    assert not got.allowed
    assert got.failed_closed
    assert any("failed to build request" in e for e in got.errors)


# Broken policy files: a typed error naming the file and what to do


def test_a_syntax_error_names_the_file(policies: Path) -> None:
    broken = policies / "caseworker.cedar"
    broken.write_text(
        broken.read_text(encoding="utf-8") + "\npermit (principal, action", encoding="utf-8"
    )
    error = load_error(policies)
    assert isinstance(error, AuthzError)
    assert error.path == str(broken)
    assert "cannot parse" in error.problem
    assert str(error).startswith(str(broken))
    assert "Fix this file" in str(error)


def test_a_policy_failing_validation_names_the_file_and_policy(policies: Path) -> None:
    (policies / "extra.cedar").write_text(
        '@id("typo")\npermit (principal, action == Hub::Action::"case.read", resource)\n'
        "when { principal.region > 3 };\n",
        encoding="utf-8",
    )
    error = load_error(policies)
    assert error.path.endswith("extra.cedar")
    assert "validation" in error.problem
    assert "[typo]" in error.problem


def test_an_unknown_action_fails_validation(policies: Path) -> None:
    (policies / "extra.cedar").write_text(
        '@id("nope")\npermit (principal, action == Hub::Action::"finance.crypto", resource);\n',
        encoding="utf-8",
    )
    assert "validation" in load_error(policies).problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("permit (principal, action, resource);", "@id"),
        ('@id("Not_Kebab")\npermit (principal, action, resource);', "@id"),
        ('@id("twice")\npermit (principal, action, resource);\n' * 2, "used twice"),
        ('@id("auditor-audit-read")\npermit (principal, action, resource);', "auditor.cedar"),
        ('@id("who")\npermit (principal == Hub::User::"alice", action, resource);', "identity"),
        (
            '@id("who")\npermit (principal, action, resource) when { principal == resource };',
            "itself",
        ),
        (
            '@id("which")\npermit (principal, action, resource) '
            'when { resource == Hub::Household::"h" };',
            "itself",
        ),
        ('@id("which")\npermit (principal, action, resource in Hub::System::"hub");', "identity"),
        ('@id("empty")\n// nothing\n', None),
    ],
)
def test_malformed_policies_are_refused(policies: Path, text: str, problem: str | None) -> None:
    (policies / "extra.cedar").write_text(text, encoding="utf-8")
    error = load_error(policies)
    assert error.path.endswith("extra.cedar")
    if problem is not None:
        assert problem in error.problem


def test_no_packaged_policy_reads_identity_only_attributes() -> None:
    for file in sorted(POLICY_DIRECTORY.glob("*.cedar")):
        parsed = _cedar.parse_policy_text(file.read_text(encoding="utf-8"))
        for policy in parsed.static_policies.values():
            assert list(decision._identity_reads(policy)) == [], file.name


def test_a_schema_problem_names_the_schema(policies: Path) -> None:
    schema = policies / SCHEMA_FILE
    schema.write_text("namespace Hub { entity User = { role: Strin }; }", encoding="utf-8")
    assert load_error(policies).path == str(schema)
    schema.unlink()
    error = load_error(policies)
    assert error.path == str(schema)
    assert "missing" in error.problem


def test_a_schema_without_a_field_group_is_refused(policies: Path) -> None:
    schema = policies / SCHEMA_FILE
    text = schema.read_text(encoding="utf-8")
    schema.write_text(text.replace('"assistance.status", ', ""), encoding="utf-8")
    (policies / "agency.cedar").unlink()  # its only user
    error = load_error(policies)
    assert error.path == str(schema)
    assert "assistance.status" in error.problem


def test_a_directory_without_policies_is_refused(tmp_path: Path) -> None:
    assert "not a directory" in load_error(tmp_path / "absent").problem
    shutil.copy(POLICY_DIRECTORY / SCHEMA_FILE, tmp_path / SCHEMA_FILE)
    assert "no *.cedar" in load_error(tmp_path).problem


def test_an_unreadable_file_is_refused(policies: Path) -> None:
    (policies / "extra.cedar").write_bytes(b"\xff\xfe not utf-8")
    assert "unreadable" in load_error(policies).problem
