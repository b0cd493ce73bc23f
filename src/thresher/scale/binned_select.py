"""Choosing a threshold from binned counts: worst-case bounds, then an exact refinement pass.

Binned counts are exact at every bin edge, so the best edge is a real operating point with exact
metrics. A better threshold can only lie inside a bin, and inside bin ``b`` the counts are boxed:
``tp`` between the positives at or above its upper and its lower edge, ``fp`` likewise. Every
objective and constraint thresher offers is monotone in ``tp`` and in ``fp`` separately, so its
best and worst values over the box sit at the box's four corners. That gives, per bin, an upper
bound on what any threshold inside it can achieve and whether it can be feasible at all:

* **bounds** (one pass): the best possible objective value, the score ranges where a better
  threshold may lie, and the precision and recall such a threshold can have;
* **refinement** (a second pass, when the source can be re-read): only the rows in those bins
  (plus the top bin and a neighbour on each side, for the step to the next threshold) are kept
  and counted exactly. Every other bin is provably worse, so the choice equals the exact
  in-memory selection: same threshold, same counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from thresher.data.columns import segment_names
from thresher.data.stream import BatchLabels, BatchSegments
from thresher.data.validate import clean_score
from thresher.errors import InfeasibleError, InputError
from thresher.kernels.binned import bin_edges, bin_index, binned_counts
from thresher.metrics.binned import BinnedCounts, checked_range
from thresher.metrics.curve import Curve
from thresher.params import Interval, check
from thresher.scale.sources import open_source
from thresher.select.context import Context, with_top
from thresher.select.objectives import Budget, Constrained, Fixed, MinCost, parse
from thresher.select.select import choose, select_on_level_curves

MAX_REFINE_ROWS = 100_000_000
PRUNE_MARGIN = 1e-9


@dataclass(frozen=True)
class Bounds:
    """What the binned counts alone guarantee about the best threshold (values on the objective's
    own scale: F1, cost, precision, ...)."""

    objective: str
    value_name: str
    at_edge: float  # the objective at the best bin edge (an exact operating point)
    best_possible: float  # no threshold does better
    ranges: list  # [low, high] score ranges where a better threshold may lie
    precision: tuple  # what precision / recall such a threshold can have
    recall: tuple

    def to_dict(self) -> dict:
        gap = abs(self.best_possible - self.at_edge) if np.isfinite(self.at_edge) else None
        return {"objective": self.objective, "value_name": self.value_name, "at_best_edge": _num(self.at_edge),
                "best_possible": _num(self.best_possible), "gap": _num(gap),
                "threshold_ranges": [[_num(lo), _num(hi)] for lo, hi in self.ranges],
                "precision_range": [_num(v) for v in self.precision], "recall_range": [_num(v) for v in self.recall]}


def _num(v):
    return None if v is None or not np.isfinite(v) else float(v)


def _at_or_above(per_bin: np.ndarray) -> np.ndarray:
    """Weight in bins >= b, for b = 0 .. bins (the last is 0)."""
    return np.append(np.cumsum(per_bin[::-1])[::-1], 0.0)


def _corners(counts: BinnedCounts):
    """Per bin, the four corner curves of its (tp, fp) box and the bins that hold rows."""
    ge_tp, ge_fp = _at_or_above(counts.pos), _at_or_above(counts.neg)
    P, N = float(counts.pos.sum()), float(counts.neg.sum())
    t = counts.edges[:-1]
    corners = [Curve(t, tp, fp, P, N, exact=False)
               for tp in (ge_tp[1:], ge_tp[:-1]) for fp in (ge_fp[1:], ge_fp[:-1])]
    return corners, (counts.pos + counts.neg) > 0


def _conditions(objective, context):
    """The objective's feasibility as separate monotone conditions (each checked on its own corner)."""
    if isinstance(objective, Constrained):
        singles = [Constrained(objective.target, objective.sense, (c,), objective.confidence)
                   for c in objective.constraints]
        return [lambda c: np.isfinite(c.metric(objective.target))] + [s.feasible for s in singles]
    if isinstance(objective, Budget):
        return [lambda c: objective.within_capacity(c, context), lambda c: c.tp > 0]
    return [lambda c: objective.evaluate(c, context)[1]]


