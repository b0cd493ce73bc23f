"""``thresher check gate.yaml``: run a gate's checks; exit 0 when all pass, 1 when any fails, 2 on bad input."""

from __future__ import annotations

from thresher.cli.output import console, err_console, write_json
from thresher.errors import GateError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "check", help="run an evaluation gate: golden data, metric checks, baselines (exit 0 pass, 1 fail, 2 error)",
        description="Run every check of a gate file on its golden datasets and record the run. Exit status: 0 when "
                    "every check passes (skipped checks do not fail), 1 when any check fails, 2 for a usage or input "
                    "error (bad gate file, missing data, fingerprint mismatch, unknown baseline run).")
    p.add_argument("gate", help="gate file (YAML); dataset and policy paths in it are relative to it")
    p.add_argument("--baseline", metavar="latest|RUN_ID",
                   help="compare 'vs baseline' checks with this run: 'latest' is the most recent passing run of this "
                        "gate on the same rows; without it those checks are skipped")
    p.add_argument("--junit", metavar="PATH", help="write a JUnit XML report (one testcase per check)")
    p.add_argument("--json", metavar="PATH|-", help="write the JSON document (- for stdout, table suppressed)")
    p.add_argument("--store", metavar="URL",
                   help="run history: a SQLite path or postgresql://... (default $THRESHER_STORE, else "
                        ".thresher/runs.db in the current directory)")
    p.add_argument("--no-record", action="store_true", help="do not record this run in the history")
    p.set_defaults(run=run)


def run(args) -> int:
    from thresher.gate.gatefile import Gate
    from thresher.gate.junit import write_junit
    from thresher.gate.render import print_result
    from thresher.gate.run import check_gate
    from thresher.gate.store import open_store

    gate = Gate.load(args.gate)
    store = None
    if not args.no_record or args.baseline is not None:
        store = open_store(args.store)
    try:
        result = check_gate(gate, baseline=args.baseline, store=store, record=not args.no_record)
    finally:
        if store is not None:
            store.close()
    if args.json != "-":
        print_result(result, console)
    try:
        if args.junit:
            write_junit(result, args.junit)
            err_console.print(f"[dim]wrote {args.junit}[/dim]")
        if args.json:
            write_json(result.to_dict(), args.json)
    except OSError as exc:
        raise GateError(f"Cannot write the report: {exc}. Check the --junit / --json path.") from None
    return 0 if result.passed else 1
