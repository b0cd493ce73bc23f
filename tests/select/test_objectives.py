"""Every objective against brute force over all candidate thresholds, on random data with ties and weights."""

import numpy as np
import pytest

import thresher
from thresher.errors import InfeasibleError, SpecError
from thresher.select import parse, select, select_by_segment
from thresher.select.select import TIE_TOLERANCE
from thresher.stats.intervals import wilson


def brute_counts(y, s, w, t):
    w = np.ones_like(s, dtype=float) if w is None else w
    flagged = s >= t
    tp = float(np.sum(w[flagged & (y == 1)]))
    fp = float(np.sum(w[flagged & (y == 0)]))
    return tp, fp, float(np.sum(w[~flagged & (y == 0)])), float(np.sum(w[~flagged & (y == 1)]))


def candidates(s, w):
    # the distinct scores of rows with nonzero weight, highest first, plus "flag nothing" above the top
    keep = s if w is None else s[w != 0]
    distinct = np.unique(keep.astype(np.float64))[::-1]
    return np.concatenate([[np.nextafter(distinct[0], np.inf)], distinct])


def metric(name, tp, fp, tn, fn, beta=1.0):
    with np.errstate(all="ignore"):
        return {
            "precision": tp / (tp + fp) if tp + fp else np.nan,
            "recall": tp / (tp + fn) if tp + fn else np.nan,
            "specificity": tn / (tn + fp) if tn + fp else np.nan,
            "fpr": fp / (tn + fp) if tn + fp else np.nan,
            "alert_rate": (tp + fp) / (tp + fp + tn + fn),
            "fbeta": (1 + beta**2) * tp / ((1 + beta**2) * tp + beta**2 * fn + fp) if tp + fn + fp else np.nan,
            "youden": (tp / (tp + fn) if tp + fn else np.nan) + (tn / (tn + fp) if tn + fp else np.nan) - 1,
        }[name]


def brute_best(y, s, w, value_fn, feasible_fn):
    """Best feasible value; ties to the highest threshold (the documented rule)."""
    best_t, best_v = None, -np.inf
    for t in candidates(s, w):
        c = brute_counts(y, s, w, t)
        v = value_fn(*c)
        if not np.isfinite(v) or not feasible_fn(*c):
            continue
        if v > best_v + TIE_TOLERANCE * max(1.0, abs(best_v)) if np.isfinite(best_v) else True:
            best_t, best_v = t, v
    return best_t, best_v


def random_case(rng, n=None, ties=True, weighted=False):
    n = n or int(rng.integers(2, 300))
    y = (rng.random(n) < rng.uniform(0.1, 0.6)).astype(int)
    y[0], y[1] = 1, 0
    s = rng.random(n)
    if ties:
        s = np.round(s, int(rng.integers(1, 3)))
    w = rng.choice([0.0, 0.5, 1.0, 2.5], n) if weighted else None
    if w is not None:
        w[0] = w[1] = 1.0
    return y, s, w


CASES = [(seed, ties, weighted) for seed in range(20) for ties, weighted in ((True, False), (False, False), (True, True))]


def run_select(y, s, w, spec):
    data = {"y": y, "s": s} if w is None else {"y": y, "s": s, "w": w}
    return select(data, spec, label="y", score="s", weight=None if w is None else "w")


@pytest.mark.parametrize("seed,ties,weighted", CASES)
def test_max_fbeta_youden_and_cost_match_brute_force(seed, ties, weighted):
    rng = np.random.default_rng(seed)
    y, s, w = random_case(rng, ties=ties, weighted=weighted)
    beta = float(rng.choice([0.5, 1.0, 2.0]))
    fn_cost, fp_cost = float(rng.integers(1, 20)), float(rng.integers(1, 5))
    checks = [
        ("max-f1", lambda *c: metric("fbeta", *c)),
        (f"max-fbeta beta={beta:g}", lambda *c: metric("fbeta", *c, beta=beta)),
        ("youden", lambda *c: metric("youden", *c)),
        (f"min-cost fn={fn_cost:g} fp={fp_cost:g} tp=0.5",
         lambda tp, fp, tn, fn: -(fn_cost * fn + fp_cost * fp - 0.5 * tp)),
    ]
    for spec, value in checks:
        t, v = brute_best(y, s, w, value, lambda *c: True)
        point = run_select(y, s, w, spec)
        assert point.threshold == pytest.approx(t, abs=0), spec
        expected = -v if spec.startswith("min-cost") else v
        assert point.value == pytest.approx(expected, abs=1e-9), spec


