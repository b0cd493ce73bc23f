"""The driver's plan, built from the aggregated pass-1 histogram: the positive label resolved,
segment groups numbered, and each group's score range cut into units with their offsets.

Its size is one entry per segment combination and per unit, whatever the number of rows; it
travels to the workers with the pass-2 and pass-3 functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thresher.data.columns import segment_names
from thresher.data.encode import combined_codes
from thresher.data.validate import clean_label
from thresher.errors import InputError
from thresher.scale.partition import Spec

MIN_UNIT_ROWS = 1 << 16  # smaller units cost more in per-task overhead than they gain in balance
MAX_UNIT_ROWS = 1 << 22  # a worker holds one unit at a time: this bounds its memory (unless one bucket is larger)


class SegmentValue:
    """A segment value as the driver knows it: its ``str`` and ``repr`` as computed on the worker
    from the original value, so names match :func:`thresher.data.columns.segment_names` exactly."""

    __slots__ = ("text", "code")

    def __init__(self, text: str, code: str):
        self.text, self.code = text, code

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.code


@dataclass
class Group:
    """All rows (``key == ()``) or one segment prefix: totals and the units covering its scores."""

    key: tuple  # segment values as text (None: missing)
    level: int
    n: int
    positives: float
    negatives: float
    first: int
    amounts: list = field(default_factory=list)  # (positive total, negative total) per amount column
    unit_first: int = 0
    unit_lows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # ascending
    display: tuple = ()  # the key as SegmentValues, for naming

    @property
    def units(self) -> range:
        return range(self.unit_first, self.unit_first + len(self.unit_lows))


class Plan:
    """Groups (ids index ``groups``) and units (ids are global; a group's units are contiguous and
    ordered from its highest scores down). ``unit_start[u]`` holds the cumulative positive and
    negative weight (then each amount column's) of every score above unit ``u`` in its group."""

    def __init__(self, spec: Spec, positive, levels, groups, combo_groups, unit_group, unit_start, unit_rows,
                 partitions):
        self.spec = spec
        self.positive = positive
        self.levels = tuple(levels)
        self.groups = groups
        self.combo_groups = combo_groups
        self.unit_group = unit_group
        self.unit_start = unit_start
        self.unit_rows = unit_rows
        self.partitions = partitions
        self.unit_codes = np.arange(len(unit_group), dtype=np.int64)  # what pass 2 writes; see route()

    @property
    def n_units(self) -> int:
        return int(self.unit_group.shape[0])

    def route(self, partition_of) -> None:
        """Give each unit a code that a hash partitioner (``partition_of(code) -> partition``) sends to
        the partition chosen for it: units spread by rows (largest first, to the least loaded), so no
        partition gets several big units by a hash collision. ``code % n_units`` is the unit."""
        n = self.n_units
        load = np.zeros(self.partitions)
        for u in np.argsort(-self.unit_rows, kind="stable"):
            target = int(np.argmin(load))
            load[target] += self.unit_rows[u]
            code = int(u)
            for _ in range(64 * self.partitions):  # each try hits the target with chance 1/partitions
                if partition_of(code) == target or code + n >= 1 << 31:
                    break
                code += n
            self.unit_codes[u] = code if partition_of(code) == target else u

    def unit_of_code(self, codes: np.ndarray) -> np.ndarray:
        return codes % self.n_units

    def groups_of(self, combo: tuple) -> tuple:
        """Group ids, one per level, of a combination of segment values (as text)."""
        return self.combo_groups[combo]

    def unit_of(self, group: int, buckets: np.ndarray) -> np.ndarray:
        g = self.groups[group]
        below = np.searchsorted(g.unit_lows, buckets, side="right")
        return g.unit_first + np.clip(len(g.unit_lows) - below, 0, len(g.unit_lows) - 1)

    def level_groups(self, level: int) -> list[int]:
        return [i for i, g in enumerate(self.groups) if g.level == level]

    def names(self, ids) -> list[str]:
        """Unique readable names of these groups, as thresher names segments on one machine."""
        return segment_names([self.groups[g].display for g in ids])

    @classmethod
    def build(cls, hist: pa.Table, spec: Spec, *, pos_label=None, levels=(0,), parallelism: int = 2,
              unit_rows: int | None = None) -> "Plan":
        """Plan from the aggregated histogram (one row per segment, label value and bucket)."""
        rows = hist.column("rows").to_numpy(zero_copy_only=False) if hist.num_rows else np.empty(0, np.int64)
        if rows.sum() == 0:
            raise InputError("The data has no rows. Check the frame or the filter that produced it.")
        _, positive = clean_label(pc.unique(hist.column("label")), spec.label, pos_label)
        label = hist.column("label")
        is_pos = pc.equal(label, pa.scalar(positive, type=label.type)).to_numpy(zero_copy_only=False)
        bucket = hist.column("bucket").to_numpy(zero_copy_only=False)
        weight = hist.column("weight").to_numpy(zero_copy_only=False)
        amounts = [hist.column(f"amount_{i}").to_numpy(zero_copy_only=False) for i in range(len(spec.amounts))]
        first = hist.column("first").to_numpy(zero_copy_only=False)
        if spec.by:
            codes, combos = combined_codes([hist.column(f"segment_{i}") for i in range(len(spec.by))])
        else:
            codes, combos = np.zeros(hist.num_rows, np.int64), [()]
        combo_first = np.full(len(combos), np.iinfo(np.int64).max, np.int64)
        np.minimum.at(combo_first, codes, first)
        displays = {}
        if spec.by:
            _, row_of_combo = np.unique(codes, return_index=True)
            reprs = [hist.column(f"segment_repr_{i}").to_pylist() for i in range(len(spec.by))]
            for c, combo in enumerate(combos):
                row = row_of_combo[c]
                displays[tuple(combo)] = tuple(None if v is None else SegmentValue(v, reprs[i][row])
                                               for i, v in enumerate(combo))
        else:
            displays[()] = ()
        # per hist row: weight by class, then each amount by class
        sums = [rows.astype(np.float64), np.where(is_pos, weight, 0.0), np.where(is_pos, 0.0, weight)]
        for a in amounts:
            sums += [np.where(is_pos, a, 0.0), np.where(is_pos, 0.0, a)]
        target = unit_rows or min(MAX_UNIT_ROWS, max(MIN_UNIT_ROWS, math.ceil(rows.sum() / (4 * max(1, parallelism)))))

        groups: list[Group] = []
        combo_groups = {tuple(c): [] for c in combos}
        unit_group, unit_start, unit_rows = [], [], []
        for level in levels:
            # groups of this level in order of first appearance
            prefixes: dict[tuple, int] = {}
            for c, f in sorted(zip(combos, combo_first), key=lambda cf: cf[1]):
                prefixes.setdefault(tuple(c[:level]), int(f))
            ids = {}
            for prefix, f in prefixes.items():
                ids[prefix] = len(groups)
                display = next(d[:level] for c, d in displays.items() if c[:level] == prefix)
                groups.append(Group(prefix, level, 0, 0.0, 0.0, f, display=display))
            combo_gid = np.array([ids[tuple(c[:level])] for c in combos], np.int64)
            for c in combos:
                combo_groups[tuple(c)].append(ids[tuple(c[:level])])
            gid = combo_gid[codes]
            order = np.lexsort((-bucket, gid))  # by group, then buckets from the top down
            g_sorted, b_sorted = gid[order], bucket[order]
            change = np.concatenate([[True], (g_sorted[1:] != g_sorted[:-1]) | (b_sorted[1:] != b_sorted[:-1])])
            starts = np.flatnonzero(change)
            per_bucket = [np.add.reduceat(s[order], starts) for s in sums]
            g_of, b_of = g_sorted[starts], b_sorted[starts]
            for g in np.unique(g_of):
                sel = np.flatnonzero(g_of == g)
                group = groups[g]
                cols = [p[sel] for p in per_bucket]
                group.n = int(cols[0].sum())
                group.positives, group.negatives = float(cols[1].sum()), float(cols[2].sum())
                group.amounts = [(float(cols[3 + 2 * i].sum()), float(cols[4 + 2 * i].sum()))
                                 for i in range(len(amounts))]
                # cut the buckets (highest first) into units of about `target` rows
                above = np.cumsum(cols[0]) - cols[0]
                _, first_bucket = np.unique(above // target, return_index=True)
                group.unit_first = len(unit_group)
                lows = b_of[sel][np.append(first_bucket[1:], len(sel)) - 1]
                group.unit_lows = lows[::-1].copy()
                exclusive = [np.concatenate([[0.0], np.cumsum(c)[:-1]]) for c in cols[1:]]
                for b, e in zip(first_bucket, np.append(first_bucket[1:], len(sel))):
                    unit_group.append(int(g))
                    unit_start.append([float(x[b]) for x in exclusive])
                    unit_rows.append(float(cols[0][b:e].sum()))
        n_units = len(unit_group)
        return cls(spec, positive, levels, groups, {k: tuple(v) for k, v in combo_groups.items()},
                   np.array(unit_group, np.int64), np.array(unit_start, np.float64).reshape(n_units, -1),
                   np.array(unit_rows, np.float64),
                   max(1, min(n_units, 2 * max(1, parallelism))))
