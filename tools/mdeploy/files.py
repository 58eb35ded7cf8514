"""The one way `mdeploy` writes a file: atomically, so a reader (Argo CD, git, a person, the
next command) sees the old file or the new one, never a part."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, *, durable: bool = True, mode: int | None = None) -> Path:
    """Replace `path` with `data` via a temporary file in the same directory and `os.replace`.

    The file keeps its current permissions unless `mode` is given (new files get 0o644).
    `durable=False` skips the fsync: for caches, where losing an entry in a crash only costs a
    re-render, and thousands of fsyncs would cost seconds.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if isinstance(data, bytes):
            fh = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        with fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is None:
            try:
                mode = path.stat().st_mode & 0o777
            except FileNotFoundError:
                mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
