"""Running a gate: load and verify the golden data, find the baseline, judge every check, record the run."""

from __future__ import annotations

import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from thresher.data.columns import Columns
from thresher.data.fingerprint import fingerprint
from thresher.data.load import load
from thresher.errors import GateError, InputError
from thresher.gate.evaluate import Options, evaluate_check
from thresher.gate.gatefile import Dataset, Gate
from thresher.gate.measure import Sample
from thresher.gate.result import DatasetSummary, GateResult
from thresher.gate.rows import NOT_FLAGGED, rows_fingerprint
from thresher.gate.spec import AtObjective, AtPolicy
from thresher.gate.store import RunStore, StoredDataset, display_url, open_store


@dataclass
class Golden:
    """A loaded, verified golden dataset."""

    spec: Dataset
    sample: Sample
    fingerprint: str
    rows_fingerprint: str


def git_state(cwd=None) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git repository around ``cwd``; ``(None, None)`` outside one."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return None, None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                                capture_output=True, text=True, timeout=30)
        return commit.stdout.strip(), (bool(status.stdout.strip()) if status.returncode == 0 else None)
    except (OSError, subprocess.SubprocessError):
        return None, None


def _decisions(policy, cols: Columns) -> np.ndarray:
    """The tier each row reaches under the policy (index into its actions), or NOT_FLAGGED."""
    # the policy decides on the dataset's score column: the scores of the model under test
    table = pa.table({policy.score: pa.array(cols.score), **{f: cols.extra[f] for f in policy.segments}})
    tier = policy.decide_table(table).column("tier")
    tier = tier.combine_chunks() if isinstance(tier, pa.ChunkedArray) else tier
    codes = tier.indices.to_numpy(zero_copy_only=False)
    return np.where(codes >= len(policy.model.actions), NOT_FLAGGED, codes).astype(np.uint8)


def load_golden(gate: Gate, spec: Dataset) -> Golden:
    """Load one golden dataset, verify its pinned fingerprints, and decide its rows under the policy."""
    extra = set()
    for gc in gate.checks:
        if gc.dataset == spec.name and isinstance(gc.check.at, AtObjective):
            extra.update(gc.check.at.objective.columns())
    if gate.policy is not None:
        extra.update(gate.policy.segments)
    try:
        cols = load(spec.path, label=spec.label, score=spec.score, weight=spec.weight,
                    by=list(spec.segments) or None, pos_label=spec.pos_label, extra=tuple(sorted(extra)))
    except InputError as exc:
        raise GateError(f"Golden dataset '{spec.name}' (datasets.{spec.name}, {spec.path}): {exc}") from None
    full, rows = fingerprint(cols), rows_fingerprint(cols)
    for field, pinned, actual, what in (("fingerprint", spec.fingerprint, full, "labels, scores, weights and segments"),
                                        ("rows_fingerprint", spec.rows_fingerprint, rows,
                                         "labels, weights and segments")):
        if pinned is not None and pinned != actual:
            raise GateError(
                f"Golden dataset '{spec.name}' ({spec.path}) no longer matches its pinned {field} "
                f"(datasets.{spec.name}.{field}): its {what} changed.\n"
                f"  pinned: {pinned}\n"
                f"  actual: {actual}\n"
                "If the change is intended, review it and pin the actual value; otherwise restore the golden file.")
    decisions, actions = None, ()
    if gate.policy is not None:
        try:
            decisions = _decisions(gate.policy, cols)
        except InputError as exc:
            raise GateError(f"Golden dataset '{spec.name}': the policy ({gate.policy_path}) cannot decide its rows: "
                            f"{exc}") from None
        actions = tuple(gate.policy.model.actions)
    return Golden(spec, Sample(cols, decisions, actions), full, rows)


def _summary(golden: Golden, gate: Gate) -> DatasetSummary:
    def metrics(sample: Sample) -> dict:
        c = sample.curve
        return {"n": len(sample), "positives": c.positives, "negatives": c.negatives, "roc_auc": c.roc_auc(),
                "average_precision": c.average_precision(), "pr_auc": c.pr_auc()}

    sample = golden.sample
    segments = {}
    if sample.cols.segments is not None:
        segments = {label: metrics(sub) for label, _, sub in sample.segments}
    overall = metrics(sample)
    return DatasetSummary(golden.spec.name, str(golden.spec.path), len(sample), overall["positives"],
                          overall["negatives"], golden.fingerprint, golden.rows_fingerprint, overall, segments,
                          policy=f"{gate.policy.name} v{gate.policy.version}" if gate.policy is not None else None)


