"""`mdeploy rollback`: restore a service file from git history, for the follow-up pull request.

Argo CD's own rollback (History and Rollback, with auto-sync switched off) fixes the cluster
now; this writes the same revert into the file, so that turning auto-sync back on does not
redeploy the bad version. Nothing is committed or pushed.
"""

from __future__ import annotations

import difflib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mdeploy.report import ToolError
from mdeploy.services import Repo
from mdeploy.files import write_atomic


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)


@dataclass
class Rollback:
    path: Path
    rel: str
    revision: str  # the commit the content comes from
    description: str  # one line about that revision
    old_text: str
    new_text: str

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.old_text.splitlines(keepends=True),
                                            self.new_text.splitlines(keepends=True),
                                            f"a/{self.rel}", f"b/{self.rel}"))


def plan_rollback(repo: Repo, service: str, env: str, to: str | None = None) -> Rollback:
    repo.require_env(env)
    path = repo.service_file(env, service)
    rel = repo.rel(path)
    if _git(repo.root, "rev-parse", "--git-dir").returncode != 0:
        raise ToolError(f"{repo.root} is not a git checkout; rollback reads the file's history", rule="rollback")
    if to is None:
        if _git(repo.root, "diff", "--quiet", "HEAD", "--", rel).returncode != 0:
            raise ToolError(f"{rel} has uncommitted changes; commit or discard them first (or pass --to REV)",
                            rule="rollback")
        log = _git(repo.root, "log", "-n", "1", "--format=%H", "--", rel).stdout.decode().split()
        if not log:
            raise ToolError(f"{rel} has no history in git; nothing to roll back to", rule="rollback")
        last_change = log[0]
        revision = f"{last_change}^"
        if _git(repo.root, "cat-file", "-e", f"{revision}:{rel}").returncode != 0:
            raise ToolError(f"{rel} was created by {last_change[:12]}: there is no earlier version to restore; "
                            "delete the file instead if the service should go", rule="rollback")
    else:
        revision = to
        if _git(repo.root, "rev-parse", "--verify", "--quiet", f"{to}^{{commit}}").returncode != 0:
            raise ToolError(f"unknown git revision {to!r}; pass a commit, tag or branch to --to", rule="rollback")
        if _git(repo.root, "cat-file", "-e", f"{to}:{rel}").returncode != 0:
            raise ToolError(f"{rel} does not exist at {to}; pick a revision where the service existed "
                            f"(git log -- {rel})", rule="rollback")
    commit = _git(repo.root, "rev-parse", f"{revision}^{{commit}}").stdout.decode().strip()
    description = _git(repo.root, "log", "-n", "1", "--format=%h %s (%an, %ad)", "--date=short", commit
                       ).stdout.decode().strip()
    content = _git(repo.root, "show", f"{commit}:{rel}").stdout.decode("utf-8")
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    return Rollback(path, rel, commit, description, current, content)


def apply(rollback: Rollback) -> None:
    write_atomic(rollback.path, rollback.new_text)
