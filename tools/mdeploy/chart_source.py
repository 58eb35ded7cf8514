"""Resolve the chart version a service pins to a chart directory on disk.

Why: every Application renders with the chart at the version its service file names, never
with whatever `main` holds (DESIGN.md, "Why the chart version is pinned"). Resolution order:

1. the git tag `model-service-<version>` (a release: immutable, what Argo CD fetches);
2. gray only: the working tree, while `charts/model-service/Chart.yaml` says that version
   (the pull request that introduces the version, including uncommitted edits);
3. the chart tree at the newest commit whose Chart.yaml has that version (a fresh clone,
   a fork or CI without tags; prod may use this, never the working tree).

Committed charts are materialized with `git archive` into `.cache/charts/<version>-<tree>/`
(git-ignored), keyed by the git tree hash of `charts/model-service` at that commit. That tree
hash is also the chart's content address for the render cache: same hash, same chart bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from mdeploy.files import extract_tar
from mdeploy.report import ToolError

CHART_DIR = "charts/model-service"
TAG_PREFIX = "model-service-"
CACHE_DIR = ".cache/charts"

_VERSION_LINE = re.compile(rb"^version:\s*['\"]?([^'\"\s#]+)", re.MULTILINE)


@dataclass(frozen=True)
class ChartSource:
    """Where one chart version comes from and where it sits on disk."""

    version: str
    path: Path  # a directory `helm template` can read
    content_hash: str  # git tree hash (committed) or `worktree-<sha256>`: the render cache key
    origin: str  # "tag", "commit" or "worktree"
    revision: str | None  # what Argo CD's targetRevision would be: tag name or commit; None for the working tree


def _git(root: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], input=input_bytes, capture_output=True, check=False)
    except OSError as err:
        raise ToolError(f"cannot run git: {err}; install git to resolve chart versions") from err
    if out.returncode != 0:
        raise ToolError(f"git {' '.join(args)} failed in {root}: {out.stderr.decode(errors='replace').strip()}")
    return out.stdout


def _chart_yaml_version(data: bytes) -> str | None:
    """The `version:` of a Chart.yaml; a regex first because this runs once per commit."""
    match = _VERSION_LINE.search(data)
    if match:
        return match.group(1).decode()
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError:
        return None
    return str(doc["version"]) if isinstance(doc, dict) and "version" in doc else None


def is_git_repo(root: Path) -> bool:
    return (root / ".git").exists()


def worktree_version(root: Path) -> str | None:
    chart_yaml = root / CHART_DIR / "Chart.yaml"
    try:
        return _chart_yaml_version(chart_yaml.read_bytes())
    except OSError:
        return None


def tagged_versions(root: Path) -> dict[str, str]:
    """version -> commit of every `model-service-<version>` tag."""
    if not is_git_repo(root):
        return {}
    out = _git(root, "for-each-ref", "--format=%(refname:short) %(*objectname) %(objectname)", f"refs/tags/{TAG_PREFIX}*")
    versions = {}
    for line in out.decode().splitlines():
        parts = line.split()
        name = parts[0]
        # Annotated tags peel to the commit in %(*objectname); lightweight ones leave it empty.
        commit = parts[1] if len(parts) == 3 else parts[-1]
        versions[name[len(TAG_PREFIX):]] = commit
    return versions


def committed_versions(root: Path) -> dict[str, str]:
    """version -> newest commit (reachable from HEAD) whose chart has that version.

    Walks only commits that touched the chart, newest first, and reads every Chart.yaml in
    one `git cat-file --batch` call, so a long history costs one process, not one per commit.
    """
    if not is_git_repo(root):
        return {}
    try:
        log = _git(root, "log", "--format=%H", "HEAD", "--", CHART_DIR)
    except ToolError:
        return {}  # a repository without commits
    commits = log.decode().split()
    if not commits:
        return {}
    request = "".join(f"{c}:{CHART_DIR}/Chart.yaml\n" for c in commits).encode()
    out = _git(root, "cat-file", "--batch", input_bytes=request)
    versions: dict[str, str] = {}
    pos = 0
    for commit in commits:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        pos = header_end + 1
        if len(header) >= 2 and header[1] == b"missing":
            continue
        size = int(header[2])
        blob = out[pos:pos + size]
        pos += size + 1  # the blob is followed by a newline
        version = _chart_yaml_version(blob)
        if version and version not in versions:
            versions[version] = commit
    return versions


def available_versions(root: Path, *, tier: str = "gray") -> list[str]:
    """Every version a service in `tier` may pin, sorted numerically."""
    found = set(tagged_versions(root)) | set(committed_versions(root))
    wt = worktree_version(root)
    if tier == "gray" and wt:
        found.add(wt)
    return sorted(found, key=_version_key)


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def worktree_hash(chart_dir: Path) -> str:
    """Content address of an uncommitted chart: sha256 over every file's path, mode and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in chart_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(chart_dir).as_posix()
        digest.update(rel.encode() + b"\0" + (b"x" if os.access(path, os.X_OK) else b"-") + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return "worktree-" + digest.hexdigest()[:40]


def _materialize(root: Path, version: str, commit: str) -> tuple[Path, str]:
    """Extract the chart at `commit` into the cache (once); return (directory, tree hash)."""
    tree = _git(root, "rev-parse", f"{commit}:{CHART_DIR}").decode().strip()
    dest = root / CACHE_DIR / f"{version}-{tree}"
    if (dest / "Chart.yaml").is_file():
        return dest, tree
    dest.parent.mkdir(parents=True, exist_ok=True)
    archive = _git(root, "archive", "--format=tar", tree)
    # Extract beside the destination, then rename: a crash never leaves a half chart that
    # the existence check above would trust; a concurrent extraction simply loses the race.
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=dest.parent))
    try:
        extract_tar(archive, tmp)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not (dest / "Chart.yaml").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest, tree


