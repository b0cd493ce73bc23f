"""Lint: a schema-valid policy can still be wrong. Each finding names the field path."""

from __future__ import annotations

from dataclasses import dataclass

from thresher.policy.policy import Policy
from thresher.policy.schema import Rule, match_text


@dataclass(frozen=True)
class Finding:
    path: str
    message: str
    level: str = "warning"

    def __str__(self) -> str:
        return f"{self.level}: {self.path}: {self.message}"


def _allowed(rule: Rule) -> dict[str, set[str]]:
    return {f: {match_text(v) for v in (w if isinstance(w, list) else [w])} for f, w in rule.match.items()}


def _covers(general: dict[str, set[str]], specific: dict[str, set[str]]) -> bool:
    """Every row ``specific`` matches is matched by ``general``."""
    return all(f in specific and specific[f] <= vals for f, vals in general.items())


def _intersects(a: dict[str, set[str]], b: dict[str, set[str]]) -> bool:
    return all(a[f] & b[f] for f in a.keys() & b.keys())


def lint(policy: Policy) -> list[Finding]:
    """Tiers out of order or unreachable, shadowed or ambiguous rules, thresholds outside the fit range."""
    findings: list[Finding] = []
    rules = policy.rules
    allowed = [_allowed(r) for r in rules]
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        for k in range(i):
            if _covers(allowed[k], allowed[i]):
                findings.append(Finding(f"{where}", f"rule '{rule.name}' is shadowed by rules[{k}] '{rules[k].name}', "
                                                    "which comes first and matches every row it would: it never applies"))
                break
            if _intersects(allowed[k], allowed[i]) and not _covers(allowed[i], allowed[k]):
                findings.append(Finding(f"{where}", f"rule '{rule.name}' overlaps rules[{k}] '{rules[k].name}': rows "
                                                    "matching both get the earlier rule; make the matches disjoint"))
        best = float("inf")
        for j, tier in enumerate(rule.tiers):
            path = f"{where}.tiers[{j}]"
            if tier.threshold >= best:
                findings.append(Finding(path, f"tiers out of order: '{tier.action}' at {tier.threshold:g} is not below "
                                              f"an earlier tier's {best:g}, so it is unreachable (the first tier "
                                              "reached decides); list tiers from the highest threshold down"))
            best = min(best, tier.threshold)
            ev = tier.evidence
            if ev is not None and ev.score_range is not None:
                low, high = ev.score_range
                if tier.threshold > high:
                    findings.append(Finding(path, f"threshold {tier.threshold:g} is above every score seen at fit time "
                                                  f"(max {high:g}): '{tier.action}' would never fire on such data"))
                elif tier.threshold < low:
                    findings.append(Finding(path, f"threshold {tier.threshold:g} is below every score seen at fit time "
                                                  f"(min {low:g}): '{tier.action}' would fire on every case"))
        if not rule.tiers:
            findings.append(Finding(where, f"rule '{rule.name}' has no tiers: every row gets '{rule.otherwise}'",
                                    level="info"))
    return findings