def _natural(objective, v: float) -> float:
    """A value of ``objective.evaluate`` (always maximised) on the objective's own scale."""
    flip = isinstance(objective, MinCost) or getattr(objective, "sense", "max") == "min"
    return -v if flip else v


def bin_bounds(counts: BinnedCounts, objective) -> tuple[Bounds, np.ndarray]:
    """:class:`Bounds` and the mask of bins where a threshold at least as good as the best edge
    may lie (for :class:`Fixed`, the bin of its threshold)."""
    objective = parse(objective)
    context = Context(None)
    corners, occupied = _corners(counts)
    if isinstance(objective, Fixed):
        mask = np.zeros(len(occupied), bool)
        mask[bin_index(np.array([objective.threshold], np.float64), counts.edges)[0]] = True
        return _bounds(objective, counts, corners, mask, objective.threshold, objective.threshold), mask
    possible = occupied.copy()
    for condition in _conditions(objective, context):
        possible &= np.logical_or.reduce([np.asarray(condition(c), bool) for c in corners])
    with np.errstate(invalid="ignore", divide="ignore"):
        values = [objective.evaluate(c, context)[0] for c in corners]
    upper = np.nanmax(np.where(np.isfinite(values), values, -np.inf), axis=0)
    edge_curve = with_top(counts.curve())
    edge_values, edge_feasible = objective.evaluate(edge_curve, context)
    k = choose(edge_values, edge_feasible)
    best = float(edge_values[k]) if k >= 0 else -np.inf
    # prune only what is clearly worse (a margin far above the selection's tie tolerance): keeping a
    # bin costs a few rows in the refinement pass, dropping a tied one would change the choice
    mask = possible & (upper >= best - PRUNE_MARGIN * max(1.0, abs(best)))
    return _bounds(objective, counts, corners, mask, best, float(upper[mask].max()) if mask.any() else best), mask


def _bounds(objective, counts, corners, mask, at_edge, best_possible) -> Bounds:
    ranges, low = [], None
    for b in range(len(mask) + 1):
        if b < len(mask) and mask[b]:
            low = b if low is None else low
        elif low is not None:
            ranges.append((float(counts.edges[low]), float(counts.edges[b])))
            low = None

    def span(metric):
        vals = np.array([c.metric(metric)[mask] for c in corners]) if mask.any() else np.empty(0)
        vals = vals[np.isfinite(vals)]
        return (float(vals.min()), float(vals.max())) if vals.size else (float("nan"), float("nan"))

    return Bounds(objective.spec(), objective.value_name or "threshold", _natural(objective, at_edge),
                  _natural(objective, best_possible), ranges, span("precision"), span("recall"))


def refine_mask(counts: BinnedCounts, candidates: np.ndarray) -> np.ndarray:
    """The bins to count exactly: the occupied candidates (for an empty candidate, the occupied bin
    just above it, where its thresholds land), the top occupied bin (where "flag nothing" sits), and
    the nearest occupied bin on each side of each of those (the steps to the neighbouring thresholds)."""
    occupied = (counts.pos + counts.neg) > 0
    where = np.flatnonzero(occupied)
    core = candidates & occupied
    if where.size:
        core[where[-1]] = True
        above = np.searchsorted(where, np.flatnonzero(candidates & ~occupied))
        core[where[above[above < where.size]]] = True
    mask = core.copy()
    for b in np.flatnonzero(core).tolist():
        i = int(np.searchsorted(where, b))
        for j in (i - 1, i + 1):
            if 0 <= j < where.size:
                mask[where[j]] = True
    return mask