@pytest.mark.parametrize("seed,ties,weighted", CASES)
def test_constrained_objectives_match_brute_force(seed, ties, weighted):
    rng = np.random.default_rng(1000 + seed)
    y, s, w = random_case(rng, ties=ties, weighted=weighted)
    target = float(np.round(rng.uniform(0.3, 0.95), 2))
    for spec, value_name, cons_name, sense in [
        (f"max-precision recall>={target}", "precision", "recall", 1),
        (f"max-recall precision>={target}", "recall", "precision", 1),
        (f"max-specificity sensitivity>={target}", "specificity", "recall", 1),
        (f"min-fpr recall>={target}", "fpr", "recall", -1),
    ]:
        t, v = brute_best(y, s, w, lambda *c: sense * metric(value_name, *c),
                          lambda *c: metric(cons_name, *c) >= target)
        if t is None:
            with pytest.raises(InfeasibleError, match=f"best achievable {cons_name}"):
                run_select(y, s, w, spec)
            continue
        point = run_select(y, s, w, spec)
        assert point.threshold == t, spec
        assert point.value == pytest.approx(sense * v, abs=1e-12)
        assert point.confusion.metric(cons_name) >= target


@pytest.mark.parametrize("seed", range(30))
def test_budget_matches_brute_force(seed):
    rng = np.random.default_rng(2000 + seed)
    y, s, w = random_case(rng, ties=bool(seed % 2))
    rate = float(np.round(rng.uniform(0.05, 0.5), 2))
    t, v = brute_best(y, s, w, lambda *c: metric("recall", *c),
                      lambda tp, fp, tn, fn: (tp + fp) / (tp + fp + tn + fn) <= rate and tp > 0)
    if t is None:
        with pytest.raises(InfeasibleError, match="contain no positive"):
            run_select(y, s, w, f"budget rate<={rate}")
    else:
        point = run_select(y, s, w, f"budget rate<={rate}")
        assert (point.threshold, point.value) == (t, pytest.approx(v))
    count = int(rng.integers(2, 30))
    t, v = brute_best(y, s, w, lambda *c: metric("recall", *c), lambda tp, fp, tn, fn: tp + fp <= count and tp > 0)
    if t is None:
        with pytest.raises(InfeasibleError):
            run_select(y, s, w, f"budget count<={count}")
    else:
        assert run_select(y, s, w, f"budget count<={count}").threshold == t


@pytest.mark.parametrize("stat", ["mean", "max"])
def test_budget_per_day_matches_brute_force(stat):
    rng = np.random.default_rng(7)
    n = 600
    y = (rng.random(n) < 0.2).astype(int)
    s = np.round(rng.random(n), 3)
    days = rng.integers(0, 5, n)
    ts = np.array(["2026-11-0%d" % (d + 1) for d in days])
    capacity = 25

    def fits(t):
        per_day = np.bincount(days[s >= t], minlength=5)
        return (per_day.sum() <= capacity * 5) if stat == "mean" else per_day.max() <= capacity

    best = None
    for t in candidates(s, None):
        tp = np.sum((s >= t) & (y == 1))
        if fits(t) and tp > 0 and (best is None or tp > best[1]):
            best = (t, tp)
    point = select({"y": y, "s": s, "ts": ts}, f"budget count<={capacity} per=day time=ts stat={stat}",
                   label="y", score="s")
    assert point.threshold == best[0]
    assert point.tp == best[1]


def test_cost_column_matches_brute_force():
    rng = np.random.default_rng(3)
    n = 400
    y = (rng.random(n) < 0.3).astype(int)
    s = np.round(rng.random(n), 2)
    amount = rng.gamma(2.0, 50.0, n)
    best = None
    for t in candidates(s, None):
        missed = (s < t) & (y == 1)
        cost = amount[missed].sum() + 5.0 * np.sum((s >= t) & (y == 0))
        if best is None or cost < best[1] - 1e-9:
            best = (t, cost)
    point = select({"y": y, "s": s, "amount": amount}, "min-cost fn=amount fp=5", label="y", score="s")
    assert point.threshold == best[0]
    assert point.cost == pytest.approx(best[1])
    assert point.bayes_threshold is None  # per-case costs have no single Bayes threshold


def test_confident_mode_holds_at_the_lower_bound():
    rng = np.random.default_rng(11)
    y = (rng.random(3000) < 0.1).astype(int)
    s = np.clip(rng.normal(0.3 + 0.3 * y, 0.15), 0, 1)
    plain = select({"y": y, "s": s}, "max-precision recall>=0.9", label="y", score="s")
    sure = select({"y": y, "s": s}, "max-precision recall>=0.9 confidence=0.95", label="y", score="s")
    lo, _ = wilson(sure.tp, sure.tp + sure.fn, 0.95)
    assert lo >= 0.9
    assert sure.threshold <= plain.threshold
    # it is the highest-precision threshold whose lower bound meets the target
    c = thresher.curve(y, s)
    lows, _ = wilson(c.tp, c.tp + c.fn, 0.95)
    ok = lows >= 0.9
    assert sure.precision == pytest.approx(np.nanmax(c.precision[ok]))


