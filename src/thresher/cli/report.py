"""``thresher report``: one self-contained, interactive HTML report."""

from __future__ import annotations

from pathlib import Path

from thresher.cli.output import err_console
from thresher.errors import ParameterError


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="write an interactive, self-contained HTML report",
                       description="Write ONE self-contained HTML file (works offline, no network request): PR and "
                                   "ROC curves, metrics and expected cost by threshold, score distributions, a "
                                   "threshold slider with the exact confusion matrix, chosen operating points and "
                                   "policy tiers with their intervals, segments, and a policy diff.")
    p.add_argument("data", nargs="?", help="CSV or Parquet file, a directory of Parquet files, or a glob")
    p.add_argument("--label", required=True, help="label column")
    p.add_argument("--score", required=True, help="score column")
    p.add_argument("--by", help="segment column(s), comma separated, outermost first")
    p.add_argument("--weight", help="sample weight column")
    p.add_argument("--pos-label", help="label value of the positive class")
    p.add_argument("--objective", action="append", default=[], metavar="SPEC",
                   help="mark the operating point of an objective, e.g. 'min-cost fn=10 fp=1' (repeat for several)")
    p.add_argument("--policy", metavar="POLICY.yaml", help="mark this policy's tiers")
    p.add_argument("--policy-old", metavar="OLD.yaml", help="with --policy: show what changes from this policy")
    p.add_argument("--cost", metavar="'fn=C fp=C'",
                   help="costs per error for the expected-cost curve (default: the first min-cost objective's)")
    p.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--min-support", type=int, default=30,
                   help="segments with fewer positives use their parent's threshold (default 30)")
    p.add_argument("--max-points", type=int, default=1200,
                   help="about how many curve points to draw per view (default 1200; each one exact)")
    p.add_argument("--title", help="report title (default: the data file's name)")
    p.add_argument("--out", required=True, metavar="REPORT.html", help="the HTML file to write")
    from thresher.cli.policy import add_source_arguments

    add_source_arguments(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from thresher.cli.evaluate import require_source, use_out_of_core

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ParameterError(f"--out must name an .html file; got '{args.out}'. For images use `thresher plot`.")
    require_source(args)
    options = dict(label=args.label, score=args.score, by=args.by, pos_label=args.pos_label,
                   objectives=args.objective, policy=args.policy, policy_old=args.policy_old, cost=args.cost,
                   confidence=args.confidence, min_support=args.min_support, max_points=args.max_points,
                   title=args.title, progress=True)
    if use_out_of_core(args):
        from thresher.scale.report import build_report as build_streamed

        report = build_streamed(args.data, weight=args.weight, sql=args.sql, database=args.db, **options)
    else:
        from thresher.report.build import build_report

        report = build_report(args.data, weight=args.weight, **options)
    report.save(out)
    for view in report.document["views"][:1]:
        for mark in view["marks"]:
            if mark.get("infeasible"):
                err_console.print(f"[yellow]note:[/yellow] '{mark['label']}' is infeasible: {mark['infeasible']}",
                                  soft_wrap=True)
    size = out.stat().st_size
    err_console.print(f"wrote {out} ({size / 1024:,.0f} KB, {len(report.document['views'])} view(s)); open it in "
                      "any browser, it works offline")
    return 0
