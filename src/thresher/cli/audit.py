"""``thresher audit query|replay``: read the decision service's audit log back."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.table import Table

from thresher.cli.output import console, err_console, fmt

SHOWN = 100  # rows in the terminal table; --json writes them all


def add_parser(sub) -> None:
    p = sub.add_parser("audit", help="query the decision audit log, replay it under another policy")
    cmds = p.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)

    def filters(parser) -> None:
        parser.add_argument("--audit", required=True, metavar="URL", help="sqlite:///path.db or postgresql://...")
        parser.add_argument("--since", metavar="ISO", help="from this time on (inclusive; naive times are UTC)")
        parser.add_argument("--until", metavar="ISO", help="before this time (exclusive)")
        parser.add_argument("--case-id", metavar="ID")
        parser.add_argument("--request-id", metavar="ID")
        parser.add_argument("--policy-version", type=int, metavar="V")
        parser.add_argument("--json", metavar="PATH|-", help="write JSON to a file, or to stdout with -")

    q = cmds.add_parser("query", help="logged decisions, oldest first")
    filters(q)
    q.add_argument("--limit", type=int, help="at most this many decisions")
    q.set_defaults(run=run_query)

    r = cmds.add_parser("replay", help="re-decide logged cases under another policy: what would change")
    filters(r)
    r.add_argument("--policy", required=True, help="the policy file to replay under")
    r.set_defaults(run=run_replay)


def _open(args):
    from thresher.service.audit.store import Filters, open_store, parse_time

    store = open_store(args.audit)
    return store, Filters(since=parse_time(args.since, "--since"), until=parse_time(args.until, "--until"),
                          case_id=args.case_id, policy_version=args.policy_version, request_id=args.request_id,
                          limit=getattr(args, "limit", None))


def _write_records(records, target: str) -> int:
    out = sys.stdout if target == "-" else open(target, "w", encoding="utf-8")
    n = 0
    try:
        out.write("[")
        for record in records:
            out.write(("," if n else "") + "\n  " + json.dumps(record, allow_nan=False))
            n += 1
        out.write("\n]\n" if n else "]\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return n


def run_query(args) -> int:
    store, filters = _open(args)
    try:
        if args.json:
            n = _write_records(store.query(filters), args.json)
            if args.json != "-":
                err_console.print(f"[dim]wrote {n:,} decisions to {args.json}[/dim]")
            return 0
        table = Table(title=f"audit log {args.audit}", title_justify="left")
        for col in ("decided_at", "request", "case", "score", "segments", "action", "tier", "threshold", "policy"):
            table.add_column(col, justify="right" if col in ("score", "threshold") else "left",
                             no_wrap=col in ("decided_at", "case", "action"))
        n = 0
        for record in store.query(filters):
            n += 1
            if n <= SHOWN:
                segs = ", ".join(f"{k}={v}" for k, v in record["segments"].items())
                table.add_row(record["decided_at"], f"{record['request_id'][:8]}/{record['seq']}",
                              str(record["case_id"]), fmt(record["score"]), segs, record["action"], record["tier"],
                              fmt(record["threshold"]), f"{record['policy_name']} v{record['policy_version']}")
        console.print(table)
        more = f" (showing the first {SHOWN}; --json writes them all)" if n > SHOWN else ""
        console.print(f"{n:,} decision(s){more}")
        return 0
    finally:
        store.close()


def run_replay(args) -> int:
    from thresher.policy.policy import Policy
    from thresher.service.audit.replay import replay

    policy = Policy.load(args.policy)
    store, filters = _open(args)
    try:
        result = replay(store, policy, filters)
    finally:
        store.close()
    if args.json:
        document = result.to_dict()
        text = json.dumps(document, indent=2, allow_nan=False)
        if args.json == "-":
            sys.stdout.write(text + "\n")
            return 0
        Path(args.json).write_text(text + "\n")
        err_console.print(f"[dim]wrote {args.json}[/dim]")
    versions = ", ".join(f"v{v}: {n:,}" for v, n in sorted(result.by_version.items())) or "none"
    console.print(f"[bold]replay[/bold] {result.rows:,} logged decisions (policy {versions}) under {result.policy}")
    share = f" ({result.changed / result.rows:.2%})" if result.rows else ""
    console.print(f"{result.changed:,} decision(s) would change{share}")
    flips = Table(title="old action -> new action", title_justify="left")
    for col in ("old", "new", "decisions", ""):
        flips.add_column(col, justify="right" if col == "decisions" else "left")
    for (old, new), n in sorted(result.flips.items()):
        flips.add_row(old, new, f"{n:,}", "[yellow]changes[/yellow]" if old != new else "[dim]same[/dim]")
    console.print(flips)
    for rule, n in sorted(result.changed_by_segment.items()):
        console.print(f"  changed under rule '{rule}': {n:,}")
    return 0
