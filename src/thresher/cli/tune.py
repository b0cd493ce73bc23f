"""``thresher tune``: choose an operating point by an explicit objective, overall and per segment."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from thresher.cli.evaluate import positive_int
from thresher.cli.output import console, fmt, write_json
from thresher.data.load import load
from thresher.metrics.curve import Curve
from thresher.select.objectives import Constrained, MinCost, parse
from thresher.select.select import select_by_segment, select_on_curve
from thresher.select.context import Context


def add_parser(sub) -> None:
    p = sub.add_parser("tune", help="choose a threshold by cost, constraint or budget",
                       description="Choose the operating point that best meets an objective. Objectives: max-f1, "
                                   "max-fbeta beta=2, youden, fixed 0.5, min-cost fn=10 fp=1, "
                                   "max-precision recall>=0.95, budget rate<=0.02, budget count<=500 per=day time=COL.")
    p.add_argument("data", nargs="?", help="CSV or Parquet file, a directory of Parquet files, or a glob")
    p.add_argument("--label", required=True, help="label column")
    p.add_argument("--score", required=True, help="score column")
    p.add_argument("--objective", required=True, action="append", metavar="SPEC",
                   help="objective spec (repeat for several)")
    p.add_argument("--pos-label", help="label value of the positive class")
    p.add_argument("--weight", help="sample weight column")
    p.add_argument("--by", help="segment column(s), comma separated, outermost first")
    p.add_argument("--min-support", type=int, default=30,
                   help="segments with fewer positives use their parent's threshold (default 30)")
    p.add_argument("--confidence", type=float,
                   help="interval level (default 0.95); constrained objectives then hold at the confidence bound")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="N stratified resamples to show how stable the chosen threshold is")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--json", metavar="PATH|-", help="write the JSON document (- for stdout, table suppressed)")
    g = p.add_argument_group("scale")
    g.add_argument("--sql", help="read the rows of a DuckDB query instead of DATA")
    g.add_argument("--db", help="the database --sql runs in: a DuckDB file, or a postgresql:// URL")
    g.add_argument("--in-memory", action="store_true", help="never switch to out-of-core counting")
    g.add_argument("--bins", type=positive_int,
                   help="binned mode: choose from N score bins (constant memory), report the "
                        "worst-case bounds, then refine exactly around the choice")
    g.add_argument("--range", default="0,1", metavar="LO,HI", help="score range of the bins (default 0,1)")
    g.add_argument("--no-refine", action="store_true",
                   help="with --bins: one pass only (the choice is the best bin edge, with its bounds)")
    p.set_defaults(run=run)


def _objective(spec: str, confidence: float | None):
    objective = parse(spec)
    if confidence is not None and isinstance(objective, Constrained) and objective.confidence is None \
            and objective.constraints:
        objective = Constrained(objective.target, objective.sense, objective.constraints, confidence)
    return objective


def run(args) -> int:
    from thresher.cli.evaluate import require_source, use_out_of_core

    confidence = 0.95 if args.confidence is None else args.confidence
    objectives = [_objective(s, args.confidence) for s in args.objective]
    require_source(args)
    if args.bins:
        return run_binned(args, objectives, confidence)
    if args.data == "-":
        from thresher.errors import InputError

        raise InputError("Standard input (-) is read once, as a stream: use --bins N --no-refine, or save the data to "
                         "a file.")
    if use_out_of_core(args):
        return run_streamed(args, objectives, confidence)
    extra = sorted({c for o in objectives for c in o.columns()})
    cols = load(args.data, label=args.label, score=args.score, weight=args.weight, by=args.by,
                pos_label=args.pos_label, extra=extra, progress=True)
    results = []
    for objective in objectives:
        results.append(tune_one(cols, objective, args, confidence))
    return output(results, args, Path(args.data).name)


def run_streamed(args, objectives, confidence: float) -> int:
    """Exact tuning on curves counted out of core (segments nested or not, constant costs)."""
    from thresher.errors import InputError
    from thresher.scale.outofcore import exact_curves
    from thresher.scale.sources import open_source
    from thresher.select.select import select_on_level_curves

    if args.bootstrap:
        raise InputError("--bootstrap needs the rows in memory; drop it or use --in-memory.")
    by = tuple(b.strip() for b in args.by.split(",")) if args.by else ()
    curves = exact_curves(open_source(args.data, sql=args.sql, database=args.db), label=args.label,
                          score=args.score, by=by, pos_label=args.pos_label, weight=args.weight, progress=True)
    levels = curves.level_curves()
    results = []
    for objective in objectives:
        if by:
            result = select_on_level_curves(levels, objective, by=by, min_support=args.min_support,
                                            confidence=confidence, names=list(curves.segments)).to_dict()
        else:
            result = select_on_curve(curves.overall, objective, confidence=confidence).to_dict()
            result["segments"] = {}
        results.append(result)
    return output(results, args, args.data or "sql")


def run_binned(args, objectives, confidence: float) -> int:
    """``--bins N``: one binned pass with worst-case bounds, then (unless --no-refine) an exact pass
    over the rows of the bins where the best threshold can lie."""
    from thresher.errors import InputError
    from thresher.scale.binned_select import select_binned

    if args.weight:
        raise InputError("Binned tuning does not take weights yet; drop --bins (exact, in memory) if you need them.")
    if args.bootstrap:
        raise InputError("--bootstrap needs the rows in memory; drop --bins.")
    try:
        lo, hi = (float(v) for v in args.range.split(","))
    except ValueError:
        raise InputError(f"--range takes LO,HI such as 0,1; got '{args.range}'.") from None
    if args.data == "-" and (len(objectives) > 1 or not args.no_refine):
        raise InputError("Standard input (-) is read once: tune one objective with --bins N --no-refine (the best bin "
                         "edge and its bounds), or save the stream to a file for the exact refinement pass.")
    results = []
    for objective in objectives:
        chosen = select_binned(args.data, label=args.label, score=args.score, objective=objective, by=args.by,
                               pos_label=args.pos_label, bins=args.bins, range=(lo, hi), refine=not args.no_refine,
                               min_support=args.min_support, confidence=confidence, sql=args.sql, database=args.db)
        results.append(chosen.to_dict())
    return output(results, args, args.data or "sql")


def output(results: list[dict], args, title: str) -> int:
    """The tables (unless --json -) and the JSON document of one or several objectives."""
    document = results[0] if len(results) == 1 else {"results": results}
    if args.json != "-":
        for result in results:
            render(result, title)
    if args.json:
        write_json(document, args.json)
    return 0


def tune_one(cols, objective, args, confidence: float) -> dict:
    """The JSON document for one objective (overall point, segments, calibration, bootstrap)."""
    if cols.segments is not None:
        result = select_by_segment(cols, objective, by=cols.segments.names, min_support=args.min_support,
                                   confidence=confidence).to_dict()
    else:
        result = select_on_curve(Curve.from_columns(cols), objective, Context(cols), confidence=confidence).to_dict()
        result["segments"] = {}
    if isinstance(objective, MinCost) and result.get("bayes_threshold") is not None:
        from thresher.errors import InputError
        from thresher.stats.calibration import calibration_check

        try:
            check = calibration_check(cols.y, cols.score, cols.weight, cost=result["cost"],
                                      bayes_cost=result["bayes_cost"], bayes_threshold=result["bayes_threshold"])
            result["calibration"] = check.to_dict()
            result["calibration"]["verdict"] = check.verdict()
        except InputError as exc:
            result["calibration"] = {"verdict": f"not applicable: {exc}"}
    if args.bootstrap:
        from thresher.select.stability import threshold_stability

        result["bootstrap"] = threshold_stability(cols, objective, n_resamples=args.bootstrap,
                                                  seed=args.seed).to_dict(confidence)
    return result


def _interval(d: dict, name: str) -> str:
    lo, hi = d["intervals"].get(name, [None, None])
    return f"{fmt(d[name], 3)} [{fmt(lo, 3)}, {fmt(hi, 3)}]"


def render(result: dict, title: str) -> None:
    has_cost = "cost" in result
    table = Table(title=f"thresher tune: {result['objective']}  ({title})", title_justify="left")
    table.add_column("segment", no_wrap=True)
    table.add_column("threshold", justify="right")
    table.add_column(f"precision [{result['confidence']:.0%} CI]", justify="right")
    table.add_column("recall [CI]", justify="right")
    table.add_column("F1", justify="right")
    table.add_column("alerts", justify="right")
    if has_cost:
        table.add_column("cost", justify="right")
    rows = [("overall", result)] + list(result["segments"].items())
    for name, d in rows:
        alerts = f"{fmt(d['tp'] + d['fp'])} ({fmt(100 * d['alert_rate'], 2)}%)"
        cells = [name + (" *" if d.get("fallback") else ""), fmt(d["threshold"], 4), _interval(d, "precision"),
                 _interval(d, "recall"), fmt(d["f1"], 3), alerts]
        if has_cost:
            cells.append(fmt(d.get("cost")) if d.get("cost") is not None else "")
        table.add_row(*cells)
    console.print(table)
    for name, d in rows[1:]:
        if d.get("fallback"):
            console.print(f"  * {name}: {d['notes'][0]}")
    if result.get("bayes_threshold") is not None:
        console.print(f"  Bayes threshold (if scores were calibrated probabilities): {result['bayes_threshold']:.4f}, "
                      f"cost {fmt(result['bayes_cost'])} vs {fmt(result['cost'])} at the chosen threshold")
    if "calibration" in result:
        console.print(f"  calibration: {result['calibration']['verdict']}")
    if "bootstrap" in result:
        b = result["bootstrap"]
        lo, hi = b["threshold_interval"]
        console.print(f"  threshold stability ({b['resamples']} resamples): {result['confidence']:.0%} of chosen "
                      f"thresholds in [{lo:.4f}, {hi:.4f}]" + (f"; {b['infeasible_resamples']} infeasible"
                                                                if b["infeasible_resamples"] else ""))
    for note in result.get("notes", []):
        console.print(f"  note: {note}")
    if "binned" in result:
        render_binned(result["binned"])


def render_binned(binned: dict) -> None:
    b = binned["bounds"]
    ranges = ", ".join(f"[{fmt(lo, 4)}, {fmt(hi, 4)})" for lo, hi in b["threshold_ranges"]) or "none"
    console.print(f"  binned ({binned['bins']} bins on [{binned['range'][0]:g}, {binned['range'][1]:g}]): best bin "
                  f"edge {b['value_name']} {fmt(b['at_best_edge'], 4)}, no threshold beats {fmt(b['best_possible'], 4)}; "
                  f"a better one can only lie in {ranges} (precision {fmt(b['precision_range'][0], 3)}-"
                  f"{fmt(b['precision_range'][1], 3)}, recall {fmt(b['recall_range'][0], 3)}-"
                  f"{fmt(b['recall_range'][1], 3)} there)")
    if binned["refined"]:
        console.print(f"  refined: {fmt(binned['refined_rows'])} rows in those bins counted exactly; the choice "
                      "above is exact (the same as counting every row)")
    elif binned.get("note"):
        console.print(f"  {binned['note']}")
    else:
        console.print("  not refined (--no-refine): the choice is the best bin edge; its metrics are exact")
