"""What an objective may need beyond the curve: per-case cost columns and timestamps."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thresher.data.columns import Columns
from thresher.data.validate import clean_weight
from thresher.errors import InputError, SpecError
from thresher.metrics.curve import Curve

_PERIOD_UNITS = {"hour": "h", "day": "D", "week": "W"}


def with_top(curve: Curve) -> Curve:
    """The candidate points: every curve point plus "flag nothing" just above the top score (unless
    the curve already starts there, with nothing flagged, as a binned curve built from its top score
    does)."""
    if len(curve) and curve.tp[0] == 0 and curve.fp[0] == 0:
        return curve
    top = np.nextafter(float(curve.thresholds[0]), np.inf) if len(curve) else np.inf
    return Curve(np.concatenate([[top], curve.thresholds.astype(np.float64)]), np.concatenate([[0.0], curve.tp]),
                 np.concatenate([[0.0], curve.fp]), curve.positives, curve.negatives, curve.exact)


class Context:
    """Row-level data behind a curve, for objectives that need more than counts."""

    def __init__(self, cols: Columns | None):
        self.cols = cols
        self._totals: dict[str, tuple] = {}

    def _require(self, column: str, why: str):
        if self.cols is None or column not in self.cols.extra:
            raise SpecError(f"{why} needs the column '{column}' from the data; pass the data (not a Curve) "
                            "and make sure the column exists.")
        return self.cols.extra[column]

    def outcome_totals(self, column: str, curve: Curve) -> dict[str, np.ndarray]:
        """Per-case amounts of ``column`` summed into tp/fp/tn/fn at every point of ``curve``."""
        if column not in self._totals:
            amount = clean_weight(self._require(column, f"A per-case cost '{column}'"), column, what="cost")
            if self.cols.weight is not None:
                amount = amount * self.cols.weight
            cols = Columns(self.cols.y, self.cols.score, amount)
            self._totals[column] = (Curve.from_columns(cols), float(amount[cols.y == 1].sum()),
                                    float(amount[cols.y == 0].sum()))
        by_amount, pos_total, neg_total = self._totals[column]
        tp = by_amount._cumulative_at(curve.thresholds, by_amount.tp)
        fp = by_amount._cumulative_at(curve.thresholds, by_amount.fp)
        return {"tp": tp, "fp": fp, "fn": pos_total - tp, "tn": neg_total - fp}

    def periods(self, column: str, per: str) -> np.ndarray:
        """Period index (hour/day/week) of every row, from a timestamp column."""
        values = self._require(column, f"A per-{per} budget")
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            try:
                values = pc.cast(values, pa.timestamp("s"))
            except pa.ArrowInvalid as exc:
                raise InputError(f"The time column '{column}' has values that are not ISO timestamps ({exc}). "
                                 "Use e.g. 2026-11-01 or 2026-11-01T13:45:00.") from None
        elif pa.types.is_date(values.type):
            values = pc.cast(values, pa.timestamp("s"))
        elif not pa.types.is_timestamp(values.type):
            raise InputError(f"The time column '{column}' holds {values.type}; it must hold dates or timestamps.")
        if values.null_count:
            raise InputError(f"The time column '{column}' has {values.null_count} missing value(s); every row "
                             "needs a time for a per-period budget.")
        stamps = values.to_numpy(zero_copy_only=False).astype(f"datetime64[{_PERIOD_UNITS[per]}]")
        _, codes = np.unique(stamps, return_inverse=True)
        return codes.ravel()

    def within_period_capacity(self, curve: Curve, count: float, per: str, column: str, stat: str) -> np.ndarray:
        """Feasible points: alerts per period within ``count`` (on average, or on every period)."""
        codes = self.periods(column, per)
        n_periods = int(codes.max()) + 1
        if stat == "mean":
            return (curve.tp + curve.fp) <= count * n_periods
        weight = self.cols.weight

        def fits(k: int) -> bool:
            flagged = self.cols.score >= curve.thresholds[k]
            per_period = np.bincount(codes[flagged], weights=None if weight is None else weight[flagged],
                                     minlength=n_periods)
            return bool(per_period.max() <= count) if per_period.size else True

        # alerts only grow as the threshold falls: bisect for the last point that fits
        lo, hi = 0, len(curve) - 1
        if not fits(lo):
            return np.zeros(len(curve), bool)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if fits(mid):
                lo = mid
            else:
                hi = mid - 1
        return np.arange(len(curve)) <= lo