def _as_stored(sample: Sample) -> Sample:
    """The sample with its scores rounded to float32, as the run history stores them."""
    return sample.with_scores(sample.cols.score.astype(np.float32), sample.decisions, sample.actions)


def _baselines(gate: Gate, goldens: dict[str, Golden], store: RunStore | None, baseline: str | None):
    """``{dataset: (run_id or None, baseline sample or None, note)}`` for the datasets with baseline checks."""
    needed = list(dict.fromkeys(gc.dataset for gc in gate.checks if gc.check.baseline))
    out = {}
    if baseline is None:
        return {name: (None, None, "no baseline: pass --baseline latest or a run id") for name in needed}
    explicit = None if baseline == "latest" else store.resolve(baseline)  # a bad id is an error even if unused
    for name in needed:
        golden = goldens[name]
        if explicit is None:
            run_id = store.latest_passing(gate.name, name, golden.rows_fingerprint)
            if run_id is None:
                out[name] = (None, None, f"no baseline yet: no passing run of gate '{gate.name}' on these rows of "
                                         f"'{name}' in {display_url(store.url)}; this run can become the baseline")
                continue
        else:
            run_id = explicit
        stored = store.dataset(run_id, name, with_rows=False)
        if stored.rows_fingerprint != golden.rows_fingerprint:
            raise GateError(
                f"Baseline run {run_id} scored different rows of dataset '{name}': rows fingerprint "
                f"{stored.rows_fingerprint} then, {golden.rows_fingerprint} now. A paired comparison needs the same "
                "rows in the same order. Use --baseline latest (the latest passing run on these rows) or a run "
                "recorded on the current golden data.")
        sample = golden.sample.with_scores(stored.scores, stored.decisions, stored.actions)
        out[name] = (run_id, sample, "")
    return out


def check_gate(gate, *, baseline: str | None = None, store=None, record: bool | None = None) -> GateResult:
    """Run every check of a gate (a :class:`Gate` or a path to its YAML file).

    ``baseline``: ``None`` (baseline checks are skipped), ``"latest"`` (per dataset, the most recent
    passing run of this gate on the same rows) or a run id. ``store``: a :class:`RunStore` or its URL;
    opened at :func:`~thresher.gate.store.default_url` when a baseline or recording needs one.
    ``record``: store this run (default: when a store is given).
    """
    from thresher import __version__

    start = time.perf_counter()
    gate = gate if isinstance(gate, Gate) else Gate.load(gate)
    owned = store is None or isinstance(store, str)
    if record is None:
        record = store is not None
    if isinstance(store, str) or (store is None and (record or baseline is not None)):
        store = open_store(store)
    else:
        owned = False
    try:
        goldens = {name: load_golden(gate, spec) for name, spec in gate.datasets.items()}
        baselines = _baselines(gate, goldens, store, baseline)
        options = Options(gate.confidence, gate.bootstrap, gate.seed)
        stored_samples = {name: _as_stored(goldens[name].sample) for name in baselines}
        results = []
        for gc in gate.checks:
            golden = goldens[gc.dataset]
            if not gc.check.baseline:
                results.append(evaluate_check(gc, golden.sample, options=options))
                continue
            run_id, base, note = baselines[gc.dataset]
            if base is not None and isinstance(gc.check.at, AtPolicy) and base.decisions is None:
                base, note = None, f"baseline run {run_id} has no policy decisions for '{gc.dataset}'"
            result = evaluate_check(gc, stored_samples[gc.dataset], baseline=base, baseline_note=note,
                                    options=options)
            if base is not None:
                result.details["baseline_run"] = run_id
            results.append(result)
        summaries = {name: _summary(g, gate) for name, g in goldens.items()}
        for name, (run_id, _, _) in baselines.items():
            summaries[name].baseline_run = run_id
        commit, dirty = git_state()
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        result = GateResult(uuid.uuid4().hex[:12], gate.name, now, results, summaries, gate.confidence,
                            str(gate.path) if gate.path else None, commit, dirty, baseline, __version__,
                            time.perf_counter() - start)
        if record:
            store.save(result, [_stored(g) for g in goldens.values()])
            result.recorded_in = display_url(store.url)
        return result
    finally:
        if owned and store is not None:
            store.close()


def _stored(golden: Golden) -> StoredDataset:
    cols = golden.sample.cols
    return StoredDataset(golden.spec.name, golden.fingerprint, golden.rows_fingerprint, cols.score, cols.y,
                         cols.weight, cols.segments, golden.sample.decisions, golden.sample.actions)
