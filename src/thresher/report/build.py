"""``build_report``: everything the HTML report shows, as one JSON-able document.

The document holds one *view* per set of rows (all rows, then each segment of ``by``), each with
its display curve, areas, distributions and marked points, plus the policy diff when two
policies are given. :mod:`thresher.report.html` turns it into a single self-contained page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


from thresher.data.atomic import write_atomic
from thresher.data.columns import Columns
from thresher.data.load import load
from thresher.errors import InfeasibleError, ParameterError, PolicyError
from thresher.metrics.curve import Curve
from thresher.params import Interval, check
from thresher.policy.diff import diff_policies
from thresher.policy.policy import Policy
from thresher.report.marks import PolicyDecisions, infeasible_mark, objective_mark
from thresher.report.views import MAX_POINTS, view_document
from thresher.select.context import Context
from thresher.select.objectives import MinCost, parse
from thresher.select.select import select_by_segment, select_on_curve, select_on_level_curves


@dataclass(frozen=True)
class Report:
    """A built report: ``document`` is the data the page shows; ``to_html()`` / ``save()`` render it."""

    document: dict

    def to_html(self) -> str:
        from thresher.report.html import render

        return render(self.document)

    def save(self, path) -> Path:
        """Write the self-contained HTML file atomically; returns the path."""
        path = Path(path)
        write_atomic(path, self.to_html())
        return path


def parse_costs(cost) -> dict | None:
    """``"fn=10 fp=1"`` (or a :class:`MinCost`, or a dict) to ``{"fn", "fp", "tp", "tn"}``: constant
    cost per error and gain per correct call."""
    if cost is None:
        return None
    if isinstance(cost, dict):
        cost = MinCost(**cost)
    objective = cost if isinstance(cost, MinCost) else parse(f"min-cost {cost}")
    if not isinstance(objective, MinCost) or objective.columns():
        raise ParameterError(f"The report's costs must be constants per case, like 'fn=10 fp=1'; got '{cost}'. "
                             "Per-case cost columns work in --objective 'min-cost fn=COLUMN', not in --cost.")
    return {"fn": float(objective.fn), "fp": float(objective.fp), "tp": float(objective.tp), "tn": float(objective.tn)}


def _policy(value, option: str) -> Policy | None:
    if value is None or isinstance(value, Policy):
        return value
    if isinstance(value, (str, Path)):
        return Policy.load(value)
    raise ParameterError(f"The '{option}' parameter of build_report must be a Policy or a path to a policy file. "
                         f"Got {type(value).__name__} instead.")


def _source_name(data) -> str | None:
    return Path(data).name if isinstance(data, (str, Path)) else None


def _plain(value):
    """A JSON scalar for a label value (numpy scalars unwrapped, anything else as text)."""
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


class _Selections:
    """Each objective's operating points: overall and per segment, or why it is infeasible."""

    def __init__(self, results):
        self.results = results  # (objective, overall point | None, {segment: point}, error | None)

    @classmethod
    def from_columns(cls, cols: Columns, curve: Curve, objectives, confidence: float, min_support: int):
        results = []
        for objective in objectives:
            try:
                if cols.segments is not None:
                    sel = select_by_segment(cols, objective, by=cols.segments.names, min_support=min_support,
                                            confidence=confidence)
                    results.append((objective, sel.overall, sel.segments, None))
                else:
                    point = select_on_curve(curve, objective, Context(cols), confidence=confidence)
                    results.append((objective, point, {}, None))
            except InfeasibleError as exc:
                results.append((objective, None, {}, str(exc)))
        return cls(results)

    @classmethod
    def from_curves(cls, curves: dict, names: list[str], by, objectives, confidence: float, min_support: int):
        results = []
        for objective in objectives:
            try:
                if by:
                    sel = select_on_level_curves(curves, objective, by=by, min_support=min_support,
                                                 confidence=confidence, names=names)
                    results.append((objective, sel.overall, sel.segments, None))
                else:
                    results.append((objective, select_on_curve(curves[()], objective, confidence=confidence), {},
                                    None))
            except InfeasibleError as exc:
                results.append((objective, None, {}, str(exc)))
        return cls(results)

    def marks(self, segment: str | None, curve: Curve) -> tuple[list[dict], list[float]]:
        marks, keep = [], []
        for objective, overall, segments, error in self.results:
            point = overall if segment is None else segments.get(segment)
            if point is None:
                marks.append(infeasible_mark(objective.spec(), error or "no operating point in this segment"))
                continue
            marks.append(objective_mark(point, curve))
            keep.append(point.threshold)
        return marks, keep


