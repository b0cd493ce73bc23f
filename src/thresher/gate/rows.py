"""Golden rows as the run history keeps them: a fingerprint of the rows, and compact blobs.

Two fingerprints describe a golden dataset:

* ``fingerprint`` (:func:`thresher.data.fingerprint.fingerprint`): labels, scores, weights and
  segments. It changes whenever the model's scores change; pin it to freeze a golden file.
* ``rows_fingerprint`` (:func:`thresher.data.fingerprint.rows_fingerprint`): labels, weights and segments in row order, not
  the scores. Two runs with the same rows fingerprint scored the same cases, so their per-case
  scores pair up and a paired test can compare them.
"""

from __future__ import annotations

import json
import zlib

import numpy as np

from thresher.data.columns import Segments
from thresher.data.fingerprint import rows_fingerprint  # noqa: F401  (re-exported for the gate)

NOT_FLAGGED = 255  # decision code of a row below every tier of the policy ("otherwise")


def pack_array(values: np.ndarray, dtype: str) -> bytes:
    """zlib-compressed little-endian bytes of ``values`` as ``dtype`` (``"<f4"`` for scores)."""
    return zlib.compress(np.ascontiguousarray(values, dtype=dtype).tobytes(), 6)


def unpack_array(blob: bytes, dtype: str, n: int) -> np.ndarray:
    values = np.frombuffer(zlib.decompress(bytes(blob)), dtype=dtype)
    if values.shape[0] != n:
        from thresher.errors import GateError

        raise GateError(f"A stored array has {values.shape[0]} values where {n} rows were recorded: the run "
                        "history is damaged. Record a new baseline run.")
    return values.astype(np.dtype(dtype).newbyteorder("="))


def pack_labels(y: np.ndarray) -> bytes:
    return zlib.compress(np.packbits(np.asarray(y, dtype=bool)).tobytes(), 6)


def unpack_labels(blob: bytes, n: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(zlib.decompress(bytes(blob)), np.uint8), count=n).astype(np.uint8)


def pack_segments(segments: Segments | None) -> tuple[str | None, bytes | None]:
    """``(json of names and keys, codes blob)``, or ``(None, None)`` without segments."""
    if segments is None:
        return None, None
    keys = [[v if v is None or isinstance(v, (bool, int, float, str)) else str(v) for v in k] for k in segments.keys]
    return json.dumps({"names": list(segments.names), "keys": keys}), pack_array(segments.codes, "<i4")


def unpack_segments(text: str | None, blob: bytes | None, n: int) -> Segments | None:
    if text is None or blob is None:
        return None
    meta = json.loads(text)
    codes = unpack_array(blob, "<i4", n).astype(np.int64)
    return Segments(tuple(meta["names"]), codes, [tuple(k) for k in meta["keys"]])
