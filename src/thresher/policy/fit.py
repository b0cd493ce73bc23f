"""Fitting a policy: one objective per tier, per segment, with hierarchical fallback and evidence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from thresher.data.fingerprint import fingerprint
from thresher.data.load import load
from thresher.errors import PolicyError, SpecError
from thresher.metrics.curve import Curve
from thresher.policy.policy import Policy
from thresher.select.context import Context
from thresher.select.objectives import parse
from thresher.select.operating_point import OperatingPoint
from thresher.select.select import select_by_segment, select_on_curve

EVIDENCE_METRICS = ("precision", "recall", "f1", "specificity", "alert_rate", "tp", "fp", "tn", "fn")


def _match_value(value):
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _rule_name(names, prefix) -> str:
    return ",".join(f"{n}={'null' if v is None else v}" for n, v in zip(names, prefix)) or "default"


def _evidence(point: OperatingPoint, support, fp: str, score_range) -> dict:
    c = point.confusion
    fallback = point.extra.get("fallback_from")
    return {
        "objective": point.objective,
        "source": "fallback" if fallback else "fit",
        "fallback_from": fallback,
        "metrics": {k: (None if np.isnan(v) else float(v)) for k, v in ((m, float(c.metric(m)) if m not in
                    ("tp", "fp", "tn", "fn") else float(getattr(c, m))) for m in EVIDENCE_METRICS)},
        "intervals": {k: [None if np.isnan(lo) else lo, None if np.isnan(hi) else hi]
                      for k, (lo, hi) in point.intervals.items()},
        "confidence": point.confidence,
        "support": support,
        "data_fingerprint": fp,
        "score_range": score_range,
        "note": point.notes[0] if point.notes else None,
    }


@dataclass(frozen=True)
class FitResult:
    policy: Policy
    rows: list[dict]  # one per (rule, tier): what was chosen and why


def parse_tiers(tiers) -> list[tuple[str, object]]:
    """``[("block", "max-precision recall>=0.5"), ...]`` from a dict, pairs, or ``ACTION=SPEC`` strings."""
    if isinstance(tiers, dict):
        tiers = list(tiers.items())
    out = []
    for item in tiers:
        if isinstance(item, str):
            action, sep, spec = item.partition("=")
            if not sep or not action.strip() or not spec.strip():
                raise SpecError(f"A tier is written ACTION=SPEC, e.g. review='budget rate<=0.05'; got '{item}'.")
            item = (action.strip(), spec.strip())
        action, spec = item
        out.append((action, parse(spec)))
    if not out:
        raise SpecError("A policy needs at least one tier (e.g. block='max-precision recall>=0.5').")
    actions = [a for a, _ in out]
    if len(set(actions)) != len(actions):
        raise SpecError(f"Each tier needs its own action; got {actions}.")
    return out


def fit_policy(data, *, label: str, score: str, tiers, by=None, otherwise: str = "allow", min_support: int = 30,
               name: str = "policy", version: int = 1, weight: str | None = None, pos_label=None,
               confidence: float = 0.95, description: str | None = None) -> FitResult:
    """Fit a policy: for each tier (highest first) the objective's threshold in every segment.

    ``tiers`` maps action → objective, highest tier first, e.g.
    ``{"block": "max-precision recall>=0.5", "review": "budget rate<=0.05"}``. Segments with fewer
    than ``min_support`` positives (or where an objective is infeasible) use their parent's threshold.
    """
    tier_specs = parse_tiers(tiers)
    extra = sorted({c for _, o in tier_specs for c in o.columns()})
    cols = load(data, label=label, score=score, weight=weight, by=by, pos_label=pos_label, extra=extra)
    names = cols.segments.names if cols.segments is not None else ()
    levels: dict[tuple, dict[str, OperatingPoint]] = {}  # prefix -> {action: point}
    for action, objective in tier_specs:
        if names:
            chosen = select_by_segment(cols, objective, by=names, min_support=min_support,
                                       confidence=confidence).levels
        else:
            chosen = {(): select_on_curve(Curve.from_columns(cols), objective, Context(cols), confidence=confidence)}
        for prefix, point in chosen.items():
            levels.setdefault(prefix, {})[action] = point
    stats = {}
    for prefix in levels:
        if prefix:
            mask = np.ones(len(cols), bool)
            for depth, value in enumerate(prefix):
                groups = [g for g, k in enumerate(cols.segments.keys) if k[depth] == value]
                mask &= np.isin(cols.segments.codes, groups)
            sub = cols.take(np.flatnonzero(mask))
        else:
            sub = cols
        stats[prefix] = ({"rows": len(sub),
                          "positives": float(sub.weight[sub.y == 1].sum() if sub.weight is not None
                                             else np.count_nonzero(sub.y)),
                          "negatives": float(sub.weight[sub.y == 0].sum() if sub.weight is not None
                                             else len(sub) - np.count_nonzero(sub.y))},
                         [float(sub.score.min()), float(sub.score.max())])
    return assemble_policy(tier_specs, levels, stats, names, fingerprint(cols), otherwise=otherwise, name=name,
                           version=version, score=score, description=description)


def fit_policy_on_curves(curves: dict[tuple, Curve], *, by, score: str, tiers, data_fingerprint: str,
                         rows: dict | None = None, score_ranges: dict | None = None, otherwise: str = "allow",
                         min_support: int = 30, name: str = "policy", version: int = 1, confidence: float = 0.95,
                         description: str | None = None) -> FitResult:
    """:func:`fit_policy` from exact curves of every key prefix (``()`` for all rows; see
    :meth:`thresher.scale.outofcore.StreamCurves.level_curves`), e.g. counted out of core; ``rows``:
    the rows per prefix (default: the curve's total weight, right for unweighted data);
    ``score_ranges``: ``[min, max]`` score per prefix (default: the curve's, which leaves out rows of
    weight 0). Objectives with per-case columns need the rows and are refused."""
    from thresher.select.select import select_on_level_curves

    tier_specs = parse_tiers(tiers)
    names = (by,) if isinstance(by, str) else tuple(by or ())
    levels: dict[tuple, dict[str, OperatingPoint]] = {}
    for action, objective in tier_specs:
        if names:
            chosen = select_on_level_curves(curves, objective, by=names, min_support=min_support,
                                            confidence=confidence).levels
        else:
            chosen = {(): select_on_curve(curves[()], objective, confidence=confidence)}
        for prefix, point in chosen.items():
            levels.setdefault(prefix, {})[action] = point
    stats = {}
    for prefix, curve in curves.items():
        if not len(curve):  # pragma: no cover - a prefix exists only where rows do
            continue
        n = rows[prefix] if rows is not None else int(curve.positives + curve.negatives)
        seen = score_ranges[prefix] if score_ranges is not None else [curve.thresholds[-1], curve.thresholds[0]]
        stats[prefix] = ({"rows": n, "positives": float(curve.positives),
                          "negatives": float(curve.negatives)}, [float(v) for v in seen])
    return assemble_policy(tier_specs, levels, stats, names, data_fingerprint, otherwise=otherwise, name=name,
                           version=version, score=score, description=description)


def assemble_policy(tier_specs, levels: dict, stats: dict, names, data_fingerprint: str, *, otherwise: str,
                    name: str, version: int, score: str, description: str | None) -> FitResult:
    """The policy document from the chosen points per key prefix and tier, with their evidence.
    ``stats[prefix]`` is ``(support, [min score, max score])``."""
    from thresher import __version__

    rules, rows = [], []
    order = sorted(levels, key=lambda p: (-len(p), [str(v) for v in p]))
    for prefix in order:
        support, score_range = stats[prefix]
        rule_name = _rule_name(names, prefix)
        tier_list = []
        previous = None
        for action, _ in tier_specs:
            point = levels[prefix][action]
            if previous is not None and not point.threshold < previous[1]:
                raise PolicyError(
                    f"In segment '{rule_name}' the '{action}' tier chose threshold {point.threshold:.6g}, not below "
                    f"the '{previous[0]}' tier's {previous[1]:.6g}, so it could never fire. List tiers from the "
                    "strictest to the loosest, or loosen the lower tier's objective.")
            previous = (action, point.threshold)
            tier_list.append({"action": action, "threshold": float(point.threshold),
                              "evidence": _evidence(point, support, data_fingerprint, score_range)})
            rows.append({"rule": rule_name, "action": action, "threshold": float(point.threshold),
                         "precision": point.precision, "recall": point.recall, "alert_rate": point.alert_rate,
                         "positives": support["positives"], "source": "fallback" if point.extra.get("fallback_from")
                         else "fit", "note": point.notes[0] if point.notes else ""})
        rules.append({"name": rule_name, "match": {n: _match_value(v) for n, v in zip(names, prefix)},
                      "tiers": tier_list, "otherwise": otherwise})
    actions = [a for a, _ in tier_specs] + ([otherwise] if otherwise not in [a for a, _ in tier_specs] else [])
    document = {"name": name, "version": version, "score": score, "segments": list(names), "actions": actions,
                "rules": rules, "description": description,
                "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                "thresher_version": __version__}
    return FitResult(Policy.from_dict(document, f"'{name}'"), rows)