def partial_curve(counts: BinnedCounts, refined: np.ndarray, y: np.ndarray, s: np.ndarray, *,
                  bottom: float = np.inf) -> Curve:
    """The exact curve at every distinct score in the ``refined`` bins (``y``, ``s``: exactly the rows
    there), plus the bin-edge points of the other occupied bins (exact counts, never chosen; bin 0's
    at ``bottom``, the lowest score, when that lies below the range)."""
    exact = Curve.from_scores(y, s) if len(s) else Curve.empty()
    outside_pos = np.where(refined, 0.0, counts.pos)
    outside_neg = np.where(refined, 0.0, counts.neg)
    above_pos, above_neg = _at_or_above(outside_pos), _at_or_above(outside_neg)  # not-refined weight in bins >= b
    b = bin_index(exact.thresholds.astype(np.float64), counts.edges) if len(exact) else np.empty(0, np.int32)
    thresholds = [exact.thresholds.astype(np.float64)]
    tp, fp = [exact.tp + above_pos[b + 1]], [exact.fp + above_neg[b + 1]]
    edges = np.flatnonzero(((counts.pos + counts.neg) > 0) & ~refined)
    ge_tp, ge_fp = _at_or_above(counts.pos), _at_or_above(counts.neg)
    thresholds.append(_edge_thresholds(counts, edges, bottom))
    tp.append(ge_tp[edges])
    fp.append(ge_fp[edges])
    t = np.concatenate(thresholds)
    order = np.argsort(-t, kind="stable")
    return Curve(t[order], np.concatenate(tp)[order], np.concatenate(fp)[order], float(counts.pos.sum()),
                 float(counts.neg.sum()), exact=False)


@dataclass(frozen=True)
class BinnedSelection:
    """A selection made from binned counts: the points, the bounds one pass guarantees, and
    whether a refinement pass made the choice exact."""

    selection: object  # SegmentedSelection
    bounds: dict  # None (all rows) or segment name -> Bounds
    bins: int
    range: tuple
    refined: bool
    refined_rows: int
    note: str | None = None

    def to_dict(self) -> dict:
        out = self.selection.to_dict()
        if not self.selection.by:
            out["segments"] = {}
        out["binned"] = {"bins": self.bins, "range": list(self.range), "refined": self.refined,
                         "exact": self.refined, "refined_rows": self.refined_rows, "note": self.note,
                         "bounds": self.bounds[None].to_dict(),
                         "segment_bounds": {k: v.to_dict() for k, v in self.bounds.items() if k is not None}}
        return out


