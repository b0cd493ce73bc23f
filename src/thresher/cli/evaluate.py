"""``thresher evaluate``: exact metrics overall and by segment, as a table and as JSON."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from thresher.cli.output import console, fmt, write_json
from thresher.metrics.evaluate import Evaluation, evaluate


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="exact metrics of labelled scores, overall and by segment",
                       description="Exact ROC AUC, average precision and the confusion matrix at a threshold.")
    p.add_argument("data", nargs="?", help="CSV or Parquet file, a directory of Parquet files, a glob, or - (CSV on "
                                           "standard input, with --bins)")
    p.add_argument("--label", required=True, help="label column")
    p.add_argument("--score", required=True, help="score column (higher = more likely positive)")
    p.add_argument("--pos-label", help="label value of the positive class (default 1 for 0/1 labels)")
    p.add_argument("--weight", help="sample weight column")
    p.add_argument("--by", help="segment column(s), comma separated")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="threshold for the confusion matrix; positive iff score >= threshold (default 0.5)")
    p.add_argument("--json", metavar="PATH|-", help="also write the JSON document (- for stdout, table suppressed)")
    add_scale_arguments(p)
    p.set_defaults(run=run)


def add_scale_arguments(p) -> None:
    g = p.add_argument_group("scale")
    g.add_argument("--sql", help="read the rows of a DuckDB query instead of DATA (e.g. select label, score from "
                                 "'scores/*.parquet' where day >= '2026-11-01')")
    g.add_argument("--db", help="the database --sql runs in: a DuckDB file, or a postgresql:// URL")
    g.add_argument("--bins", type=positive_int, help="binned mode: one pass, constant memory, areas with error bounds")
    g.add_argument("--range", default="0,1", metavar="LO,HI", help="score range of the bins (default 0,1)")
    g.add_argument("--in-memory", action="store_true", help="never switch to out-of-core counting")


def positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number >= 1 (the number of bins), got '{text}'")
    return value


OUT_OF_CORE_ROWS = 20_000_000


def use_out_of_core(args) -> bool:
    """Out-of-core exact counting for queries, Parquet directories and globs, and large Parquet files."""
    if args.in_memory:
        return False
    if args.sql:
        return True
    data = str(args.data)
    if any(ch in data for ch in "*?[") or Path(data).is_dir():
        return True
    if data.lower().endswith((".parquet", ".pq")) and Path(data).exists():
        import pyarrow.parquet as pq

        return pq.ParquetFile(data).metadata.num_rows >= OUT_OF_CORE_ROWS
    return False


def require_source(args) -> None:
    from thresher.errors import InputError

    if args.data is None and not args.sql:
        raise InputError("Give DATA (a file, a directory or a glob) or --sql QUERY.")
    if args.data is not None and args.sql:
        raise InputError("Give DATA or --sql QUERY, not both (the query names its own files or tables).")
    if args.sql and getattr(args, "in_memory", False):
        raise InputError("--in-memory reads DATA into memory, and a --sql query is always counted out of core: drop "
                         "one of the two (export the query's rows to Parquet to read them into memory).")


def load_evaluation(args) -> Evaluation:
    from thresher.errors import InputError

    require_source(args)
    if args.data == "-" and not args.bins:
        raise InputError("Standard input (-) is read once, as a stream: add --bins N (binned mode, one pass, "
                         "constant memory), or save the data to a file for exact counting.")
    if args.bins:
        from thresher.scale.binned import evaluate as binned_evaluate

        try:
            lo, hi = (float(v) for v in args.range.split(","))
        except ValueError:
            raise InputError(f"--range takes LO,HI such as 0,1; got '{args.range}'.") from None
        return binned_evaluate(args.data, label=args.label, score=args.score, weight=args.weight, by=args.by,
                               pos_label=args.pos_label, threshold=args.threshold, bins=args.bins, range=(lo, hi),
                               sql=args.sql, database=args.db)
    if use_out_of_core(args):
        from thresher.scale.outofcore import evaluate as streamed

        return streamed(args.data, label=args.label, score=args.score, weight=args.weight, by=args.by,
                        pos_label=args.pos_label,
                        threshold=args.threshold, sql=args.sql, database=args.db, progress=True)
    return evaluate(args.data, label=args.label, score=args.score, weight=args.weight, by=args.by,
                    pos_label=args.pos_label, threshold=args.threshold, progress=True)


def run(args) -> int:
    ev = load_evaluation(args)
    if args.json != "-":
        render(ev, title="standard input" if args.data == "-" else Path(args.data).name if args.data else "sql")
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
    if o.curve.exact:
        interval = o.to_dict()["roc_auc_interval"]
        head.add_row("ROC AUC", fmt(o.roc_auc) + (f"  95% CI [{fmt(interval[0])}, {fmt(interval[1])}] (DeLong)"
                                                 if interval else ""))
        head.add_row("average precision", fmt(o.average_precision))
    else:
        lo, hi = o.curve.roc_auc_bounds()
        head.add_row("ROC AUC (binned)", f"{fmt(o.roc_auc)}  exact value in [{fmt(lo)}, {fmt(hi)}]")
        lo, hi = o.curve.average_precision_bounds()
        head.add_row("average precision (binned)", f"{fmt(o.average_precision)}  exact value in [{fmt(lo)}, {fmt(hi)}]")
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
