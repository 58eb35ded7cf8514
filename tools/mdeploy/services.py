"""The repository's layout: environments, their service files, and the names derived from them.

Every command that reads `environments/` goes through `Repo`, so the layout and the naming
contract (namespace, Application, object names) are written down once:

    environments/<env>.yaml            the environment file   -> schemas/environment.schema.json
    environments/<env>/<service>.yaml  one service in <env>   -> schemas/service.schema.json
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from mdeploy.report import ToolError, UsageError
from mdeploy.toolchain import repo_root

ENV_DIR = "environments"
SCHEMA_DIR = "schemas"
REPO_ENV = "MDEPLOY_REPO"


def find_repo(explicit: str | Path | None = None) -> Path:
    """The repository to work on: --repo, $MDEPLOY_REPO, the git checkout around the current
    directory when it has environments/, else the checkout mdeploy is installed from."""
    for candidate in (explicit, os.environ.get(REPO_ENV)):
        if candidate:
            path = Path(candidate).resolve()
            if not (path / ENV_DIR).is_dir():
                raise UsageError(f"{path} has no {ENV_DIR}/ directory; point --repo at a model-deploy checkout")
            return path
    here = Path.cwd().resolve()
    for directory in (here, *here.parents):
        if (directory / ENV_DIR).is_dir() and (directory / SCHEMA_DIR).is_dir():
            return directory
        if (directory / ".git").exists():
            break
    return repo_root()


@dataclass(frozen=True)
class ServiceRef:
    """One service file in one environment."""

    env: str
    service: str
    path: Path

    @property
    def application(self) -> str:
        return application_name(self.service, self.env)


def application_name(service: str, env: str) -> str:
    """Argo CD Application and Helm release name: `<service>-<env>`."""
    return f"{service}-{env}"


def namespace_name(prefix: str, service: str) -> str:
    return f"{prefix}{service}"


def model_object_name(service: str, model: str) -> str:
    return f"{service}-{model}"


def cgi_object_name(service: str) -> str:
    return f"{service}-cgi"


class Repo:
    """Paths and listings of one checkout; no parsing beyond what a listing needs."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.env_dir = self.root / ENV_DIR
        self._prefix = str(self.root.resolve()) + os.sep

    def rel(self, path: Path) -> str:
        """Path as shown in messages: relative to the repository when inside it."""
        absolute = os.path.abspath(path)
        if absolute.startswith(self._prefix):
            return absolute[len(self._prefix):].replace(os.sep, "/")
        resolved = os.path.realpath(path)  # e.g. the repository reached through a symlink
        return resolved[len(self._prefix):] if resolved.startswith(self._prefix) else str(path)

    def env_names(self) -> list[str]:
        if not self.env_dir.is_dir():
            return []
        return sorted(p.stem for p in self.env_dir.glob("*.yaml") if p.is_file())

    def env_file(self, env: str) -> Path:
        return self.env_dir / f"{env}.yaml"

    def service_file(self, env: str, service: str) -> Path:
        return self.env_dir / env / f"{service}.yaml"

    def services(self, env: str) -> list[ServiceRef]:
        directory = self.env_dir / env
        if not directory.is_dir():
            return []
        return [ServiceRef(env, p.stem, p) for p in sorted(directory.glob("*.yaml"))]

    def service_names(self, env: str) -> list[str]:
        directory = self.env_dir / env
        if not directory.is_dir():
            return []
        return sorted(name[:-5] for name in os.listdir(directory) if name.endswith(".yaml"))

    def all_services(self) -> Iterator[ServiceRef]:
        for env in self.env_names():
            yield from self.services(env)

    def require_env(self, env: str) -> None:
        if not self.env_file(env).is_file():
            known = ", ".join(self.env_names()) or "none"
            raise UsageError(f"unknown environment {env!r}: no {ENV_DIR}/{env}.yaml (environments: {known})")

    def select(self, env: str | None, services: tuple[str, ...] | list[str]) -> list[ServiceRef]:
        """Service files for `--env` (all when None) and names (all when empty); unknown names are a
        usage error naming what exists."""
        envs = [env] if env else self.env_names()
        if env:
            self.require_env(env)
        refs = []
        for name in envs:
            refs.extend(self.services(name))
        if services:
            wanted = set(services)
            missing = wanted - {r.service for r in refs}
            if missing:
                where = f"environment {env}" if env else "any environment"
                raise UsageError(f"no service {', '.join(sorted(missing))} in {where} "
                                 f"(expected {ENV_DIR}/<env>/<service>.yaml)")
            refs = [r for r in refs if r.service in wanted]
        return refs

    def classify(self, path: Path) -> tuple[str, str, str | None] | None:
        """('environment', env, None) or ('service', env, service) for a values file, else None."""
        try:
            rel = Path(os.path.abspath(path)).relative_to(self.env_dir.resolve())
        except ValueError:
            return None
        parts = rel.parts
        if len(parts) == 1 and parts[0].endswith(".yaml"):
            return "environment", parts[0][:-5], None
        if len(parts) == 2 and parts[1].endswith(".yaml"):
            return "service", parts[0], parts[1][:-5]
        return None


def env_tier(env_data: Any, env_name: str) -> str:
    """An environment's tier from its file; falls back to its name when the file is broken."""
    try:
        tier = env_data["environment"]["tier"]
        if tier in ("gray", "prod"):
            return tier
    except (KeyError, TypeError):
        pass
    return "prod" if env_name == "prod" else "gray"


def git_toplevel(path: Path) -> Path | None:
    try:
        out = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, check=False)
    except OSError:
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 else None


def require_git(root: Path) -> None:
    if git_toplevel(root) is None:
        raise ToolError(f"{root} is not a git checkout; this command needs git history")
