"""``thresher evaluate``: exact metrics overall and by segment, as a table and as JSON."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from thresher.cli.output import console, fmt, write_json
from thresher.metrics.evaluate import Evaluation, evaluate


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="exact metrics of labelled scores, overall and by segment",
                       description="Exact ROC AUC, average precision and the confusion matrix at a threshold.")
    p.add_argument("data", help="CSV or Parquet file (or a directory of Parquet files)")
    p.add_argument("--label", required=True, help="label column")
    p.add_argument("--score", required=True, help="score column (higher = more likely positive)")
    p.add_argument("--pos-label", help="label value of the positive class (default 1 for 0/1 labels)")
    p.add_argument("--weight", help="sample weight column")
    p.add_argument("--by", help="segment column(s), comma separated")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="threshold for the confusion matrix; positive iff score >= threshold (default 0.5)")
    p.add_argument("--json", metavar="PATH|-", help="also write the JSON document (- for stdout, table suppressed)")
    p.set_defaults(run=run)


def run(args) -> int:
    ev = evaluate(args.data, label=args.label, score=args.score, weight=args.weight, by=args.by,
                  pos_label=args.pos_label, threshold=args.threshold, progress=True)
    if args.json != "-":
        render(ev, title=Path(args.data).name)
    if args.json:
        write_json(ev.to_dict(), args.json)
    return 0


def render(ev: Evaluation, title: str) -> None:
    o = ev.overall
    c = o.at_threshold
    head = Table(title=f"thresher evaluate: {title}", show_header=False, title_justify="left", box=None)
    head.add_column(style="bold")
    head.add_column(justify="right")
    head.add_row("rows", fmt(o.n))
    head.add_row("positives", f"{fmt(o.positives)} ({fmt(100 * c.prevalence, 2)}%)")
    head.add_row("ROC AUC", fmt(o.roc_auc))
    head.add_row("average precision", fmt(o.average_precision))
    head.add_row("PR AUC (trapezoid)", fmt(o.pr_auc))
    console.print(head)

    cm = Table(title=f"confusion matrix at score >= {ev.threshold:g}", title_justify="left")
    cm.add_column("")
    cm.add_column("predicted positive", justify="right")
    cm.add_column("predicted negative", justify="right")
    cm.add_row("actual positive", f"[green]{fmt(c.tp)}[/green] tp", f"[red]{fmt(c.fn)}[/red] fn")
    cm.add_row("actual negative", f"[red]{fmt(c.fp)}[/red] fp", f"[green]{fmt(c.tn)}[/green] tn")
    console.print(cm)
    console.print(f"precision {fmt(c.precision)}   recall {fmt(c.recall)}   F1 {fmt(c.f1)}   "
                  f"specificity {fmt(c.specificity)}   alert rate {fmt(c.alert_rate)}")
    if ev.segments:
        seg = Table(title=f"by {', '.join(ev.by)} (threshold {ev.threshold:g})", title_justify="left")
        seg.add_column("segment", no_wrap=True, min_width=7)
        for name in ("rows", "pos", "AUC", "AP", "prec", "recall", "F1", "alerts"):
            seg.add_column(name, justify="right", no_wrap=True)
        for name, s in ev.segments.items():
            a = s.at_threshold
            seg.add_row(name, fmt(s.n), fmt(s.positives), fmt(s.roc_auc, 3), fmt(s.average_precision, 3),
                        fmt(a.precision, 3), fmt(a.recall, 3), fmt(a.f1, 3), fmt(a.alert_rate, 3))
        console.print(seg)
