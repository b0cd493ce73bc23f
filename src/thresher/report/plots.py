"""matplotlib figures of a Curve: PR, ROC, metrics by threshold, expected cost, calibration, distributions.

Every function takes an exact :class:`~thresher.metrics.curve.Curve`, draws on ``ax`` (a new
figure when None) and returns the Axes. ``points`` marks operating points: an
:class:`~thresher.select.OperatingPoint` (drawn with its intervals) or a threshold.
matplotlib is imported lazily: ``pip install 'thresher[report]'``.

>>> import thresher
>>> c = thresher.curve([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
>>> ax = plot_pr(c, points=[0.35])
>>> ax.get_xlabel(), ax.get_ylabel()
('recall', 'precision')
"""

from __future__ import annotations

import numpy as np

from thresher.errors import InputError, ParameterError, require
from thresher.metrics.confusion import Confusion
from thresher.metrics.curve import Curve
from thresher.report.build import parse_costs
from thresher.report.views import calibration, display_curve, distributions, threshold_axis
from thresher.select.operating_point import OperatingPoint, wilson_intervals

PLOT_POINTS = 2000
CURVE_COLOR = "#2f5bd3"
SERIES = {"precision": "#2f5bd3", "recall": "#e0662b", "f1": "#15935b", "alert_rate": "#8a5cd6",
          "specificity": "#0e95b5", "fpr": "#c026d3", "npv": "#64748b", "accuracy": "#334155", "mcc": "#ca8a04"}
MARK_COLORS = ["#c026d3", "#0e95b5", "#c48a06", "#dc2626", "#4f46e5"]
BASELINE = "#9aa3af"
NEGATIVE, POSITIVE = "#4b7bd8", "#e0662b"
KINDS = ("pr", "roc", "threshold", "cost", "calibration", "distribution")


def _matplotlib():
    return require("matplotlib", "report", "thresher's plots")


def _axes(ax):
    if ax is not None:
        return ax
    _matplotlib()
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    return ax


def _style(ax, xlabel: str, ylabel: str, title: str | None) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#cfd6df")
    ax.tick_params(colors="#4b5563", labelsize=9)
    ax.grid(True, color="#eef1f5", linewidth=0.9)
    ax.set_axisbelow(True)
    ax.set_xlabel(xlabel, color="#374151")
    ax.set_ylabel(ylabel, color="#374151")
    if title:
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold", color="#1f2937")


def _check_curve(curve) -> Curve:
    if not isinstance(curve, Curve):
        raise ParameterError(f"thresher's plots take a Curve (thresher.curve(y_true, y_score)); got "
                             f"{type(curve).__name__}.")
    if len(curve) == 0:
        raise InputError("The curve has no points to plot: the data has no rows with a positive weight.")
    return curve


def _marks(curve: Curve, points) -> list[tuple[str, Confusion, dict, float | None]]:
    """``(label, confusion, intervals, threshold)`` for each point to mark."""
    out = []
    for p in points or ():
        if isinstance(p, OperatingPoint):
            out.append((p.objective, p.confusion, p.intervals, p.threshold))
        elif isinstance(p, Confusion):
            out.append((f"threshold {p.threshold:.4g}", p, wilson_intervals(p, 0.95), p.threshold))
        else:
            c = curve.at(float(p))
            out.append((f"threshold {float(p):.4g}", c, wilson_intervals(c, 0.95), float(p)))
    return out


def _shown(curve: Curve, points) -> Curve:
    return display_curve(curve, [t for *_, t in _marks(curve, points) if t is not None], PLOT_POINTS)


def _errorbar(ax, x, y, xerr, yerr, color, label):
    def err(value, interval):
        if interval is None or any(v is None or not np.isfinite(v) for v in interval):
            return None
        return [[max(0.0, value - interval[0])], [max(0.0, interval[1] - value)]]

    ax.errorbar([x], [y], xerr=err(x, xerr), yerr=err(y, yerr), fmt="o", color=color, markersize=7,
                markeredgecolor="white", markeredgewidth=1.2, capsize=3, elinewidth=1.3, label=label, zorder=5)


