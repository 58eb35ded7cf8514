"""The one way `mdeploy` writes a file: atomically, so a reader (Argo CD, git, a person, the
next command) sees the old file or the new one, never a part."""

from __future__ import annotations

import io
import os
import tarfile
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


def extract_tar(archive: bytes, dest: Path) -> None:
    """Extract a tar archive (e.g. `git archive`) into `dest`, refusing members that would land
    outside it. Python >= 3.11.4 does that with `filter="data"`; Debian 12's 3.11.2 lacks the
    filter argument, so there the same refusal is done here before extracting."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
            return
        root = dest.resolve()
        for member in tar.getmembers():
            target = (root / member.name).resolve()
            if not (member.isfile() or member.isdir() or member.issym()) or not target.is_relative_to(root):
                raise ValueError(f"refusing to extract {member.name!r}: not a plain file inside {dest}")
            if member.issym() and not (target.parent / member.linkname).resolve().is_relative_to(root):
                raise ValueError(f"refusing to extract {member.name!r}: its link points outside {dest}")
        tar.extractall(dest)  # noqa: S202 - every member was checked above
