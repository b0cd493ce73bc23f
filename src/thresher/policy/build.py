"""Code-first policies: build one from operating points chosen in Python."""

from __future__ import annotations

from thresher.policy.policy import Policy
from thresher.select.operating_point import OperatingPoint


def _evidence(point: OperatingPoint) -> dict:
    c = point.confusion
    metrics = {m: (None if c.metric(m) != c.metric(m) else float(c.metric(m)))
               for m in ("precision", "recall", "f1", "alert_rate")}
    return {"objective": point.objective, "source": "fit", "metrics": metrics, "confidence": point.confidence,
            "intervals": {k: [None if v != v else v for v in pair] for k, pair in point.intervals.items()}}


def _tiers(points: dict) -> list[dict]:
    ordered = sorted(points.items(), key=lambda kv: -kv[1].threshold)
    return [{"action": action, "threshold": float(p.threshold), "evidence": _evidence(p)} for action, p in ordered]


def from_operating_points(points: dict, *, score: str = "score", name: str = "policy", version: int = 1,
                          otherwise: str = "allow", segments: dict | None = None, by=None) -> Policy:
    """A policy from ``{action: OperatingPoint}`` (tiers sorted by threshold, highest first).

    ``segments`` optionally maps a segment value (or a tuple of values for several ``by`` fields)
    to its own ``{action: OperatingPoint}``; ``points`` is then the default rule.

    >>> import thresher
    >>> c = thresher.curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> p = from_operating_points({"block": thresher.select(c, "max-f1")})
    >>> p.decide({"score": [0.9, 0.2]}).column("action").to_pylist()
    ['block', 'allow']
    """
    by = [by] if isinstance(by, str) else list(by or [])
    rules = []
    for key, seg_points in (segments or {}).items():
        values = key if isinstance(key, tuple) else (key,)
        if len(values) != len(by):
            from thresher.errors import PolicyError

            raise PolicyError(f"Segment key {key!r} has {len(values)} value(s) but by= names {len(by)} field(s).")
        rules.append({"name": ",".join(f"{f}={v}" for f, v in zip(by, values)), "match": dict(zip(by, values)),
                      "tiers": _tiers(seg_points), "otherwise": otherwise})
    rules.append({"name": "default", "match": {}, "tiers": _tiers(points), "otherwise": otherwise})
    actions = list(dict.fromkeys([*points, *(a for p in (segments or {}).values() for a in p), otherwise]))
    return Policy.from_dict({"name": name, "version": version, "score": score, "segments": by, "actions": actions,
                             "rules": rules}, f"'{name}'")