def test_select_on_a_curve_equals_select_on_data():
    rng = np.random.default_rng(5)
    y, s, _ = random_case(rng, n=500)
    for spec in ("max-f1", "min-cost fn=10 fp=1", "max-precision recall>=0.8", "budget rate<=0.1"):
        a = select(thresher.curve(y, s), spec)
        b = select({"y": y, "s": s}, spec, label="y", score="s")
        assert (a.threshold, a.value) == (b.threshold, b.value)


def test_operating_point_reports_steps_and_intervals():
    point = select({"y": [0, 0, 1, 1, 0, 1], "p": [0.1, 0.4, 0.35, 0.8, 0.2, 0.9]}, "max-f1", label="y", score="p")
    d = point.to_dict()
    for key in ("objective", "threshold", "tp", "fp", "tn", "fn", "precision", "recall", "f1", "alert_rate",
                "intervals", "step_up", "step_down"):
        assert key in d
    lo, hi = d["intervals"]["recall"]
    assert lo <= d["recall"] <= hi
    up = point.step_up
    assert up.threshold > point.threshold and up.delta_alerts < 0


def test_fixed_threshold_is_the_confusion_at_that_threshold():
    y, s = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    point = select(thresher.curve(y, s), "fixed 0.37")
    assert point.threshold == 0.37
    assert point.confusion == thresher.curve(y, s).at(0.37)


@pytest.mark.parametrize("spec", ["max-f1", "max-fbeta beta=2", "youden", "fixed 0.5", "min-cost fn=10 fp=1",
                                  "min-cost fn=amount fp=1 tp=2", "max-precision recall>=0.95",
                                  "max-recall precision>=0.9 confidence=0.95", "max-specificity recall>=0.9",
                                  "budget rate<=0.02", "budget count<=500 per=day time=ts stat=max"])
def test_spec_round_trip(spec):
    assert parse(spec).spec() == spec
    assert parse(parse(spec).spec()) == parse(spec)


@pytest.mark.parametrize("spec,message", [
    ("max-precision recall>=1.5", r"recall is a fraction in \[0, 1\]; got 1.5"),
    ("min-cost fn=-1 fp=1", r"fn= is a cost per case and must be >= 0"),
    ("max-fbeta beta=0", r"beta must be > 0"),
    ("maximise-f1", r"Unknown objective 'maximise-f1'"),
    ("max-f1x", r"Unknown metric 'f1x'"),
    ("max-precison recall>=0.9", r"Did you mean 'precision'"),
    ("budget rate<=2", r"rate must be in \(0, 1\]"),
    ("budget count<=500 per=day", r"needs the timestamp column: add time=COLUMN"),
    ("fixed", r"'fixed' needs a threshold"),
    ("max-precision recall>=0.9 confidence=1.5", r"confidence must be in \(0, 1\)"),
    ("max-precision f1>=0.5 confidence=0.9", r"no binomial bound"),
    ("max-precision recall>=abc", r"Unexpected 'recall>=abc'"),
    ("", r"non-empty string"),
])
def test_malformed_specs_are_rejected_with_a_hint(spec, message):
    with pytest.raises(SpecError, match=message):
        parse(spec)


def test_infeasible_constraint_names_the_best_achievable_value():
    y, s = [0, 1, 0, 1], [0.9, 0.8, 0.7, 0.1]
    with pytest.raises(InfeasibleError, match=r"best achievable precision is 0\.5000"):
        select(thresher.curve(y, s), "max-recall precision>=0.9")


def test_segments_fall_back_to_parent_with_a_note():
    rng = np.random.default_rng(9)
    n = 4000
    country = rng.choice(["FR", "DE"], n)
    tier = np.where(rng.random(n) < 0.05, "gold", "basic")
    y = (rng.random(n) < 0.1).astype(int)
    s = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1)
    data = {"y": y, "s": s, "country": country, "tier": tier}
    result = select_by_segment(data, "max-f1", by="country,tier", label="y", score="s", min_support=25)
    for name, point in result.segments.items():
        c, t = name.split("|")
        rows = (country == c) & (tier == t)
        if y[rows].sum() < 25:
            assert result.fallbacks[name] == c
            parent = select({"y": y[country == c], "s": s[country == c]}, "max-f1", label="y", score="s")
            assert point.threshold == parent.threshold
            assert "fallback" in point.notes[0]
            # the segment's metrics are measured on its own rows at the parent's threshold
            assert point.tp == np.sum(rows & (y == 1) & (s >= parent.threshold))
        else:
            own = select({"y": y[rows], "s": s[rows]}, "max-f1", label="y", score="s")
            assert point.threshold == own.threshold
    assert any(result.fallbacks), "the 5% gold tier should be too small in at least one country"
