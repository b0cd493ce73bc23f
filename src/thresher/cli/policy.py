"""``thresher policy fit|apply|validate|diff|schema``."""

from __future__ import annotations

import json
import time

from rich.table import Table

from thresher.cli.output import console, err_console, fmt, write_json
from thresher.errors import PolicyError


def add_parser(sub) -> None:
    p = sub.add_parser("policy", help="fit, apply, validate and diff decision policies")
    cmds = p.add_subparsers(dest="policy_command", metavar="COMMAND", required=True)

    f = cmds.add_parser("fit", help="fit thresholds per segment and tier into a policy file")
    f.add_argument("data", nargs="?", help="CSV or Parquet file, a directory of Parquet files, or a glob")
    f.add_argument("--label", required=True)
    f.add_argument("--score", required=True)
    f.add_argument("--by", help="segment column(s), comma separated, outermost first")
    f.add_argument("--objective", help="objective of the top tier (its action is --action)")
    f.add_argument("--action", default="block", help="action of the --objective tier (default block)")
    f.add_argument("--tier", action="append", default=[], metavar="ACTION=SPEC",
                   help="a further tier, e.g. review='budget rate<=0.05' (repeat; strictest first)")
    f.add_argument("--otherwise", default="allow", help="action below every tier (default allow)")
    f.add_argument("--min-support", type=int, default=30)
    f.add_argument("--weight")
    f.add_argument("--pos-label")
    f.add_argument("--name", default="policy")
    f.add_argument("--version", type=int, default=1)
    f.add_argument("--out", required=True, help="policy file to write (.yaml or .json)")
    add_source_arguments(f)
    f.set_defaults(run=run_fit)

    a = cmds.add_parser("apply", help="decide every row of a file")
    a.add_argument("policy")
    a.add_argument("data")
    a.add_argument("--out", required=True, help="decisions file (.parquet or .csv)")
    a.add_argument("--keep", help="input columns to copy to the output, comma separated (default all)")
    a.set_defaults(run=run_apply)

    v = cmds.add_parser("validate", help="check a policy file: schema errors and lint")
    v.add_argument("policy")
    v.add_argument("--strict", action="store_true", help="exit 1 on lint warnings too")
    v.set_defaults(run=run_validate)

    d = cmds.add_parser("diff", help="what changes between two policies (and on labelled data)")
    d.add_argument("old")
    d.add_argument("new")
    d.add_argument("--data", help="labelled data to measure flipped decisions and metric changes on")
    d.add_argument("--label", help="label column of --data")
    d.add_argument("--pos-label")
    d.add_argument("--cost", metavar="fn=C fp=C", help="costs per error, e.g. 'fn=10 fp=1'")
    d.add_argument("--bootstrap", type=int, default=1000, help="paired resamples for the intervals")
    d.add_argument("--json", metavar="PATH|-")
    d.set_defaults(run=run_diff)

    s = cmds.add_parser("schema", help="print the policy JSON Schema")
    s.set_defaults(run=run_schema)


def add_source_arguments(p) -> None:
    """--sql / --db / --in-memory: data larger than memory is counted out of core, exactly."""
    g = p.add_argument_group("scale")
    g.add_argument("--sql", help="read the rows of a DuckDB query instead of DATA")
    g.add_argument("--db", help="the database --sql runs in: a DuckDB file, or a postgresql:// URL")
    g.add_argument("--in-memory", action="store_true", help="never switch to out-of-core counting")


def run_fit(args) -> int:
    from thresher.cli.evaluate import require_source, use_out_of_core

    tiers = ([f"{args.action}={args.objective}"] if args.objective else []) + args.tier
    require_source(args)
    if use_out_of_core(args):
        from thresher.scale.fit import fit_policy as fit_streamed

        result = fit_streamed(args.data, label=args.label, score=args.score, weight=args.weight, tiers=tiers, by=args.by,
                              otherwise=args.otherwise, min_support=args.min_support, name=args.name,
                              version=args.version, pos_label=args.pos_label, sql=args.sql, database=args.db,
                              progress=True)
    else:
        from thresher.policy.fit import fit_policy

        result = fit_policy(args.data, label=args.label, score=args.score, tiers=tiers, by=args.by,
                            otherwise=args.otherwise, min_support=args.min_support, name=args.name,
                            version=args.version, weight=args.weight, pos_label=args.pos_label)
    result.policy.save(args.out)
    table = Table(title=f"policy {result.policy.name} v{result.policy.version} -> {args.out}", title_justify="left")
    for col in ("rule", "tier", "threshold", "prec", "recall", "alerts", "pos", "source"):
        table.add_column(col, justify="left" if col in ("rule", "tier", "source") else "right", no_wrap=True)
    for row in result.rows:
        table.add_row(row["rule"], row["action"], fmt(row["threshold"], 4), fmt(row["precision"], 3),
                      fmt(row["recall"], 3), fmt(row["alert_rate"], 4), fmt(row["positives"]),
                      row["source"] + (" *" if row["note"] else ""))
    console.print(table)
    for row in result.rows:
        if row["note"]:
            console.print(f"  * {row['rule']} / {row['action']}: {row['note']}")
    return 0


