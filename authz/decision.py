"""The policy decision point: may this principal read this field group, here, now?

Default deny. Decisions come from the Cedar policies in `authz/policies/`
(one file per role plus `global.cedar` for explicit forbids), validated at
load against `hub.cedarschema`:

    pdp = PolicyDecisionPoint.from_directory()          # the packaged policies
    decision = pdp.decide(principal, FieldGroup.FINANCE_TAX, household,
                          DecisionContext(case_open=True, consent=True, purpose="dibao"))
    if not decision.allowed: ...                        # decision.policies names why

A decision depends only on a small tuple of attributes (role, region,
organisation, privileges, field group, the household's township and region,
the context), never on who the principal is: loading refuses any policy that
looks at an entity's identity rather than its attributes. So decisions are
memoised in a bounded LRU keyed by that tuple, per policy set (a new policy
set is a new decision point with an empty memo).

Fail closed: a Cedar evaluation error (Cedar skips the policy that errored,
which for a `forbid` would let a `permit` through) or a request Cedar cannot
build is a denial that records the errors.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from authz import _cedar
from authz._cedar import pst
from authz.errors import AuthzError
from authz.field_groups import DecisionContext, FieldGroup, HouseholdResource
from authz.principal import Principal, Role

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "POLICY_DIRECTORY",
    "SCHEMA_FILE",
    "CacheInfo",
    "Decision",
    "PolicyDecisionPoint",
    "PolicyLoadError",
]

POLICY_DIRECTORY = Path(__file__).resolve().parent / "policies"
SCHEMA_FILE = "hub.cedarschema"
DEFAULT_CACHE_SIZE = 4096

_POLICY_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_NAMESPACE = ("Hub",)
_USER = "Hub::User"
_HOUSEHOLD = "Hub::Household"
_SYSTEM = "Hub::System"
_ACTION = "Hub::Action"
_HOUSEHOLD_ID = "h"
_SYSTEM_ID = "hub"
# The attributes a policy may read: exactly those the memo key holds.
_READABLE = {
    "principal": frozenset({"role", "region", "organisation", "privileges"}),
    "resource": frozenset({"township", "region", "jurisdictions"}),
    "context": frozenset({"case_open", "consent", "purpose"}),
}


class PolicyLoadError(AuthzError):
    """A policy or schema file cannot be used; the hub must not start on it."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(
            f"{self.path}: {problem}. Fix this file (or restore the packaged policies in "
            "authz/policies/) and start again; no decision is made without a valid policy set."
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one field group.

    policies: the `@id`s of the policies that determined the decision: the
      permitting ones when allowed, the forbidding ones when an explicit forbid
      denied, empty for a default deny.
    policy_version: the digest of the policy set that decided.
    errors: evaluation errors; when present the decision is a denial (fail closed).
    """

    allowed: bool
    group: FieldGroup
    policies: tuple[str, ...]
    policy_version: str
    errors: tuple[str, ...] = ()

    @property
    def failed_closed(self) -> bool:
        return bool(self.errors)


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    size: int
    maxsize: int


# role, region, organisation, privileges, group, township, household region,
# case_open, consent, purpose. Not the subject: no policy reads it.
_Key = tuple[str, str, str, frozenset[str], str, str | None, str | None, bool, bool, str]


class _Memo:
    """A bounded, thread-safe LRU of decisions."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("cache_size must be at least 1")
        self._maxsize = maxsize
        self._data: OrderedDict[_Key, Decision] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def get(self, key: _Key) -> Decision | None:
        with self._lock:
            found = self._data.get(key)
            if found is None:
                self._misses += 1
                return None
            self._data.move_to_end(key)
            self._hits += 1
            return found

    def put(self, key: _Key, decision: Decision) -> None:
        with self._lock:
            self._data[key] = decision
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._data), self._maxsize)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._hits = self._misses = 0


