"""Writes that never leave a half-written file: write a sibling temp file, fsync, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _process_umask() -> int:
    # read once at import, while single-threaded: os.umask can only be read by setting it
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _process_umask()


def write_atomic(path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically: a failure leaves the old file untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would (0666 less the umask)
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
