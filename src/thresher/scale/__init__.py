"""Scale: out-of-core data and distributed frames (Spark, Dask).

Submodules are imported on demand (``from thresher.scale import spark``) so that importing
thresher never imports pyspark or dask.
"""
