"""Applying a policy to files: streamed batch by batch, decisions appended to the input columns."""

from __future__ import annotations

import os
from pathlib import Path
from queue import Full, Queue
from threading import Thread

import pyarrow as pa

from thresher.data.read import iter_batches
from thresher.errors import InputError
from thresher.policy.policy import DECISION_COLUMNS, Policy


def apply_file(policy: Policy, source, target, *, keep=None, progress: bool = False) -> int:
    """Decide every row of ``source`` (CSV/Parquet) into ``target`` (.parquet or .csv); returns rows.

    ``keep`` lists the input columns copied to the output (default: all). The output is written to a
    temporary sibling and renamed at the end, so a failure never leaves a partial file behind.
    """
    target = Path(target)
    suffix = target.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InputError(f"Write decisions to a .parquet or .csv file; got '{target}'.")
    needed = [policy.score, *policy.segments]
    columns = None if keep is None else list(dict.fromkeys([*keep, *needed]))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    rows = 0
    # a writer thread overlaps encoding batch k with reading and deciding batch k+1 (both release the GIL)
    queue: Queue = Queue(maxsize=2)
    failure: list[BaseException] = []
    thread = None
    try:
        for batch in iter_batches(source, columns, progress=progress):
            table = pa.Table.from_batches([batch])
            decided = policy.decide_table(table, row_offset=rows)
            out = table if keep is None else table.select(list(dict.fromkeys(keep)))
            clash = [c for c in DECISION_COLUMNS if c in out.column_names]
            if clash:
                raise InputError(f"The input already has a column '{clash[0]}'; drop it or choose the kept columns "
                                 "with --keep.")
            for name in DECISION_COLUMNS:
                out = out.append_column(name, decided.column(name))
            if thread is None:
                thread = Thread(target=_write_all, args=(queue, tmp, out.schema, suffix, failure), daemon=True)
                thread.start()
            _put(queue, out, failure)
            rows += out.num_rows
        if thread is None:
            raise InputError(f"'{source}' has no rows to decide.")
        _put(queue, None, failure)
        thread.join()
        thread = None
        if failure:
            raise failure[0]
        os.replace(tmp, target)
    finally:
        if thread is not None:
            _stop(queue, thread)
        tmp.unlink(missing_ok=True)
    return rows


def _put(queue: Queue, item, failure: list) -> None:
    while True:
        if failure:
            raise failure[0]
        try:
            queue.put(item, timeout=0.1)
            return
        except Full:
            continue


def _stop(queue: Queue, thread: Thread) -> None:
    # an error upstream: tell the writer to finish, then drop its partial file
    while thread.is_alive():
        try:
            queue.put(None, timeout=0.1)
            break
        except Full:
            continue
    thread.join()


def _write_all(queue: Queue, path: Path, schema: pa.Schema, suffix: str, failure: list) -> None:
    writer = None
    try:
        writer = _writer(path, schema, suffix)
        while (table := queue.get()) is not None:
            writer.write_table(table) if suffix == ".parquet" else writer.write(table)
    except BaseException as exc:  # surfaced to the caller by _put / apply_file
        failure.append(exc)
        while queue.get() is not None:  # drain so the producer never blocks
            pass
    finally:
        if writer is not None:
            writer.close()


def _writer(path: Path, schema: pa.Schema, suffix: str):
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        # dictionary-encode only the low-cardinality columns: trying it on ids and scores is wasted work
        low = [f.name for f in schema if pa.types.is_dictionary(f.type)] + ["threshold", "policy_version"]
        return pq.ParquetWriter(path, schema, use_dictionary=low)
    from pyarrow import csv

    # CSV has no dictionary type: write decision labels as plain strings
    plain = pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema])
    return _CsvWriter(csv.CSVWriter(path, plain), plain)


class _CsvWriter:
    def __init__(self, writer, schema):
        self._writer, self._schema = writer, schema

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table.cast(self._schema))

    def close(self) -> None:
        self._writer.close()
