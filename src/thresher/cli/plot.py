"""``thresher plot``: one figure (PNG, SVG or PDF) with matplotlib."""

from __future__ import annotations

import re
from pathlib import Path

from thresher.cli.output import err_console
from thresher.errors import ParameterError

KINDS = ("pr", "roc", "threshold", "cost", "calibration", "distribution")
SUFFIXES = (".png", ".svg", ".pdf")


def add_parser(sub) -> None:
    p = sub.add_parser("plot", help="draw one figure to PNG/SVG/PDF (needs thresher[report])",
                       description="Draw a figure with matplotlib: pr, roc (with the DeLong AUC interval), threshold "
                                   "(precision, recall, F1, alert rate by threshold), cost (expected cost by "
                                   "threshold), calibration (reliability diagram), distribution (scores by class).")
    p.add_argument("kind", choices=KINDS, help="which figure")
    p.add_argument("data", help="CSV or Parquet file")
    p.add_argument("--label", required=True, help="label column")
    p.add_argument("--score", required=True, help="score column")
    p.add_argument("--weight", help="sample weight column")
    p.add_argument("--pos-label", help="label value of the positive class")
    p.add_argument("--objective", action="append", default=[], metavar="SPEC",
                   help="mark the operating point of an objective (repeat for several)")
    p.add_argument("--threshold", action="append", default=[], type=float, metavar="T", help="mark a threshold")
    p.add_argument("--cost", metavar="'fn=C fp=C'", help="costs for the cost plot (default: a min-cost objective's)")
    p.add_argument("--bins", type=int, help="bins of the calibration (default 10) or distribution (40) plot")
    axis = p.add_mutually_exclusive_group()
    axis.add_argument("--logit", dest="logit", action="store_const", const=True,
                      help="log-odds threshold axis (default: when probabilities crowd near 0 or 1)")
    axis.add_argument("--linear", dest="logit", action="store_const", const=False, help="linear threshold axis")
    p.add_argument("--size", default="960x640", metavar="WxH", help="image size in pixels (default 960x640)")
    p.add_argument("--dpi", type=int, default=160, help="dots per inch: text size relative to the image (default 160)")
    p.add_argument("--title", help="figure title")
    p.add_argument("--out", required=True, metavar="FILE.png|svg|pdf", help="the image to write")
    p.set_defaults(run=run)


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise ParameterError(f"--size is WIDTHxHEIGHT in pixels, e.g. 960x640; got '{text}'.")
    return int(match.group(1)), int(match.group(2))


def run(args) -> int:
    from thresher.data.load import load
    from thresher.metrics.curve import Curve
    from thresher.report.build import parse_costs
    from thresher.report.plots import figure
    from thresher.select.context import Context
    from thresher.select.objectives import MinCost, parse
    from thresher.select.select import select_on_curve

    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        raise ParameterError(f"--out must end in {', '.join(SUFFIXES)}; got '{args.out}'.")
    width, height = _size(args.size)
    objectives = [parse(s) for s in args.objective]
    cols = load(args.data, label=args.label, score=args.score, weight=args.weight, pos_label=args.pos_label,
                extra=sorted({c for o in objectives for c in o.columns()}), progress=True)
    curve = Curve.from_columns(cols)
    points = [select_on_curve(curve, o, Context(cols)) for o in objectives] + list(args.threshold)
    options = {}
    if args.kind in ("pr", "roc", "threshold", "cost", "distribution"):
        options["points"] = points
    if args.kind in ("threshold", "cost", "distribution"):
        options["logit"] = args.logit
    if args.kind in ("calibration", "distribution") and args.bins is not None:
        options["bins"] = args.bins
    if args.kind == "roc" and cols.weight is None:
        from thresher.stats.delong import delong_auc_ci

        options["auc_interval"] = delong_auc_ci(cols.y, cols.score)
    if args.kind == "cost":
        cost = args.cost or next((o for o in objectives if isinstance(o, MinCost) and not o.columns()), None)
        if cost is None:
            raise ParameterError("The cost plot needs costs: pass --cost 'fn=10 fp=1' (or a min-cost --objective).")
        options["cost"] = parse_costs(cost)
    if args.title is not None:
        options["title"] = args.title
    fig = figure(args.kind, curve, width=width, height=height, dpi=args.dpi, **options)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=args.dpi)
    err_console.print(f"wrote {out} ({width}x{height})")
    return 0
