"""Loading and validation: arrays, pandas, polars, Arrow, CSV and Parquet become clean columns."""

from thresher.data.columns import Columns, Segments
from thresher.data.load import from_arrays, load

__all__ = ["Columns", "Segments", "from_arrays", "load"]
