"""Re-readable sources of Arrow record batches: Parquet/CSV paths and globs, DuckDB SQL, PostgreSQL."""

from __future__ import annotations

import glob as globbing
from pathlib import Path

import pyarrow as pa

from thresher.data.read import iter_batches, parquet_dataset, reading
from thresher.errors import InputError, require

BATCH_ROWS = 1 << 20


class Source:
    """Something that can be read, batch by batch, as many times as needed (out-of-core is two passes)."""

    def __init__(self, describe: str, open_batches, count_rows=None):
        self.describe = describe
        self._open = open_batches
        self._count = count_rows

    def batches(self, columns: list[str]):
        return self._open(columns)

    def count_rows(self) -> int | None:
        return self._count() if self._count else None


def _paths(pattern: str) -> list[Path]:
    if any(ch in pattern for ch in "*?["):
        found = sorted(Path(p) for p in globbing.glob(pattern, recursive=True))
        if not found:
            raise InputError(f"No files match '{pattern}'.")
        return found
    return [Path(pattern)]


def from_path(path) -> Source:
    """A file, a directory of Parquet files, or a glob (``'scores/*.parquet'``)."""
    paths = _paths(str(path))
    for p in paths:
        if not p.exists():
            raise InputError(f"File not found: '{p}'.")
    parquet = all(p.is_dir() or p.suffix.lower() in (".parquet", ".pq", ".parq") for p in paths)

    def open_batches(columns):
        if parquet:
            dataset = parquet_dataset(paths)
            missing = [c for c in columns if c not in dataset.schema.names]
            if missing:
                raise InputError(f"Column '{missing[0]}' not found in '{path}'; it has {dataset.schema.names}.")
            with reading(path):  # a damaged file found mid-read
                yield from dataset.to_batches(columns=columns, batch_size=BATCH_ROWS)
        else:
            for p in paths:
                yield from iter_batches(p, columns, batch_rows=BATCH_ROWS)

    def count_rows():
        if not parquet:
            return None
        with reading(path):
            return parquet_dataset(paths).count_rows()

    return Source(str(path), open_batches, count_rows)


STDIN = "-"


def from_stdin() -> Source:
    """CSV rows on standard input: an unbounded stream, read once (binned mode, one pass)."""
    used = []

    def open_batches(columns):
        import sys

        from pyarrow import csv

        if used:
            raise InputError("Standard input can be read only once, and this needs a second pass: use binned mode "
                             "(--bins N; tune also with --no-refine), or save the stream to a file first.")
        used.append(True)
        try:
            reader = csv.open_csv(sys.stdin.buffer, read_options=csv.ReadOptions(block_size=1 << 22),
                                  convert_options=csv.ConvertOptions(include_columns=columns))
        except pa.ArrowKeyError:
            raise InputError(f"Standard input lacks a column: it needs {', '.join(repr(c) for c in columns)} in "
                             "its header row. Check the names given to --label, --score, --weight and --by.") from None
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"Could not read standard input as CSV with a header row: {exc}") from None
        with reading("standard input", hint="Check that it is CSV with a header row."):
            yield from reader

    return Source("standard input", open_batches)


def from_sql(sql: str, database: str | None = None) -> Source:
    """A DuckDB query (over Parquet files, CSV, or a DuckDB database file), re-run for each pass."""

    def open_batches(columns):
        import duckdb
        con = duckdb.connect(database or ":memory:", read_only=bool(database))
        try:
            relation = con.sql(f"select {', '.join(_quote(c) for c in columns)} from ({sql}) as q")
            # DuckDB 2.x names it to_arrow_reader, 1.x fetch_record_batch
            reader = (relation.to_arrow_reader(BATCH_ROWS) if hasattr(relation, "to_arrow_reader")
                      else relation.fetch_arrow_reader(BATCH_ROWS))
        except duckdb.Error as exc:
            raise InputError(f"The SQL query failed: {exc}") from None
        try:
            yield from reader
        finally:
            con.close()

    return Source(f"sql: {sql}", open_batches)


def from_postgres(url: str, sql: str) -> Source:
    """A PostgreSQL query read through a server-side cursor (bounded memory), re-run for each pass."""

    def open_batches(columns):
        psycopg = require("psycopg", "postgres", "Reading from PostgreSQL")
        query = f"select {', '.join(_quote(c) for c in columns)} from ({sql}) as q"
        try:
            conn = psycopg.connect(url)
        except psycopg.Error as exc:
            raise InputError(f"Could not connect to PostgreSQL at {url}: {exc}") from None
        try:
            # binary results: a float4 column arrives as its exact float32 value, not a decimal rendering
            with conn.cursor(name="thresher_stream", binary=True) as cur:
                try:
                    cur.execute(query)
                except psycopg.Error as exc:
                    raise InputError(f"The PostgreSQL query failed: {exc}") from None
                while rows := cur.fetchmany(100_000):
                    yield pa.RecordBatch.from_pydict({c: [r[i] for r in rows] for i, c in enumerate(columns)})
        finally:
            conn.close()

    return Source(f"postgresql: {sql}", open_batches)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def open_source(data=None, *, sql: str | None = None, database: str | None = None) -> Source:
    """The source for ``data`` (a path/glob) or ``sql`` (DuckDB, or PostgreSQL when ``database`` is a
    ``postgresql://`` URL); a :class:`Source` is returned as it is."""
    if isinstance(data, Source):
        return data
    if sql:
        if database and database.startswith(("postgresql://", "postgres://")):
            return from_postgres(database, sql)
        return from_sql(sql, database)
    if data is None:
        raise InputError("Give a data path (a file, a directory or a glob) or --sql QUERY.")
    if data == STDIN:
        return from_stdin()
    if isinstance(data, str) and data.startswith(("postgresql://", "postgres://")):
        raise InputError("A PostgreSQL URL needs a query: --sql 'select label, score from ...' with the URL as the "
                         "database (--db postgresql://...).")
    return from_path(data)
