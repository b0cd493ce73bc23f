"""The policy file: a typed, versioned artifact that turns scores into actions, per segment.

::

    name: credit-default
    version: 2
    score: score                 # the score field
    segments: [student]          # the segment fields rules may match on
    actions: [block, review, allow]
    rules:                       # ordered: the first rule whose match fits the row decides
      - name: student=yes
        match: {student: "yes"}
        tiers:                   # ordered, highest threshold first: the first tier reached decides
          - {action: block, threshold: 0.62, evidence: {...}}
          - {action: review, threshold: 0.15, evidence: {...}}
        otherwise: allow         # below every tier
      - name: default
        match: {}                # the last rule matches everything (unknown segment values land here)
        tiers: [...]
        otherwise: allow

A row is decided deterministically: its rule is the first whose every ``match`` field equals the
row's value (a list matches any of its values; values compare as text), and its action is that of
the first tier with ``score >= threshold``, else ``otherwise``.
"""

from __future__ import annotations

import math
from typing import Annotated, Union

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr,
                      model_validator)


def _number(value):
    # strict: 0.9 and 1 are numbers; "0.9" and true are not (a quoted threshold is a typo, not a number)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, not {type(value).__name__} (write 0.9, not \"0.9\")")
    return float(value)


Number = Annotated[float, BeforeValidator(_number)]
MatchValue = Union[StrictStr, StrictInt, StrictFloat, StrictBool, None]
NAME = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Support(_Strict):
    rows: StrictInt
    positives: Number
    negatives: Number


class Evidence(_Strict):
    """Why a threshold is what it is: the objective, the metrics at fit time, and the data."""

    objective: StrictStr
    source: StrictStr = "fit"  # fit | fallback | manual
    fallback_from: StrictStr | None = None
    metrics: dict[StrictStr, Number | None] = Field(default_factory=dict)
    intervals: dict[StrictStr, tuple[Number | None, Number | None]] = Field(default_factory=dict)
    confidence: Number | None = None
    support: Support | None = None
    data_fingerprint: StrictStr | None = None
    score_range: tuple[Number, Number] | None = None
    note: StrictStr | None = None


class Tier(_Strict):
    action: Annotated[StrictStr, Field(pattern=NAME)]
    threshold: Number
    evidence: Evidence | None = None

    @model_validator(mode="after")
    def _finite(self):
        if not math.isfinite(self.threshold):
            raise ValueError("threshold must be a finite number")
        return self


class Rule(_Strict):
    name: Annotated[StrictStr, Field(min_length=1)]
    match: dict[StrictStr, MatchValue | list[MatchValue]] = Field(default_factory=dict)
    tiers: list[Tier] = Field(default_factory=list)
    otherwise: Annotated[StrictStr, Field(pattern=NAME)] = "allow"

    @property
    def is_default(self) -> bool:
        return not self.match

    def matches(self, values: dict) -> bool:
        for field, wanted in self.match.items():
            options = wanted if isinstance(wanted, list) else [wanted]
            if match_text(values.get(field)) not in {match_text(o) for o in options}:
                return False
        return True


def match_text(value) -> str:
    """A segment value as rules compare it: ``None`` -> ``"null"``, booleans lower case, a whole float
    as its integer (``7.0`` -> ``"7"``), anything else ``str``. So ``7``, ``7.0`` and ``"7"`` match alike."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class PolicyModel(_Strict):
    """The schema of a policy file (see the module docstring)."""

    name: Annotated[StrictStr, Field(min_length=1)]
    version: Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]  # a 64-bit integer in every audit store
    score: Annotated[StrictStr, Field(min_length=1)]
    segments: list[StrictStr] = Field(default_factory=list)
    actions: Annotated[list[Annotated[StrictStr, Field(pattern=NAME)]], Field(min_length=1)]
    rules: Annotated[list[Rule], Field(min_length=1)]
    description: StrictStr | None = None
    created_at: StrictStr | None = None
    thresher_version: StrictStr | None = None

    @model_validator(mode="after")
    def _consistent(self):
        errors = []
        declared = set(self.actions)
        if len(declared) != len(self.actions):
            errors.append(("actions", "lists an action twice"))
        seen_rules: set[str] = set()
        for i, rule in enumerate(self.rules):
            where = f"rules[{i}]"
            if rule.name in seen_rules:
                errors.append((f"{where}.name", f"duplicate rule name '{rule.name}'"))
            seen_rules.add(rule.name)
            for field in rule.match:
                if field not in self.segments:
                    errors.append((f"{where}.match.{field}",
                                   f"'{field}' is not a segment field (segments: {', '.join(self.segments) or 'none'})"))
            if rule.otherwise not in declared:
                errors.append((f"{where}.otherwise", _unknown_action(rule.otherwise, self.actions)))
            actions_seen: set[str] = set()
            thresholds_seen: set[float] = set()
            for j, tier in enumerate(rule.tiers):
                if tier.action not in declared:
                    errors.append((f"{where}.tiers[{j}].action", _unknown_action(tier.action, self.actions)))
                if tier.action in actions_seen:
                    errors.append((f"{where}.tiers[{j}]", f"duplicate tier: action '{tier.action}' appears twice"))
                if float(tier.threshold) in thresholds_seen:
                    errors.append((f"{where}.tiers[{j}]", f"duplicate tier: threshold {tier.threshold} appears twice"))
                actions_seen.add(tier.action)
                thresholds_seen.add(float(tier.threshold))
        if not self.rules[-1].is_default:
            errors.append((f"rules[{len(self.rules) - 1}].match",
                           "the last rule must be the default (match: {}) so every row gets a decision"))
        if errors:
            raise ValueError("\n".join(f"{path}: {msg}" for path, msg in errors))
        return self


def _unknown_action(action: str, declared: list[str]) -> str:
    return f"unknown action '{action}'; declared actions are {', '.join(declared)} (add it to 'actions' or fix the name)"