def check_policy_score(policy: Policy | None, score: str) -> None:
    if policy is not None and policy.score != score:
        raise PolicyError(f"Policy '{policy.name}' v{policy.version} reads the score field '{policy.score}' but the "
                          f"report uses the score column '{score}'; pass --score {policy.score} or use a policy "
                          f"fitted on '{score}'.")


def check_curve_objectives(objectives) -> None:
    """Refuse objectives that read per-case columns, which curves do not carry."""
    for o in ([objectives] if isinstance(objectives, str) else objectives):
        o = parse(o)
        if o.columns():
            raise ParameterError(f"'{o.spec()}' reads per-case columns ({', '.join(o.columns())}), which curves do "
                                 "not carry; build the report from the rows in memory for it (--in-memory).")


@dataclass(frozen=True)
class _Setup:
    objectives: list
    new: Policy | None
    old: Policy | None
    costs: dict | None


def _setup(objectives, policy, policy_old, cost, score: str, confidence: float, max_points: int) -> _Setup:
    check(confidence, "confidence", "build_report", Interval(0, 1, closed="neither"))
    check(max_points, "max_points", "build_report", Interval(16, None, integer=True))
    specs = [objectives] if isinstance(objectives, str) else list(objectives)
    parsed = [parse(s) for s in specs]
    new, old = _policy(policy, "policy"), _policy(policy_old, "policy_old")
    if old is not None and new is None:
        raise ParameterError("policy_old (--policy-old) needs policy (--policy): the new policy to compare it with.")
    for p in (new, old):
        check_policy_score(p, score)
    costs = parse_costs(cost)
    if costs is None:
        first = next((o for o in parsed if isinstance(o, MinCost) and not o.columns()), None)
        costs = parse_costs(first)
    return _Setup(parsed, new, old, costs)


def build_report(data, *, label: str = "label", score: str = "score", weight: str | None = None, by=None,
                 pos_label=None, objectives=(), policy=None, policy_old=None, cost=None, confidence: float = 0.95,
                 min_support: int = 30, max_points: int = MAX_POINTS, title: str | None = None,
                 diff_resamples: int = 1000, progress: bool = False) -> Report:
    """Build the interactive report of a labelled, scored dataset.

    ``objectives`` are spec strings (``"min-cost fn=10 fp=1"``) whose operating points are marked;
    ``policy`` (a :class:`~thresher.policy.Policy` or a file) marks its tiers, and with ``policy_old``
    the report shows what changes between the two; ``cost`` (``"fn=10 fp=1"``) adds the expected
    cost curve (default: the costs of the first constant ``min-cost`` objective).

    >>> r = build_report({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.35, 0.8]}, label="y", score="p")
    >>> view = r.document["views"][0]
    >>> view["roc_auc"], view["curve"]["tp"]
    (0.75, [0, 1, 1, 2, 2])
    """
    setup = _setup(objectives, policy, policy_old, cost, score, confidence, max_points)
    if isinstance(data, Columns) and setup.new is not None:
        raise ParameterError("A report with a policy needs the data source (a path, DataFrame, table or dict of "
                             "columns), not loaded Columns: the policy reads its own score and segment fields.")
    extra = sorted({c for o in setup.objectives for c in o.columns()})
    cols = data if isinstance(data, Columns) else load(
        data, label=label, score=score, weight=weight, by=by, pos_label=pos_label, extra=extra, progress=progress)
    curve = Curve.from_columns(cols)
    selections = _Selections.from_columns(cols, curve, setup.objectives, confidence, min_support)
    decisions = [PolicyDecisions(p, data, len(cols), kind)
                 for p, kind in ((setup.new, "policy"), (setup.old, "policy-old")) if p is not None]
    weighted = cols.weight is not None

    def view(key, name, sub, sub_curve, rows, segment):
        marks, keep = selections.marks(segment, sub_curve)
        for d in decisions:
            more, thresholds = d.view_marks(rows, sub_curve, sub.y, sub.weight, confidence)
            marks += more
            keep += thresholds
        return view_document(key, name, len(sub), weighted, sub_curve, marks=marks, keep=keep, confidence=confidence,
                             max_points=max_points)

    views = [view("all", "All rows", cols, curve, None, None)]
    if cols.segments is not None:
        for name, rows in cols.segments.groups():
            sub = cols.take(rows)
            views.append(view(f"segment:{name}", name, sub, Curve.from_columns(sub), rows, name))
    diff = None
    if setup.old is not None:
        costs = setup.costs
        impact_costs = (costs["fn"], costs["fp"]) if costs and not (costs["tp"] or costs["tn"]) else None
        result = diff_policies(setup.old, setup.new, data, label=label, pos_label=pos_label, costs=impact_costs,
                               n_resamples=diff_resamples, confidence=confidence)
        diff = result.to_dict()
        diff["change_text"] = [str(c) for c in result.changes]
    return _document(setup, views, diff, title=title or _source_name(data), source=_source_name(data), label=label,
                     score=score, by=list(cols.segments.names) if cols.segments is not None else [],
                     pos_label=cols.pos_label, weighted=weighted, confidence=confidence, titles=[d.title for d in decisions])


