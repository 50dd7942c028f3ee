"""The few cedarpy calls the decision point makes, typed, in one place.

cedarpy ships stubs, but its public wrappers return loosely typed dicts and
report policies by positional ids (`policy0`, ...). This module hands the rest
of `authz` plain typed values and policy sets keyed by each policy's `@id`
annotation, so diagnostics name policies as their authors did.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cedarpy
from cedarpy import pst

__all__ = [
    "CedarPolicies",
    "CedarSchema",
    "EvaluationResult",
    "evaluate",
    "parse_policy_text",
    "parse_schema",
    "policy_set_by_id",
    "pst",
    "validation_errors",
]

CedarSchema = cedarpy.Schema
CedarPolicies = cedarpy.PolicySet


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """One request's outcome as Cedar reports it.

    decision: "Allow", "Deny" or "NoDecision" (the request could not be built).
    reasons: ids of the policies that were satisfied and determined the decision.
    errors: evaluation or request errors; Cedar skips a policy that errors, so a
      non-empty tuple means the decision may not be what the policies intend.
    """

    decision: str
    reasons: tuple[str, ...]
    errors: tuple[str, ...]


def parse_schema(text: str) -> CedarSchema:
    """Parse Cedar schema text; `ValueError` on a syntax or schema error."""
    return cedarpy.Schema.from_str(text)


def parse_policy_text(text: str) -> pst.PolicySet:
    """Parse Cedar policy text into typed nodes; `ValueError` on a syntax error."""
    return cedarpy.policies_to_pst(text)


def validation_errors(text: str, schema: CedarSchema) -> list[str]:
    """What the validator finds wrong with `text` against `schema` (empty: valid)."""
    result = cedarpy.validate_policies(text, schema)
    names: Mapping[str, str] = result.id_annotations_by_policy_id
    found: list[str] = []
    for error in result.errors:
        where = names.get(error.policy_id, error.policy_id)
        found.append(f"[{where}] {error.error}" if where else error.error)
    return found


def policy_set_by_id(texts: Sequence[str]) -> CedarPolicies:
    """One policy set from several policy texts, each policy keyed by its `@id`.

    The caller has checked that every policy has a unique `@id`. Keying the
    set by it (through Cedar's JSON policy format) makes every reason and
    error Cedar reports name the policy by that id.
    """
    static: dict[str, Any] = {}
    for text in texts:
        converted: dict[str, Any] = json.loads(cedarpy.policies_to_json_str(text))
        for policy in converted["staticPolicies"].values():
            static[policy["annotations"]["id"]] = policy
    document = {"staticPolicies": static, "templates": {}, "templateLinks": []}
    return cedarpy.PolicySet.from_json_str(json.dumps(document))


def evaluate(
    requests: Sequence[dict[str, Any]],
    policies: CedarPolicies,
    entities: str,
    schema: CedarSchema,
) -> list[EvaluationResult]:
    """Evaluate requests against one entity set, in order, validating them against `schema`."""
    results = cedarpy.is_authorized_batch(list(requests), policies, entities, schema=schema)
    return [
        EvaluationResult(
            decision=result.decision.value,
            reasons=tuple(result.diagnostics.reasons),
            errors=tuple(str(e) for e in result.diagnostics.errors),
        )
        for result in results
    ]
