"""``thresher runs list|show|compare``: the gate run history."""

from __future__ import annotations

from rich.table import Table

from thresher.cli.output import console, fmt, write_json


def add_parser(sub) -> None:
    p = sub.add_parser("runs", help="list, show and compare recorded gate runs",
                       description="The run history that `thresher check` records (SQLite or PostgreSQL).")
    cmds = p.add_subparsers(dest="runs_command", metavar="COMMAND", required=True)

    def common(c):
        c.add_argument("--store", metavar="URL",
                       help="run history: SQLite path or postgresql://... (default $THRESHER_STORE, else "
                            ".thresher/runs.db)")
        c.add_argument("--json", metavar="PATH|-", help="write the JSON document (- for stdout, table suppressed)")

    ls = cmds.add_parser("list", help="the most recent runs, newest first")
    ls.add_argument("--gate", help="only runs of this gate")
    ls.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    common(ls)
    ls.set_defaults(run=run_list)

    show = cmds.add_parser("show", help="one run: its datasets and every check")
    show.add_argument("run_id", metavar="ID", help="run id, a unique prefix of one (4+ characters), or latest")
    common(show)
    show.set_defaults(run=run_show)

    cmp = cmds.add_parser("compare", help="metric deltas B - A with paired significance where the rows match")
    cmp.add_argument("a", metavar="A", help="the reference run (id, prefix or latest)")
    cmp.add_argument("b", metavar="B", help="the run compared with it")
    cmp.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="paired resamples (default 1000)")
    cmp.add_argument("--seed", type=int, default=0)
    common(cmp)
    cmp.set_defaults(run=run_compare)


def _store(args):
    from thresher.gate.store import open_store

    return open_store(args.store)


def run_list(args) -> int:
    with _store(args) as store:
        runs = store.runs(args.gate, args.limit)
        where = store.url
    if args.json:
        write_json({"runs": runs}, args.json)
    if args.json == "-":
        return 0
    if not runs:
        console.print(f"no runs recorded in {where}")
        return 0
    table = Table(title=f"gate runs in {where}", title_justify="left")
    # ids and times never wrap or shorten (they are what people copy); the rest folds on narrow terminals
    table.add_column("run", no_wrap=True, min_width=12)
    table.add_column("time (UTC)", no_wrap=True, min_width=16)
    table.add_column("gate", overflow="fold")
    table.add_column("commit", no_wrap=True)
    table.add_column("checks", overflow="fold")
    for r in runs:
        passed = r["checks"] - r["failed"] - r["skipped"]
        verdict = f"[green]passed[/green] {passed}/{r['checks']}" if r["passed"] else \
            f"[bold red]failed[/bold red] {passed}/{r['checks']}"
        if r["skipped"]:
            verdict += f" ({r['skipped']} skipped)"
        commit = (r["git_commit"] or "")[:8] + ("*" if r["git_dirty"] else "")
        table.add_row(r["run_id"], r["created_at"][:16].replace("T", " "), r["gate"], commit, verdict)
    console.print(table)
    return 0


def run_show(args) -> int:
    from thresher.gate.render import print_result
    from thresher.gate.result import GateResult

    with _store(args) as store:
        document = store.document(args.run_id)
        where = store.url
    if args.json:
        write_json(document, args.json)
    if args.json != "-":
        result = GateResult.from_dict(document)
        result.recorded_in = where
        console.print(f"[bold]run {result.run_id}[/bold]  {result.created_at}  gate {result.gate}"
                      + (f"  ({result.gate_file})" if result.gate_file else ""))
        print_result(result, console)
    return 0


def run_compare(args) -> int:
    from thresher.gate.compare import compare_runs

    with _store(args) as store:
        comparison = compare_runs(store, args.a, args.b, n_resamples=args.bootstrap, seed=args.seed)
    if args.json:
        write_json(comparison.to_dict(), args.json)
    if args.json == "-":
        return 0
    a, b = comparison.a, comparison.b
    level = f"{comparison.confidence:.0%}"
    table = Table(title=f"B {b['run_id']} vs A {a['run_id']}: B - A, paired where the rows match",
                  title_justify="left")
    several = len({r.dataset for r in comparison.rows}) > 1
    if several:
        table.add_column("dataset", overflow="fold")
    table.add_column("measure", overflow="fold", min_width=12, ratio=1)
    for col in ("A", "B", "B - A", f"{level} CI", "p"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("sig.", no_wrap=True)
    for r in comparison.rows:
        first = [r.dataset] if several else []
        if r.note and r.note != "different rows: no paired test":
            table.add_row(*first, r.measure, "", "", "", "", "", f"[dim]{r.note}[/dim]")
            continue
        ci = f"[{r.low:+.3f}, {r.high:+.3f}]" if r.low == r.low else ""
        significant = {True: "[bold]yes[/bold]", False: "no", None: "[dim]n/a[/dim]"}[r.significant]
        table.add_row(*first, r.measure, fmt(r.a), fmt(r.b), f"{r.delta:+.4f}" if r.delta == r.delta else
                      fmt(r.delta), ci, fmt(r.p_value, 3) if r.p_value == r.p_value else "", significant)
    console.print(table)
    for note in comparison.notes:
        console.print(f"  note: {note}")
    return 0
