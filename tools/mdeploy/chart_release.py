"""The chart-version-bump check: a changed chart must carry a new version (as chart-testing does).

Why: a released version (`model-service-<version>`, or in a clone without tags the last commit
whose Chart.yaml says that version) must always mean the same bytes, because services pin it
and prod renders it. So any change under `charts/model-service` since the merge base must bump
`Chart.yaml`'s `version`, to a version greater than the base's and not already released.

The base: `$MDEPLOY_BASE_REF` when set (CI sets it to the PR's target branch), else `origin/main`
when it exists; the comparison starts at the merge base of that ref and HEAD and includes
uncommitted and untracked files. Without a base (a fresh clone of main) there is nothing to
compare and the check passes.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mdeploy.chart_source import CHART_DIR, TAG_PREFIX, _chart_yaml_version, tagged_versions
from mdeploy.report import ERROR, Problem

BASE_ENV = "MDEPLOY_BASE_REF"
DEFAULT_BASE = "origin/main"
RULE = "chart-version-bump"
CHART_YAML = f"{CHART_DIR}/Chart.yaml"


@dataclass(frozen=True)
class BumpResult:
    base: str | None  # the ref compared against, None when there is nothing to compare
    merge_base: str | None
    changed: list[str]
    base_version: str | None
    version: str | None
    problems: list[Problem]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)


def resolve_base(root: Path, base_ref: str | None = None) -> tuple[str | None, str | None]:
    """(base ref, merge-base commit), or (None, None) when there is nothing to compare."""
    ref = base_ref or os.environ.get(BASE_ENV) or None
    explicit = ref is not None
    ref = ref or DEFAULT_BASE
    if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        if explicit:
            raise ValueError(f"base ref {ref!r} does not exist; fetch it (git fetch origin) or unset {BASE_ENV}")
        return None, None
    merge_base = _git(root, "merge-base", ref, "HEAD")
    if merge_base.returncode != 0:
        raise ValueError(f"no merge base between {ref} and HEAD; fetch full history (fetch-depth: 0)")
    return ref, merge_base.stdout.strip()


def changed_chart_files(root: Path, merge_base: str) -> list[str]:
    """Chart files changed since `merge_base`: committed, staged, unstaged and untracked."""
    diff = _git(root, "diff", "--name-only", merge_base, "--", CHART_DIR)
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--", CHART_DIR)
    return sorted(set(diff.stdout.split()) | set(untracked.stdout.split()))


def version_key(version: str) -> tuple:
    core, _, pre = version.partition("-")
    return tuple(int(p) if p.isdigit() else 0 for p in core.split(".")) + ((1,) if not pre else (0, pre))


def _version_line(root: Path) -> int:
    try:
        for number, line in enumerate((root / CHART_YAML).read_text().splitlines(), start=1):
            if re.match(r"^version:", line):
                return number
    except OSError:
        pass
    return 1


def check_version_bump(root: Path, base_ref: str | None = None) -> BumpResult:
    try:
        base, merge_base = resolve_base(root, base_ref)
    except ValueError as err:
        return BumpResult(base_ref, None, [], None, None, [Problem(CHART_YAML, 0, 0, ERROR, str(err), RULE)])
    if merge_base is None:
        return BumpResult(None, None, [], None, None, [])
    changed = changed_chart_files(root, merge_base)
    shown = _git(root, "show", f"{merge_base}:{CHART_YAML}")
    base_version = _chart_yaml_version(shown.stdout.encode()) if shown.returncode == 0 else None
    try:
        version = _chart_yaml_version((root / CHART_YAML).read_bytes())
    except OSError:
        version = None
    problems: list[Problem] = []
    line = _version_line(root)
    if changed and base_version and version:
        listed = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        if version == base_version:
            problems.append(Problem(CHART_YAML, line, 1, ERROR,
                                    f"the chart changed since {base} ({listed}) but its version is still "
                                    f"{version}; bump `version:` (e.g. {suggest_bump(version)}) so released "
                                    f"versions stay immutable", RULE))
        elif version_key(version) < version_key(base_version):
            problems.append(Problem(CHART_YAML, line, 1, ERROR,
                                    f"version {version} is lower than {base_version} on {base}; "
                                    f"versions only go up (e.g. {suggest_bump(base_version)})", RULE))
        elif version in tagged_versions(root):
            problems.append(Problem(CHART_YAML, line, 1, ERROR,
                                    f"version {version} is already released as tag {TAG_PREFIX}{version}; "
                                    f"pick an unreleased version (e.g. {suggest_bump(version)})", RULE))
    return BumpResult(base, merge_base, changed, base_version, version, problems)


def suggest_bump(version: str) -> str:
    parts = version.split("-")[0].split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[0]}.{parts[1]}.{int(parts[2]) + 1}"
    return "a higher version"