def select_binned(source=None, *, label: str, score: str, objective, by=None, pos_label=None, bins: int = 1024,
                  range: tuple[float, float] = (0.0, 1.0), refine: bool = True, min_support: int = 30,
                  confidence: float = 0.95, max_refine_rows: int = MAX_REFINE_ROWS, sql: str | None = None,
                  database: str | None = None) -> BinnedSelection:
    """Select an operating point from one binned pass over ``source`` (constant memory), then, with
    ``refine``, a second pass that makes the choice exact (see the module docstring).

    >>> import tempfile, os, pyarrow as pa, pyarrow.parquet as pq
    >>> path = os.path.join(tempfile.mkdtemp(), "s.parquet")
    >>> pq.write_table(pa.table({"y": [0, 0, 1, 1, 0, 1], "p": [0.1, 0.4, 0.35, 0.8, 0.2, 0.9]}), path)
    >>> r = select_binned(path, label="y", score="p", objective="max-f1", bins=4)
    >>> r.selection.overall.threshold, r.refined
    (0.35, True)
    """
    check(bins, "bins", "select_binned", Interval(1, None, integer=True))
    lo, hi = checked_range(range, "select_binned")
    objective = parse(objective)
    if objective.columns():
        raise InputError(f"'{objective.spec()}' reads per-case columns ({', '.join(objective.columns())}); binned "
                         "selection works from counts only. Use constant costs or a rate budget.")
    names = tuple(b.strip() for b in by.split(",")) if isinstance(by, str) else tuple(by or ())
    if len(names) > 1:
        raise InputError("Binned selection takes one segment column; combine the columns into one upstream, or use "
                         "exact out-of-core tuning (drop --bins).")
    src = open_source(source, sql=sql, database=database)
    edges = bin_edges(lo, hi, int(bins))
    fixed = objective.threshold if isinstance(objective, Fixed) else None
    counts, tops, bottoms, at_fixed, positive, keys = _pass_counts(src, label, score, names, pos_label, edges, fixed)
    seg_names = segment_names(keys)
    bounds, masks = {}, {}
    bounds[None], masks[None] = bin_bounds(counts[0], objective)
    for g, name in enumerate(seg_names):
        bounds[name], masks[name] = bin_bounds(counts[g + 1], objective)
    note = None
    if refine:
        wanted = np.zeros((len(keys) + 1, bins), bool)
        wanted[0] = refine_mask(counts[0], masks[None])
        for g, name in enumerate(seg_names):  # a segment may fall back to the global threshold: count it there
            wanted[g + 1] = refine_mask(counts[g + 1], masks[name] | masks[None])
        rows = int(sum(((counts[g].pos + counts[g].neg) * wanted[g]).sum() for g in np.arange(len(keys) + 1)))
        if rows > max_refine_rows:
            refine, note = False, (f"refinement skipped: it would hold {rows:,} rows (limit {max_refine_rows:,}); "
                                   "use more bins")
    if refine:
        y_s = _pass_rows(src, label, score, names, positive, edges, wanted, keys, counts)
        curves = {(): partial_curve(counts[0], wanted[0], *y_s[0], bottom=bottoms[0])}
        for g, key in enumerate(keys):
            curves[key] = partial_curve(counts[g + 1], wanted[g + 1], *y_s[g + 1], bottom=bottoms[g + 1])
    else:
        rows = 0
        curves = {(): _edge_curve(counts[0], tops[0], bottoms[0], fixed, at_fixed[0]),
                  **{key: _edge_curve(counts[g + 1], tops[g + 1], bottoms[g + 1], fixed, at_fixed[g + 1])
                     for g, key in enumerate(keys)}}
    try:
        selection = select_on_level_curves(curves, objective, by=names or ("segment",), min_support=min_support,
                                           confidence=confidence, names=seg_names)
    except InfeasibleError:
        if bounds[None].ranges:
            raise InfeasibleError(f"No bin edge satisfies '{objective.spec()}', and the bins cannot rule it out "
                                  f"between {bounds[None].ranges[0][0]:.6g} and {bounds[None].ranges[-1][1]:.6g}: "
                                  "use more bins, or let the refinement pass run.") from None
        raise
    if not names:
        selection = type(selection)(selection.objective, (), selection.overall, {}, {}, min_support,
                                    {(): selection.overall})
    return BinnedSelection(selection, bounds, int(bins), (lo, hi), refine,
                           rows if refine else 0, note)


def _edge_thresholds(counts: BinnedCounts, bins: np.ndarray, bottom: float) -> np.ndarray:
    """The threshold at which bins ``bins`` and every bin above them are flagged: each bin's lower
    edge, except that scores below the range sit in bin 0, so its point is at the lowest score."""
    t = counts.edges[bins].astype(np.float64)
    t[bins == 0] = min(float(counts.edges[0]), bottom)
    return t


def _edge_curve(counts: BinnedCounts, top: float, bottom: float, fixed: float | None, at_fixed) -> Curve:
    """The binned curve (exact at the lower edge of every occupied bin; bin 0 at the lowest score)
    led by "flag nothing" just above the top score (the top bin's edges do not say where the scores
    end), with the point at a fixed threshold, counted exactly in the same pass, when there is one."""
    occupied = np.flatnonzero((counts.pos + counts.neg) > 0)[::-1]
    ge_tp, ge_fp = _at_or_above(counts.pos), _at_or_above(counts.neg)
    t = np.append(np.nextafter(top, np.inf), _edge_thresholds(counts, occupied, bottom))
    tp, fp = np.append(0.0, ge_tp[occupied]), np.append(0.0, ge_fp[occupied])
    if fixed is not None and fixed <= top:
        k = int(np.searchsorted(-t, -fixed))
        if k < len(t) and t[k] == fixed:  # the pass counted it exactly: use that count
            tp[k], fp[k] = at_fixed
        else:
            t, tp, fp = np.insert(t, k, fixed), np.insert(tp, k, at_fixed[0]), np.insert(fp, k, at_fixed[1])
    return Curve(t, tp, fp, float(counts.pos.sum()), float(counts.neg.sum()), exact=False)