def resolve_chart(version: str, *, root: Path, tier: str = "gray", materialize: bool = True) -> ChartSource:
    """The chart directory for `version` in an environment of `tier` (gray or prod).

    Raises ToolError naming the versions that do exist when `version` cannot be used.
    `materialize=False` resolves the origin and content hash without extracting files.
    """
    return _resolve_cached(version, root.resolve(), tier, materialize, _worktree_stamp(root))


def _worktree_stamp(root: Path) -> tuple:
    """Part of the lru_cache key: a Chart.yaml edit, a new commit or a new tag between two
    calls in one process is seen, while 1,000 services pinning one version cost a few stats."""
    paths = [root / CHART_DIR / "Chart.yaml", root / ".git" / "HEAD", root / ".git" / "packed-refs",
             root / ".git" / "refs" / "tags"]
    try:
        head = (root / ".git" / "HEAD").read_text()
        if head.startswith("ref: "):
            paths.append(root / ".git" / head[5:].strip())
    except OSError:
        pass
    stamp = []
    for path in paths:
        try:
            stamp.append(path.stat().st_mtime_ns)
        except OSError:
            stamp.append(0)
    return tuple(stamp)


def _chart_at(root: Path, version: str, commit: str, materialize: bool) -> tuple[Path, str]:
    """(directory, tree hash) of the chart at `commit`; extracted into the cache only when
    `materialize` (callers that only need the content address skip the extraction)."""
    if materialize:
        return _materialize(root, version, commit)
    return root / CACHE_DIR / version, _git(root, "rev-parse", f"{commit}:{CHART_DIR}").decode().strip()


@lru_cache(maxsize=256)
def _resolve_cached(version: str, root: Path, tier: str, materialize: bool, _stamp: tuple) -> ChartSource:
    tags = tagged_versions(root)
    if version in tags:
        path, tree = _chart_at(root, version, tags[version], materialize)
        return ChartSource(version, path, tree, "tag", f"{TAG_PREFIX}{version}")
    wt_version = worktree_version(root)
    if tier == "gray" and wt_version == version:
        chart_dir = root / CHART_DIR
        return ChartSource(version, chart_dir, worktree_hash(chart_dir), "worktree", None)
    commits = committed_versions(root)
    if version in commits:
        path, tree = _chart_at(root, version, commits[version], materialize)
        return ChartSource(version, path, tree, "commit", commits[version])
    known = available_versions(root, tier=tier)
    hint = f"versions available to {tier}: {', '.join(known)}" if known else "no chart version exists yet"
    if tier != "gray" and wt_version == version:
        raise ToolError(
            f"chart {version} exists only in the working tree; {tier} must pin a committed version "
            f"(tag {TAG_PREFIX}{version} or commit it first); {hint}",
            rule="chart-version",
        )
    raise ToolError(f"chart version {version} does not exist (no tag {TAG_PREFIX}{version}, no commit); {hint}",
                    rule="chart-version")


def clear_resolution_cache() -> None:
    """Forget resolved versions (tests that create tags and commits between calls)."""
    _resolve_cached.cache_clear()


def chart_at_revision(root: Path, revision: str) -> ChartSource | None:
    """The chart as committed at `revision` (diff's base side of a working-tree chart), or None
    when that revision has no chart."""
    try:
        commit = _git(root, "rev-parse", f"{revision}^{{commit}}").decode().strip()
        version = _chart_yaml_version(_git(root, "show", f"{commit}:{CHART_DIR}/Chart.yaml"))
    except ToolError:
        return None
    if version is None:
        return None
    path, tree = _materialize(root, version, commit)
    return ChartSource(version, path, tree, "commit", commit)
