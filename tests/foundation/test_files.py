"""mdeploy.files: the one atomic write and the one safe tar extraction."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from mdeploy.files import extract_tar, write_atomic


def tar_of(*members: tuple[str, bytes | None, str | None]) -> bytes:
    """(name, file bytes or None, symlink target or None) -> tar archive bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data, link in members:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            else:
                info.size = len(data or b"")
                tar.addfile(info, io.BytesIO(data or b""))
    return buf.getvalue()


def test_write_atomic_keeps_mode_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "a.yaml"
    target.write_text("old\n")
    os.chmod(target, 0o600)
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]


def test_write_atomic_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.yaml"
    target.write_text("old\n")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.yaml"]


@pytest.fixture(params=["with data_filter", "python before 3.11.4"])
def extraction(request, monkeypatch):
    if request.param != "with data_filter":
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    return request.param


def test_extract_tar_writes_plain_members(tmp_path, extraction):
    extract_tar(tar_of(("chart/Chart.yaml", b"version: 1.0.0\n", None)), tmp_path)
    assert (tmp_path / "chart" / "Chart.yaml").read_bytes() == b"version: 1.0.0\n"


@pytest.mark.parametrize("name, data, link", [("../outside.txt", b"x", None), ("{abs}", b"x", None),
                                              ("link", None, "../outside.txt")])
def test_extract_tar_never_writes_outside_the_destination(tmp_path, extraction, name, data, link):
    """Traversal and links out are refused; an absolute name is refused (old Python) or, with
    Python's data filter, stripped to a path inside the destination. Either way nothing lands
    outside it."""
    dest = tmp_path / "dest"
    dest.mkdir()
    outside = tmp_path / "outside.txt"
    member = (name.format(abs=str(outside)), data, link)
    refused = (ValueError, tarfile.FilterError) if hasattr(tarfile, "FilterError") else ValueError
    try:
        extract_tar(tar_of(member), dest)
    except refused:
        pass
    else:
        assert name == "{abs}", "traversal and outward links must be refused"
    assert not outside.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]