def _batches(src, label, score, names, pos_label, labels=None, segments=None):
    labels = labels or BatchLabels(label, pos_label)
    segments = segments or BatchSegments(names)
    offset = 0
    for batch in src.batches(list(dict.fromkeys([label, score, *names]))):
        table = pa.Table.from_batches([batch])
        y = labels(table.column(label), offset)
        s = clean_score(table.column(score), score, offset)
        codes = segments(table) if names else None
        offset += table.num_rows
        yield y, s, codes
    if offset == 0:
        raise InputError(f"{src.describe} has no rows.")


def _pass_counts(src, label, score, names, pos_label, edges, fixed):
    labels, segments = BatchLabels(label, pos_label), BatchSegments(names)
    bins = len(edges) - 1
    pos, neg, top, bottom, above = [np.zeros(bins)], [np.zeros(bins)], [-np.inf], [np.inf], [np.zeros(2)]

    def add(g, y, s):
        if not len(s):  # an empty batch (an empty file in a directory, a query's empty chunk)
            return
        p, n = binned_counts(y, s, edges)
        pos[g] += p
        neg[g] += n
        top[g] = max(top[g], float(s.max()))
        bottom[g] = min(bottom[g], float(s.min()))
        if fixed is not None:
            flagged = s >= fixed
            positives = int(np.count_nonzero(y[flagged]))
            above[g] += (positives, int(np.count_nonzero(flagged)) - positives)

    for y, s, codes in _batches(src, label, score, names, pos_label, labels, segments):
        add(0, y, s)
        if codes is not None:
            while len(pos) < len(segments.keys) + 1:
                pos.append(np.zeros(bins))
                neg.append(np.zeros(bins))
                top.append(-np.inf)
                bottom.append(np.inf)
                above.append(np.zeros(2))
            for g in np.unique(codes):
                rows = codes == g
                add(g + 1, y[rows], s[rows])
    return ([BinnedCounts(edges, p, n) for p, n in zip(pos, neg)], top, bottom, above, labels.finish(),
            list(segments.keys))


def _pass_rows(src, label, score, names, positive, edges, wanted, keys, counts):
    """The rows of the wanted bins, per group (0: all rows, g + 1: segment g); every group's rows per
    bin must match the first pass's ``counts``, or the source changed in between."""
    segments = BatchSegments(names)
    segments.index, segments.keys = {k: i for i, k in enumerate(keys)}, list(keys)
    ys, ss = [[] for _ in wanted], [[] for _ in wanted]
    bins = wanted.shape[1]
    seen = np.zeros(wanted.size, np.int64)
    changed = InputError(f"{src.describe} returned different rows on the second read; refinement needs a source "
                         "that reads the same rows twice (a fixed file set, a deterministic query), or --no-refine.")
    for y, s, codes in _batches(src, label, score, names, positive, segments=segments):
        b = bin_index(s.astype(np.float64, copy=False), edges)
        seen[:bins] += np.bincount(b, minlength=bins)
        keep = wanted[0][b]
        ys[0].append(y[keep])
        ss[0].append(s[keep])
        if codes is not None:
            if len(segments.keys) != len(keys):
                raise changed
            seen += np.bincount((codes + 1) * bins + b, minlength=seen.size)
            keep = wanted[codes + 1, b]
            for g in np.unique(codes[keep]):
                rows = keep & (codes == g)
                ys[g + 1].append(y[rows])
                ss[g + 1].append(s[rows])
    if not np.array_equal(seen, np.concatenate([c.pos + c.neg for c in counts])):  # group-major, as ``wanted``
        raise changed
    out = []
    for y_parts, s_parts in zip(ys, ss):
        out.append((np.concatenate(y_parts) if y_parts else np.empty(0, np.uint8),
                    np.concatenate(s_parts) if s_parts else np.empty(0)))
    return out