def run_apply(args) -> int:
    from thresher.policy.apply import apply_file
    from thresher.policy.policy import Policy

    policy = Policy.load(args.policy)
    start = time.perf_counter()
    keep = [c.strip() for c in args.keep.split(",")] if args.keep else None
    rows = apply_file(policy, args.data, args.out, keep=keep, progress=True)
    seconds = time.perf_counter() - start
    err_console.print(f"decided {rows:,} rows with {policy.name} v{policy.version} in {seconds:.2f}s "
                      f"({rows / max(seconds, 1e-9):,.0f} rows/s) -> {args.out}")
    return 0


def run_validate(args) -> int:
    from thresher.policy.lint import lint
    from thresher.policy.policy import Policy

    policy = Policy.load(args.policy)
    findings = lint(policy)
    for finding in findings:
        style = "yellow" if finding.level == "warning" else "dim"
        console.print(f"[{style}]{finding}[/{style}]")
    warnings = [f for f in findings if f.level == "warning"]
    console.print(f"{args.policy}: valid policy '{policy.name}' v{policy.version}, {len(policy.rules)} rule(s), "
                  f"{len(warnings)} warning(s)")
    return 1 if (warnings and args.strict) else 0


def _costs(text: str | None):
    if not text:
        return None
    from thresher.select.objectives import MinCost, parse

    objective = parse(f"min-cost {text}")
    if not isinstance(objective, MinCost) or objective.columns() or objective.tp or objective.tn:
        raise PolicyError(f"--cost takes constant error costs like 'fn=10 fp=1'; got '{text}'.")
    return float(objective.fn), float(objective.fp)


def run_diff(args) -> int:
    from thresher.policy.diff import diff_policies
    from thresher.policy.policy import Policy

    old, new = Policy.load(args.old), Policy.load(args.new)
    if args.data and not args.label:
        raise PolicyError("--data needs --label (the column with the true outcome).")
    options = {}
    if args.data:
        options = {"label": args.label, "pos_label": args.pos_label, "costs": _costs(args.cost),
                   "n_resamples": args.bootstrap}
    result = diff_policies(old, new, args.data, **options)
    if args.json != "-":
        render_diff(result)
    if args.json:
        write_json(result.to_dict(), args.json)
    return 0


def render_diff(result) -> None:
    console.print(f"[bold]policy diff[/bold] {result.old} -> {result.new}")
    if not result.changes:
        console.print("  no structural changes")
    for change in result.changes:
        console.print(f"  {change}")
    impact = result.impact
    if impact is None:
        return
    console.print(f"\non {impact.rows:,} labelled rows: {impact.flipped:,} decisions flip")
    flips = Table(show_header=True, title_justify="left")
    flips.add_column("old action")
    flips.add_column("new action")
    flips.add_column("rows", justify="right")
    for (a, b), n in sorted(impact.flips.items()):
        if a != b:
            flips.add_row(a, b, fmt(n))
    console.print(flips)
    deltas = Table(title=f"flagged cases (any tier), {impact.confidence:.0%} paired-bootstrap intervals",
                   title_justify="left")
    for col in ("metric", "old", "new", "change", "interval"):
        deltas.add_column(col, justify="left" if col == "metric" else "right")
    for metric, d in impact.deltas.items():
        lo, hi = d["interval"]
        digits = 0 if metric in ("alerts", "cost") else 4
        deltas.add_row(metric, fmt(d["old"], digits), fmt(d["new"], digits), f"{d['delta']:+.{digits}f}",
                       f"[{fmt(lo, digits)}, {fmt(hi, digits)}]")
    console.print(deltas)


def run_schema(args) -> int:
    from thresher.policy.schema import PolicyModel

    print(json.dumps(PolicyModel.model_json_schema(), indent=2))
    return 0
