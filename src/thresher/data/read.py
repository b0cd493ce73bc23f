"""Read any supported source into an Arrow table holding only the requested columns.

Files are streamed in Arrow record batches (CSV blocks, Parquet row groups) so only the needed
columns are ever materialised; ``progress=True`` shows a rich progress bar on stderr for long reads.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa

from thresher.errors import InputError

_CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.bz2")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
PROGRESS_MIN_BYTES = 32 * 1024 * 1024


def _missing(columns: Sequence[str], available: Sequence[str], where: str) -> None:
    for col in columns:
        if col not in available:
            close = difflib.get_close_matches(col, list(available), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            shown = ", ".join(repr(a) for a in list(available)[:20])
            raise InputError(f"Column '{col}' not found in {where}; it has {shown}.{hint}")


@contextmanager
def _progress_bar(total: float, description: str, enabled: bool):
    if not enabled:
        yield lambda advance: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda advance: bar.update(task, advance=advance)


class _CountingFile:
    """A read-only file wrapper that reports bytes read (for the CSV progress bar)."""

    def __init__(self, handle, report):
        self._handle = handle
        self._report = report
        self.closed = False

    def read(self, size=-1):
        chunk = self._handle.read(size)
        self._report(len(chunk))
        return chunk

    def readable(self):
        return True

    def close(self):
        self.closed = True
        self._handle.close()


def _read_csv(path: Path, columns: list[str], progress: bool) -> pa.Table:
    from pyarrow import csv

    delimiter = "\t" if ".tsv" in path.suffixes else ","
    parse = csv.ParseOptions(delimiter=delimiter)
    try:
        with csv.open_csv(path, parse_options=parse) as head:
            names = head.schema.names
    except (pa.ArrowInvalid, StopIteration) as exc:
        raise InputError(f"Could not read '{path}' as CSV: {exc}. Check that it is a CSV file with a header row.") from exc
    _missing(columns, names, f"'{path}'")
    size = path.stat().st_size
    convert = csv.ConvertOptions(include_columns=columns)
    with _progress_bar(size, f"reading {path.name}", progress and size >= PROGRESS_MIN_BYTES) as advance:
        with open(path, "rb") as raw:
            source = _CountingFile(raw, advance) if progress else raw
            if path.suffix in (".gz", ".bz2"):
                source = pa.CompressedInputStream(source, path.suffix.lstrip(".").replace("gz", "gzip"))
            try:
                reader = csv.open_csv(source, parse_options=parse, convert_options=convert)
                batches = list(reader)
                schema = reader.schema
            except pa.ArrowInvalid as exc:
                raise InputError(f"Could not parse '{path}' as CSV: {exc}") from exc
    return pa.Table.from_batches(batches, schema=schema)


def parquet_files(path: Path) -> list[Path]:
    """A Parquet file, or the Parquet files under a directory (recursively; names starting with '.' or
    '_', such as Spark's _SUCCESS, and files of other types, such as a README, are left out)."""
    if not path.is_dir():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(_PARQUET_SUFFIXES)
                   and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
    if not found:
        raise InputError(f"The directory '{path}' holds no Parquet files (*.parquet, *.pq, *.parq).")
    return found


@contextmanager
def reading(what, hint: str = "Check that every file is intact Parquet (or move the others out of the directory)."):
    """Arrow's errors while reading ``what`` (a damaged or truncated file) as thresher's InputError."""
    try:
        yield
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"Reading '{what}' failed: {exc}. {hint}") from None


def _widest_schema(files: list[str]) -> pa.Schema:
    """The first file's columns, each in a type that holds every file's values: Arrow would otherwise
    cast every file to the first one's types, and a float32 first file would round the float64 scores
    of the others (or turn them into inf) without a word. Read from the files' footers only."""
    import pyarrow.parquet as pq

    schemas = [pq.read_schema(f) for f in files]
    first = schemas[0]
    if all(s.equals(first) for s in schemas[1:]):
        return first
    fields = []
    for field in first:
        types = [s.field(field.name).type for s in schemas if field.name in s.names]
        if any(t != field.type for t in types):
            plain = {t.value_type if pa.types.is_dictionary(t) else t for t in types}
            try:
                field = field.with_type(pa.unify_schemas([pa.schema([(field.name, t)]) for t in plain],
                                                         promote_options="permissive").field(0).type)
            except (pa.ArrowTypeError, pa.ArrowInvalid):  # no common type: reading that column says which file
                pass
        fields.append(field)
    return pa.schema(fields, metadata=first.metadata)


def parquet_dataset(paths):
    """A pyarrow dataset over a Parquet file, a directory (see :func:`parquet_files`) or a list of
    those, with thresher's error for files that are not Parquet."""
    import pyarrow.dataset as ds

    paths = [paths] if isinstance(paths, (str, Path)) else paths
    files = [str(f) for p in paths for f in parquet_files(Path(p))]
    try:
        if len(files) == 1:
            return ds.dataset(files[0], format="parquet")
        return ds.dataset(files, format="parquet", schema=_widest_schema(files))
    except (pa.ArrowInvalid, OSError) as exc:
        what = f"'{files[0]}'" if len(files) == 1 else f"the {len(files)} files under '{paths[0]}'"
        raise InputError(f"Could not read {what} as Parquet: {exc}") from None