def plot_pr(curve: Curve, *, ax=None, points=(), title: str | None = "Precision \u2013 recall", label=None):
    """Precision against recall, the no-skill line (prevalence), and marked points with their intervals."""
    curve = _check_curve(curve)
    ax = _axes(ax)
    shown = _shown(curve, points)
    ok = np.isfinite(shown.precision)
    ax.plot(shown.recall[ok], shown.precision[ok], color=CURVE_COLOR, linewidth=2,
            label=label or f"AP {curve.average_precision():.3f}")
    ax.fill_between(shown.recall[ok], shown.precision[ok], color=CURVE_COLOR, alpha=0.07, linewidth=0)
    prevalence = curve.positives / (curve.positives + curve.negatives)
    ax.axhline(prevalence, color=BASELINE, linestyle="--", linewidth=1.1, label=f"no skill ({prevalence:.3f})")
    for j, (name, c, iv, _) in enumerate(_marks(curve, points)):
        _errorbar(ax, c.recall, c.precision, iv.get("recall"), iv.get("precision"), MARK_COLORS[j % 5], name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    _style(ax, "recall", "precision", title)
    ax.legend(frameon=False, fontsize=8.5, loc="upper right")
    return ax


def plot_roc(curve: Curve, *, ax=None, points=(), auc_interval=None, title: str | None = "ROC curve", label=None):
    """True against false positive rate with the chance diagonal; ``auc_interval`` (e.g. a
    ``delong_auc_ci`` result, or ``(low, high)``) goes into the legend."""
    curve = _check_curve(curve)
    ax = _axes(ax)
    shown = _shown(curve, points)
    fpr = np.concatenate([[0.0], shown.fpr])
    tpr = np.concatenate([[0.0], shown.recall])
    text = f"AUC {curve.roc_auc():.3f}"
    if auc_interval is not None:
        low, high = (auc_interval.low, auc_interval.high) if hasattr(auc_interval, "low") else auc_interval
        text += f" [{low:.3f}, {high:.3f}]"
    ax.plot(fpr, tpr, color=CURVE_COLOR, linewidth=2, label=label or text)
    ax.fill_between(fpr, tpr, color=CURVE_COLOR, alpha=0.07, linewidth=0)
    ax.plot([0, 1], [0, 1], color=BASELINE, linestyle="--", linewidth=1.1, label="chance")
    for j, (name, c, iv, _) in enumerate(_marks(curve, points)):
        spec = iv.get("specificity")
        fpr_iv = None if spec is None else (1 - spec[1], 1 - spec[0])
        _errorbar(ax, c.fpr, c.recall, fpr_iv, iv.get("recall"), MARK_COLORS[j % 5], name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    _style(ax, "false positive rate", "true positive rate (recall)", title)
    ax.legend(frameon=False, fontsize=8.5, loc="lower right")
    return ax


def _threshold_axis(ax, curve: Curve, logit) -> None:
    scores = curve.thresholds
    probabilities = scores.min() >= 0 and scores.max() <= 1
    if logit is None:
        logit = threshold_axis(curve) == "logit"
    if logit:
        if not probabilities:
            raise InputError(f"A logit threshold axis needs scores in [0, 1]; they range over "
                             f"[{scores.min():.4g}, {scores.max():.4g}]. Pass logit=False.")
    low, high = float(scores.min()), float(scores.max())
    _set_x(ax, low, high, logit)


LOGIT_TICKS = (1e-5, 1e-4, 0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999)


def _set_x(ax, low: float, high: float, logit: bool) -> None:
    if not logit:
        ax.set_xlim(low, high)
        return
    ticker = _matplotlib().ticker
    ax.set_xscale("logit")
    low, high = max(low, 1e-6), min(high, 1 - 1e-6)
    ax.set_xlim(low, high)
    ticks = [t for t in LOGIT_TICKS if low <= t <= high]
    ax.xaxis.set_major_locator(ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ticker.FixedFormatter([f"{t:g}" for t in ticks]))
    ax.xaxis.set_minor_locator(ticker.NullLocator())


def plot_threshold(curve: Curve, *, ax=None, metrics=("precision", "recall", "f1", "alert_rate"), points=(),
                   logit: bool | None = None, title: str | None = "Metrics by threshold"):
    """Metrics against the threshold (as yellowbrick's discrimination threshold plot); marked
    thresholds as vertical lines. ``logit=None`` picks a log-odds axis when probabilities crowd
    near 0 or 1."""
    curve = _check_curve(curve)
    ax = _axes(ax)
    shown = _shown(curve, points)
    for name in metrics:
        values = shown.metric(name)
        ax.plot(shown.thresholds, values, color=SERIES.get(name), linewidth=1.8, label=name.replace("_", " "))
    for j, (name, _, _, t) in enumerate(_marks(curve, points)):
        if t is not None:
            ax.axvline(t, color=MARK_COLORS[j % 5], linestyle="--", linewidth=1.2, label=name)
    _threshold_axis(ax, curve, logit)
    ax.set_ylim(0, 1.02)
    _style(ax, "threshold", "", title)
    ax.legend(frameon=False, fontsize=8.5, loc="best")
    return ax


def plot_cost(curve: Curve, cost="fn=1 fp=1", *, ax=None, per_case: bool = True, points=(),
              logit: bool | None = None, title: str | None = "Expected cost"):
    """Expected cost against the threshold for constant costs (``"fn=10 fp=1"``), the minimum marked."""
    curve = _check_curve(curve)
    costs = parse_costs(cost)
    if costs is None:
        raise ParameterError("plot_cost needs the costs, e.g. cost='fn=10 fp=1'.")
    ax = _axes(ax)
    shown = _shown(curve, points)
    total = costs["fn"] * shown.fn + costs["fp"] * shown.fp - costs["tp"] * shown.tp - costs["tn"] * shown.tn
    values = total / (curve.positives + curve.negatives) if per_case else total
    ax.plot(shown.thresholds, values, color="#0f766e", linewidth=2, label="cost per case" if per_case else "cost")
    ax.fill_between(shown.thresholds, values, color="#0f766e", alpha=0.07, linewidth=0)
    best = int(np.argmin(values))
    ax.plot([shown.thresholds[best]], [values[best]], "o", color="white", markeredgecolor="#0f766e",
            markeredgewidth=2, label=f"lowest {values[best]:.4g} at {shown.thresholds[best]:.4g}", zorder=5)
    for j, (name, _, _, t) in enumerate(_marks(curve, points)):
        if t is not None:
            ax.axvline(t, color=MARK_COLORS[j % 5], linestyle="--", linewidth=1.2, label=name)
    _threshold_axis(ax, curve, logit)
    spec = " ".join(f"{k}={v:g}" for k, v in costs.items() if v or k in ("fn", "fp"))
    _style(ax, "threshold", f"{'cost per case' if per_case else 'total cost'} ({spec})", title)
    ax.legend(frameon=False, fontsize=8.5, loc="best")
    return ax


def plot_calibration(curve: Curve, *, ax=None, bins: int = 10, title: str | None = "Calibration"):
    """Reliability diagram: observed positive rate against mean predicted probability per bin."""
    curve = _check_curve(curve)
    table = calibration(curve, bins)
    if table is None:
        raise InputError(f"Calibration needs scores that are probabilities in [0, 1]; they range over "
                         f"[{curve.thresholds.min():.4g}, {curve.thresholds.max():.4g}]. Calibrate the model "
                         "(e.g. isotonic or Platt scaling) first.")
    ax = _axes(ax)
    weight = np.asarray(table["weight"], dtype=float)
    ax.plot([0, 1], [0, 1], color=BASELINE, linestyle="--", linewidth=1.1, label="perfectly calibrated")
    ax.plot(table["predicted"], table["observed"], color=CURVE_COLOR, linewidth=1.8, label="observed")
    ax.scatter(table["predicted"], table["observed"], s=18 + 160 * np.sqrt(weight / weight.max()), color="white",
               edgecolors=CURVE_COLOR, linewidths=1.6, zorder=5)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    _style(ax, "mean predicted probability", "observed positive rate", title)
    ax.legend(frameon=False, fontsize=8.5, loc="upper left")
    return ax


def plot_distribution(curve: Curve, *, ax=None, bins: int = 40, logit: bool | None = None, points=(),
                      title: str | None = "Score distribution"):
    """Histogram of the scores of each class (share of the class per bin)."""
    curve = _check_curve(curve)
    ax = _axes(ax)
    hist = distributions(curve, bins)
    use_logit = (hist["axis"] == "logit") if logit is None else logit
    if use_logit and hist["logit"] is None:
        raise InputError("A logit axis needs scores in [0, 1]; pass logit=False.")
    h = hist["logit" if use_logit else "linear"]
    edges = np.asarray(h["edges"], dtype=float)
    for name, color in (("negatives", NEGATIVE), ("positives", POSITIVE)):
        values = np.asarray(h[name], dtype=float)
        share = values / values.sum() if values.sum() > 0 else values
        ax.stairs(share, edges, fill=True, color=color, alpha=0.22)
        ax.stairs(share, edges, color=color, linewidth=1.4, label=name)
    for j, (name, _, _, t) in enumerate(_marks(curve, points)):
        if t is not None:
            ax.axvline(t, color=MARK_COLORS[j % 5], linestyle="--", linewidth=1.2, label=name)
    _set_x(ax, float(edges[0]), float(edges[-1]), use_logit)
    ax.yaxis.set_major_formatter(_matplotlib().ticker.PercentFormatter(1.0, decimals=0))
    _style(ax, "score", "share of class", title)
    ax.legend(frameon=False, fontsize=8.5, loc="best")
    return ax


PLOTS = {"pr": plot_pr, "roc": plot_roc, "threshold": plot_threshold, "cost": plot_cost,
         "calibration": plot_calibration, "distribution": plot_distribution}


def figure(kind: str, curve: Curve, *, width: int = 960, height: int = 640, dpi: int = 160, **options):
    """One figure of ``width`` x ``height`` pixels, without pyplot's global state (for files, servers)."""
    if kind not in PLOTS:
        raise ParameterError(f"Unknown plot '{kind}'. Known plots: {', '.join(KINDS)}.")
    for name, value in (("width", width), ("height", height), ("dpi", dpi)):
        if not isinstance(value, (int, np.integer)) or value < 16:
            raise ParameterError(f"The '{name}' parameter of figure must be an integer >= 16. Got {value!r} instead.")
    _matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout="constrained")
    PLOTS[kind](curve, ax=fig.add_subplot(), **options)
    return fig