def build_report_from_curves(curves: dict, names: list[str], *, by=(), label: str, score: str, pos_label=None,
                             objectives=(), policies=(), cost=None, confidence: float = 0.95, min_support: int = 30,
                             max_points: int = MAX_POINTS, title: str | None = None,
                             source: str | None = None, weighted: bool = False, rows: dict | None = None) -> Report:
    """The report from exact curves (e.g. counted out of core): ``curves`` maps every key prefix to
    its curve (``()`` for all rows; see :meth:`thresher.scale.outofcore.StreamCurves.level_curves`),
    ``names`` are the leaf segments' names in key order, ``rows`` the rows per prefix (default: the
    curve's total weight, right for unweighted data). ``policies`` are ``(PolicyMarks, {None |
    segment name: decision counts})`` pairs (:func:`thresher.report.marks.decision_counts`). No
    policy diff: that pairs rows."""
    by = (by,) if isinstance(by, str) else tuple(by or ())
    setup = _setup(objectives, None, None, cost, score, confidence, max_points)
    check_curve_objectives(setup.objectives)
    selections = _Selections.from_curves(curves, names, by, setup.objectives, confidence, min_support)

    def view(key, name, prefix, segment):
        curve = curves[prefix]
        marks, keep = selections.marks(segment, curve)
        for policy_marks, counts in policies:
            more, thresholds = policy_marks.marks(counts[segment], curve, confidence)
            marks += more
            keep += thresholds
        n = rows[prefix] if rows is not None else int(curve.positives + curve.negatives)
        return view_document(key, name, n, weighted, curve, marks=marks, keep=keep, confidence=confidence,
                             max_points=max_points)

    views = [view("all", "All rows", (), None)]
    leaves = [k for k in curves if by and len(k) == len(by)]
    for key, name in zip(leaves, names):
        views.append(view(f"segment:{name}", name, key, name))
    return _document(setup, views, None, title=title or source, source=source, label=label, score=score,
                     by=list(by), pos_label=pos_label, weighted=weighted, confidence=confidence,
                     titles=[p.title for p, _ in policies])


def _document(setup: _Setup, views: list, diff, *, title, source, label, score, by, pos_label, weighted: bool,
              confidence: float, titles: list[str]) -> Report:
    from thresher import __version__

    notes = []
    if weighted:
        notes.append("Weighted data: counts are sums of weights; the DeLong AUC interval needs unweighted data "
                     "and is not shown.")
    return Report({
        "format": 1,
        "title": title or "thresher report",
        "source": source,
        "generated": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "thresher_version": __version__,
        "label": label,
        "score": score,
        "by": by,
        "pos_label": _plain(pos_label),
        "weighted": weighted,
        "confidence": confidence,
        "objectives": [o.spec() for o in setup.objectives],
        "policy": titles[0] if titles else None,
        "policy_old": titles[1] if len(titles) > 1 else None,
        "cost": setup.costs,
        "views": views,
        "diff": diff,
        "notes": notes,
    })