class PolicyDecisionPoint:
    """Decides field groups against one validated, immutable policy set."""

    def __init__(
        self,
        policies: _cedar.CedarPolicies,
        schema: _cedar.CedarSchema,
        version: str,
        policy_ids: frozenset[str],
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        """Prefer `from_directory`, which parses, checks and validates the files."""
        self._policies = policies
        self._schema = schema
        self._version = version
        self._policy_ids = policy_ids
        self._memo = _Memo(cache_size)

    @classmethod
    def from_directory(
        cls, path: Path | None = None, *, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> PolicyDecisionPoint:
        """Load `*.cedar` and `hub.cedarschema` from `path` (default: the packaged policies).

        Raises `PolicyLoadError` naming the file when a file cannot be read or
        parsed, a policy lacks a unique kebab-case `@id`, a policy reads an
        entity's identity or an attribute outside the memo key, a policy fails
        validation against the schema, or the schema lacks a field group.
        """
        directory = POLICY_DIRECTORY if path is None else path
        if not directory.is_dir():
            raise PolicyLoadError(directory, "not a directory of policy files")
        schema_path = directory / SCHEMA_FILE
        schema_text = _read(schema_path)
        try:
            schema = _cedar.parse_schema(schema_text)
        except ValueError as exc:
            raise PolicyLoadError(schema_path, f"the Cedar schema does not parse: {exc}") from exc
        files = sorted(directory.glob("*.cedar"))
        if not files:
            raise PolicyLoadError(directory, "no *.cedar policy files here")
        sources = [(file, _read(file)) for file in files]  # read once: checked = digested
        digest = hashlib.sha256()
        for named, text in [(SCHEMA_FILE, schema_text)] + [(f.name, t) for f, t in sources]:
            for part in (named, text):
                encoded = part.encode("utf-8")
                digest.update(len(encoded).to_bytes(8, "big") + encoded)
        seen: dict[str, str] = {}
        for file, text in sources:
            for policy_id in _check_file(file, text, schema):
                if policy_id in seen:
                    raise PolicyLoadError(
                        file, f'@id("{policy_id}") is already used in {seen[policy_id]}'
                    )
                seen[policy_id] = file.name
        texts = [text for _, text in sources]
        try:
            policies = _cedar.policy_set_by_id(texts)
        except ValueError as exc:  # pragma: no cover - each file parsed on its own above
            raise PolicyLoadError(directory, f"the policies do not combine: {exc}") from exc
        pdp = cls(policies, schema, digest.hexdigest(), frozenset(seen), cache_size)
        missing = pdp._undeclared_groups()
        if missing:
            names = ", ".join(sorted(g.value for g in missing))
            raise PolicyLoadError(schema_path, f"the schema declares no action for {names}")
        return pdp

    @property
    def version(self) -> str:
        """The SHA-256 of the schema and policy files (names and texts)."""
        return self._version

    @property
    def policy_ids(self) -> frozenset[str]:
        return self._policy_ids

    def decide(
        self,
        principal: Principal,
        group: FieldGroup,
        resource: HouseholdResource | None,
        context: DecisionContext,
    ) -> Decision:
        key = _key(principal, group, resource, context)
        found = self._memo.get(key)
        if found is not None:
            return found
        [result] = _cedar.evaluate(
            [_request(principal, group, resource, context)],
            self._policies,
            _entities(principal, resource),
            self._schema,
        )
        decision = self._decision(group, result)
        self._memo.put(key, decision)
        return decision

    def decide_many(
        self,
        principal: Principal,
        groups: Iterable[FieldGroup],
        resource: HouseholdResource | None,
        context: DecisionContext,
    ) -> dict[FieldGroup, Decision]:
        """Decide several groups for one principal, resource and context (one Cedar batch)."""
        decided: dict[FieldGroup, Decision] = {}
        missing: dict[FieldGroup, _Key] = {}
        for group in dict.fromkeys(groups):
            key = _key(principal, group, resource, context)
            found = self._memo.get(key)
            if found is None:
                missing[group] = key
            else:
                decided[group] = found
        if missing:
            results = _cedar.evaluate(
                [_request(principal, g, resource, context) for g in missing],
                self._policies,
                _entities(principal, resource),
                self._schema,
            )
            for (group, key), result in zip(missing.items(), results, strict=True):
                decision = self._decision(group, result)
                self._memo.put(key, decision)
                decided[group] = decision
        return decided

    def cache_info(self) -> CacheInfo:
        return self._memo.info()

    def clear_cache(self) -> None:
        self._memo.clear()

    def _decision(self, group: FieldGroup, result: _cedar.EvaluationResult) -> Decision:
        reasons = tuple(sorted(result.reasons))
        if result.errors or result.decision not in {"Allow", "Deny"}:
            # Fail closed. Name a forbid that did apply; never a permit.
            forbids = reasons if result.decision == "Deny" else ()
            errors = result.errors or (f"Cedar reached no decision ({result.decision})",)
            return Decision(False, group, forbids, self._version, errors)
        return Decision(result.decision == "Allow", group, reasons, self._version)

    def _undeclared_groups(self) -> set[FieldGroup]:
        probe = Principal("pdp-load-probe", Role.ADMINISTRATOR, "410700", "pdp")
        requests = [_request(probe, g, None, DecisionContext()) for g in FieldGroup]
        results = _cedar.evaluate(requests, self._policies, _entities(probe, None), self._schema)
        return {g for g, r in zip(FieldGroup, results, strict=True) if r.decision == "NoDecision"}

    def __repr__(self) -> str:
        return (
            f"PolicyDecisionPoint(version={self._version[:12]}, policies={len(self._policy_ids)})"
        )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyLoadError(path, "missing") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyLoadError(path, f"unreadable ({type(exc).__name__})") from exc


def _check_file(path: Path, text: str, schema: _cedar.CedarSchema) -> list[str]:
    """Parse, check and validate one policy file; return its policies' `@id`s."""
    try:
        parsed = _cedar.parse_policy_text(text)
    except ValueError as exc:
        raise PolicyLoadError(path, f"Cedar cannot parse it: {exc}") from exc
    if parsed.templates or parsed.template_links:
        raise PolicyLoadError(path, "templates are not used here; write static policies")
    ids: list[str] = []
    for policy in parsed.static_policies.values():
        policy_id = policy.annotations.get("id")
        if policy_id is None or not _POLICY_ID.fullmatch(policy_id):
            raise PolicyLoadError(
                path,
                f'every policy needs @id("kebab-case-name"); found {policy_id!r} '
                f"on the {policy.effect} policy at position {len(ids) + 1}",
            )
        if policy_id in ids:
            raise PolicyLoadError(path, f'@id("{policy_id}") is used twice')
        problems = list(_identity_reads(policy))
        if problems:
            raise PolicyLoadError(path, f'policy "{policy_id}" {problems[0]}')
        ids.append(policy_id)
    if not ids:
        raise PolicyLoadError(path, "it holds no policy")
    errors = _cedar.validation_errors(text, schema)
    if errors:
        raise PolicyLoadError(path, f"it fails validation against {SCHEMA_FILE}: {errors[0]}")
    return ids


def _identity_reads(policy: pst.Template) -> Iterator[str]:
    """Why a policy would make memoising on attributes wrong (nothing: it is fine)."""
    for var, scope in (("principal", policy.principal), ("resource", policy.resource)):
        if not isinstance(scope, pst.ScopeAny | pst.ScopeIs):
            yield f"constrains the {var} by identity or hierarchy in its scope"
    for clause in policy.clauses:
        yield from _expr_reads(clause.expr)


def _expr_reads(expr: pst.Expr) -> Iterator[str]:  # noqa: PLR0912 - one arm per node type
    match expr:
        case pst.GetAttr(base=pst.Var(name=var), attr=attr) if var != "action":
            yield from _unkeyed(var, (attr,))
        case pst.HasAttr(base=pst.Var(name=var), attrs=attrs) if var != "action":
            yield from _unkeyed(var, attrs)
        case pst.Is(base=pst.Var(), in_expr=None):
            return
        case pst.Var(name="principal" | "resource"):
            yield f"uses {expr.name} itself, not only its attributes"
        case pst.Var() | pst.BoolLit() | pst.LongLit() | pst.StringLit():
            return
        case pst.EntityLit(value=uid):
            if uid.type != pst.EntityType("Action", _NAMESPACE):
                yield f"names the entity {uid}"
        case pst.UnaryOp(arg=arg):
            yield from _expr_reads(arg)
        case pst.BinaryOp(left=left, right=right):
            yield from _expr_reads(left)
            yield from _expr_reads(right)
        case pst.GetAttr(base=base) | pst.HasAttr(base=base) | pst.Like(base=base):
            yield from _expr_reads(base)
        case pst.Is(base=base, in_expr=in_expr):
            yield from _expr_reads(base)
            if in_expr is not None:
                yield "tests entity hierarchy with `is ... in`"
        case pst.IfThenElse(cond=cond, then_expr=then_expr, else_expr=else_expr):
            for part in (cond, then_expr, else_expr):
                yield from _expr_reads(part)
        case pst.Set(elements=elements):
            for element in elements:
                yield from _expr_reads(element)
        case pst.Record(fields=record):
            for value in record.values():
                yield from _expr_reads(value)
        case _:
            yield f"uses an expression the load check does not know ({type(expr).__name__})"


def _unkeyed(var: str, attrs: tuple[str, ...]) -> Iterator[str]:
    for attr in attrs:
        if attr not in _READABLE[var]:
            yield f"reads {var}.{attr}, which the decision memo does not key on"


def _key(
    principal: Principal,
    group: FieldGroup,
    resource: HouseholdResource | None,
    context: DecisionContext,
) -> _Key:
    return (
        principal.role,
        principal.region,
        principal.organisation,
        principal.privileges,
        group,
        None if resource is None else resource.township_code,
        None if resource is None else resource.region_code,
        context.case_open,
        context.consent,
        context.purpose,
    )


def _request(
    principal: Principal,
    group: FieldGroup,
    resource: HouseholdResource | None,
    context: DecisionContext,
) -> dict[str, Any]:
    return {
        "principal": {"type": _USER, "id": principal.subject},
        "action": {"type": _ACTION, "id": group.value},
        "resource": _resource_uid(resource),
        "context": {
            "case_open": context.case_open,
            "consent": context.consent,
            "purpose": context.purpose,
        },
    }


def _resource_uid(resource: HouseholdResource | None) -> dict[str, str]:
    if resource is None:
        return {"type": _SYSTEM, "id": _SYSTEM_ID}
    return {"type": _HOUSEHOLD, "id": _HOUSEHOLD_ID}


def _entities(principal: Principal, resource: HouseholdResource | None) -> str:
    user = {
        "uid": {"type": _USER, "id": principal.subject},
        "attrs": {
            "role": str(principal.role),
            "region": principal.region,
            "organisation": principal.organisation,
            "privileges": sorted(str(p) for p in principal.privileges),
        },
        "parents": [],
    }
    if resource is None:
        target: dict[str, Any] = {"uid": _resource_uid(None), "attrs": {}, "parents": []}
    else:
        target = {
            "uid": _resource_uid(resource),
            "attrs": {
                "township": resource.township_code,
                "region": resource.region_code,
                "jurisdictions": sorted(resource.jurisdictions),
            },
            "parents": [],
        }
    return json.dumps([user, target])
