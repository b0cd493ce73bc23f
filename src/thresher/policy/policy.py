"""The Policy: load, save, decide. Scoring stays separate from the decision."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml
from pydantic import ValidationError

from thresher.data.atomic import write_atomic
from thresher.data.encode import combined_codes
from thresher.data.read import read_table
from thresher.data.validate import clean_score
from thresher.errors import InputError, PolicyError
from thresher.kernels.tiers import decide_rows
from thresher.policy.schema import PolicyModel, Rule, match_text

DECISION_COLUMNS = ("action", "tier", "threshold", "segment", "policy_version")


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _policy_error(exc: ValidationError, source: str) -> PolicyError:
    lines = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        shown = f" (got {got!r})" if err["type"] not in ("value_error", "missing") and not isinstance(got, (dict, list)) else ""
        if not err["loc"]:  # the cross-field checks already name their paths, one per line
            lines.extend(f"  {line}" for line in msg.splitlines())
            continue
        lines.append(f"  {_field_path(err['loc'])}: {msg}{shown}")
    return PolicyError(f"Invalid policy {source}:\n" + "\n".join(lines) +
                       "\nFix the field(s) above; `thresher policy schema` prints the full schema.")


class Policy:
    """A validated decision policy (see :mod:`thresher.policy.schema` for the file format).

    >>> p = Policy.from_dict({"name": "p", "version": 1, "score": "s", "actions": ["block", "allow"],
    ...                       "rules": [{"name": "default", "tiers": [{"action": "block", "threshold": 0.9}]}]})
    >>> p.decide({"s": [0.95, 0.5]}).column("action").to_pylist()
    ['block', 'allow']
    """

    def __init__(self, model: PolicyModel):
        self.model = model
        self._prepare()

    # construction and files ----------------------------------------------------------------
    @classmethod
    def from_dict(cls, data, source: str = "(dict)") -> "Policy":
        if not isinstance(data, dict):
            raise PolicyError(f"Invalid policy {source}: the top level must be a mapping with name, version, "
                              f"score, actions and rules; got {type(data).__name__}.")
        try:
            return cls(PolicyModel.model_validate(data))
        except ValidationError as exc:
            raise _policy_error(exc, source) from None

    @classmethod
    def load(cls, path) -> "Policy":
        """Read a policy from YAML (``.yaml``/``.yml``) or JSON (``.json``)."""
        path = Path(path)
        if not path.exists():
            raise PolicyError(f"Policy file not found: '{path}'.")
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise PolicyError(f"Invalid policy '{path}': not valid {'JSON' if path.suffix == '.json' else 'YAML'} "
                              f"({exc}).") from None
        return cls.from_dict(data, f"'{path}'")

    def to_dict(self) -> dict:
        return self.model.model_dump(mode="json", exclude_none=True)

    def dumps(self, fmt: str = "yaml") -> str:
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2) + "\n"
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    def save(self, path) -> None:
        """Write atomically (YAML, or JSON for a ``.json`` path): a failure never leaves a broken file."""
        path = Path(path)
        write_atomic(path, self.dumps("json" if path.suffix == ".json" else "yaml"))

    def __eq__(self, other) -> bool:
        return isinstance(other, Policy) and self.model == other.model

    def __repr__(self) -> str:
        return f"Policy(name={self.name!r}, version={self.version}, rules={len(self.rules)})"

    # accessors --------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.model.name

    @property
    def version(self) -> int:
        return self.model.version

    @property
    def score(self) -> str:
        return self.model.score

    @property
    def segments(self) -> list[str]:
        return list(self.model.segments)

    @property
    def rules(self) -> list[Rule]:
        return list(self.model.rules)

    # deciding ---------------------------------------------------------------------------------
    def _prepare(self) -> None:
        rules = self.model.rules
        width = max(1, max(len(r.tiers) for r in rules))
        self._thresholds = np.full((len(rules), width), np.inf)
        self._n_tiers = np.array([len(r.tiers) for r in rules], np.int64)
        actions = list(self.model.actions)
        self._actions = actions
        self._tier_action = np.zeros((len(rules), width), np.int8)
        self._otherwise = np.array([actions.index(r.otherwise) for r in rules], np.int8)
        for i, rule in enumerate(rules):
            for j, tier in enumerate(rule.tiers):
                self._thresholds[i, j] = tier.threshold
                self._tier_action[i, j] = actions.index(tier.action)
        self._rule_cache: dict[tuple, int] = {}
        self._action_names = pa.array(actions)
        self._tier_names = pa.array(actions + ["otherwise"])
        self._rule_names = pa.array([r.name for r in rules])

    def rule_for(self, values: dict) -> int:
        """Index of the first rule matching a row's segment values."""
        key = tuple(match_text(values.get(f)) for f in self.model.segments)
        if key not in self._rule_cache:
            self._rule_cache[key] = next(i for i, r in enumerate(self.model.rules) if r.matches(values))
        return self._rule_cache[key]

    def _rules_of(self, table: pa.Table) -> np.ndarray:
        fields = self.model.segments
        if not fields:
            return np.zeros(table.num_rows, np.int64)
        inverse, combos = combined_codes([table.column(name) for name in fields])
        rule_of_combo = np.array([self.rule_for(dict(zip(fields, combo))) for combo in combos], np.int64)
        return rule_of_combo[inverse]

    def decide_table(self, table: pa.Table, row_offset: int = 0) -> pa.Table:
        """Decision columns for an Arrow table holding the score and segment fields."""
        missing = [c for c in [self.model.score, *self.model.segments] if c not in table.column_names]
        if missing:
            raise InputError(f"The data has no column '{missing[0]}', which policy '{self.name}' v{self.version} "
                             f"needs (score: '{self.model.score}', segments: {self.model.segments}). "
                             f"Columns present: {', '.join(table.column_names)}.")
        score = clean_score(table.column(self.model.score), self.model.score, row_offset)
        rule = self._rules_of(table)
        action, tier, threshold = decide_rows(score, rule, self._thresholds, self._n_tiers, self._tier_action,
                                              self._otherwise, len(self._actions))
        return pa.table({
            "action": pa.DictionaryArray.from_arrays(pa.array(action), self._action_names),
            "tier": pa.DictionaryArray.from_arrays(pa.array(tier), self._tier_names),
            "threshold": pa.array(threshold, pa.float64(), from_pandas=True),
            "segment": pa.DictionaryArray.from_arrays(pa.array(rule.astype(np.int32)), self._rule_names),
            "policy_version": pa.array(np.full(table.num_rows, self.version, np.int32)),
        })

    def decide(self, data) -> pa.Table:
        """Decide every row: ``action``, ``tier`` (the action of the tier reached, or ``otherwise``),
        ``threshold`` (of that tier; the lowest tier's for ``otherwise``), ``segment`` (the rule's
        name) and ``policy_version``. ``data`` is anything :func:`thresher.load` reads."""
        table = read_table(data, [self.model.score, *self.model.segments]) if not isinstance(data, pa.Table) \
            else data
        return self.decide_table(table)

    def decide_one(self, score: float, **segments) -> dict:
        """One decision as a dict (the service's hot path uses the same rules)."""
        i = self.rule_for(segments)
        rule = self.model.rules[i]
        for tier in rule.tiers:
            if score >= tier.threshold:
                return {"action": tier.action, "tier": tier.action, "threshold": tier.threshold,
                        "segment": rule.name, "policy_version": self.version}
        lowest = rule.tiers[-1].threshold if rule.tiers else None
        return {"action": rule.otherwise, "tier": "otherwise", "threshold": lowest, "segment": rule.name,
                "policy_version": self.version}