def _read_parquet(path: Path, columns: list[str], progress: bool) -> pa.Table:
    dataset = parquet_dataset(path)
    _missing(columns, dataset.schema.names, f"'{path}'")
    total = sum(f.stat().st_size for f in parquet_files(path))
    batches = []
    with reading(path):
        rows = dataset.count_rows()
        with _progress_bar(rows, f"reading {path.name}", progress and total >= PROGRESS_MIN_BYTES) as advance:
            for batch in dataset.to_batches(columns=columns):
                batches.append(batch)
                advance(batch.num_rows)
    return pa.Table.from_batches(batches, schema=dataset.schema.select(columns) if not batches else batches[0].schema)


def _read_path(path: Path, columns: list[str], progress: bool) -> pa.Table:
    if not path.exists():
        raise InputError(f"File not found: '{path}'. Check the path (relative paths start at {os.getcwd()}).")
    name = path.name.lower()
    if path.is_dir() or name.endswith(_PARQUET_SUFFIXES):
        return _read_parquet(path, columns, progress)
    if name.endswith(_CSV_SUFFIXES):
        return _read_csv(path, columns, progress)
    raise InputError(
        f"Don't know how to read '{path}': use a .csv/.tsv (optionally .gz) or .parquet file, or a directory of Parquet files."
    )


def _frame_module(data) -> str:
    return type(data).__module__.split(".")[0]


def read_table(data, columns: list[str], *, progress: bool = False) -> pa.Table:
    """An Arrow table with exactly ``columns`` from a path, DataFrame, Arrow table or dict of columns."""
    if isinstance(data, (str, os.PathLike)):
        return _read_path(Path(data), columns, progress)
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        _missing(columns, data.column_names, "the Arrow table")
        return data.select(columns)
    module = _frame_module(data)
    if module == "pandas":
        _missing(columns, [str(c) for c in data.columns], "the pandas DataFrame")
        return pa.table({c: pa.Array.from_pandas(data[c]) for c in columns})
    if module == "polars":
        _missing(columns, data.columns, "the polars DataFrame")
        return data.select(columns).to_arrow()
    if isinstance(data, Mapping):
        _missing(columns, [str(k) for k in data], "the dict of columns")
        arrays = {c: _as_arrow(data[c], c) for c in columns}
        lengths = {c: len(a) for c, a in arrays.items()}
        if len(set(lengths.values())) > 1:
            raise InputError(f"Columns have different lengths: {lengths}. Every column needs one value per row.")
        return pa.table(arrays)
    raise InputError(
        f"thresher can't read data of type {type(data).__name__}. Pass a path to a CSV or Parquet file, "
        "a pandas or polars DataFrame, a pyarrow Table, or a dict of columns."
    )


def _as_arrow(values, name: str) -> pa.Array:
    """One column (numpy array, list, Arrow array, pandas/polars Series) as an Arrow array."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    module = _frame_module(values)
    if module == "pandas":
        return pa.Array.from_pandas(values)
    if module == "polars":
        return values.to_arrow()
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"'{name}' must be one-dimensional; got shape {arr.shape}. Pass one value per row.")
    try:
        return pa.array(arr)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"'{name}' holds values of mixed or unsupported types ({exc}).") from exc


def iter_batches(path, columns: list[str] | None = None, *, batch_rows: int = 1 << 20, progress: bool = False):
    """Stream a CSV or Parquet file (or Parquet directory) as Arrow record batches.

    ``columns=None`` reads every column. Yields batches; a progress bar shows on stderr when asked.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"File not found: '{path}'. Check the path (relative paths start at {os.getcwd()}).")
    name = path.name.lower()
    if path.is_dir() or name.endswith(_PARQUET_SUFFIXES):
        dataset = parquet_dataset(path)
        if columns is not None:
            _missing(columns, dataset.schema.names, f"'{path}'")
        with reading(path):
            rows = dataset.count_rows()
        with _progress_bar(rows, f"reading {path.name}", progress) as advance:
            with reading(path):
                for batch in dataset.to_batches(columns=columns, batch_size=batch_rows):
                    advance(batch.num_rows)
                    yield batch
    elif name.endswith(_CSV_SUFFIXES):
        from pyarrow import csv

        delimiter = "\t" if ".tsv" in path.suffixes else ","
        with csv.open_csv(path, parse_options=csv.ParseOptions(delimiter=delimiter)) as head:
            names = head.schema.names
        if columns is not None:
            _missing(columns, names, f"'{path}'")
        convert = csv.ConvertOptions(include_columns=columns) if columns is not None else None
        with _progress_bar(path.stat().st_size, f"reading {path.name}", progress) as advance:
            with open(path, "rb") as raw:
                source = _CountingFile(raw, advance)
                reader = csv.open_csv(source, parse_options=csv.ParseOptions(delimiter=delimiter),
                                      convert_options=convert, read_options=csv.ReadOptions(block_size=1 << 24))
                yield from reader
    else:
        raise InputError(f"Don't know how to read '{path}': use .csv/.tsv or .parquet (or a Parquet directory).")
