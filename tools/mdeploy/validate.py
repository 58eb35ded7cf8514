"""`mdeploy validate`: JSON Schema + rules over environment and service files.

Pure functions: `validate_repo(root, paths)` returns the problems and the number of files
checked; the click command only formats them. A service file is checked in three steps, each
gated on the previous one so later steps may trust types: YAML (positions, duplicate keys,
bombs), JSON Schema (best match for oneOf/anyOf), then the rules in `mdeploy.rules`.

Large repositories are checked in worker processes (one per core): parsing and schema checks
are pure per file, and the cross-file facts the rules need (service names per environment,
environment files) are computed once in the parent before the workers fork.
"""

from __future__ import annotations

import difflib
import json
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from mdeploy.report import ERROR, Problem
from mdeploy.rules import ALL as ALL_RULES
from mdeploy.rules.base import ServiceContext
from mdeploy.services import ENV_DIR, SCHEMA_DIR, Repo, env_tier
from mdeploy.yamlio import Loaded, load_file

SERVICE_SCHEMA = "service.schema.json"
ENVIRONMENT_SCHEMA = "environment.schema.json"
PARALLEL_THRESHOLD = 300  # below this, forking workers costs more than it saves


@lru_cache(maxsize=8)
def load_validator(schema_path: str) -> Any:
    import jsonschema  # imported on first use: valid files never need it (fastschema answers)

    schema = json.loads(Path(schema_path).read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _shorten(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _dotted(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the file"


def _hint(schema: dict[str, Any]) -> str:
    description = schema.get("description", "")
    first = re.split(r"(?<=[.;])\s", description, maxsplit=1)[0].rstrip(".;")
    return f" ({first})" if first else ""


_TYPE_NAMES = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
               float: "a number", type(None): "null"}


def _schema_problems(loaded: Loaded, error: Any) -> Iterable[Problem]:
    """One or more positioned, human messages for one (best-matched) jsonschema error."""
    from jsonschema.exceptions import best_match

    if error.context:
        error = best_match([error])
    path = tuple(error.absolute_path)
    where = _dotted(path)
    validator, schema, instance = error.validator, error.schema, error.instance
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        pattern_props = schema.get("patternProperties", {})
        for key in instance:
            if key in allowed or any(re.search(p, str(key)) for p in pattern_props):
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f"; did you mean {close[0]!r}?" if close else (
                f"; allowed: {', '.join(allowed)}" if allowed else "")
            yield loaded.problem(path + (key,), f"unknown key {key!r} in {where}{suggestion}", "schema", key=True)
        return
    if validator == "required":
        missing = re.match(r"'(.+)' is a required property", error.message)
        name = missing.group(1) if missing else error.message
        yield loaded.problem(path, f"{where}: missing required key {name!r}"
                             f"{_hint(schema.get('properties', {}).get(name, {}))}", "schema", key=bool(path))
        return
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        got = _TYPE_NAMES.get(type(instance), type(instance).__name__)
        message = f"{where}: expected {expected}, got {got} {_shorten(instance)}"
    elif validator == "enum":
        message = f"{where}: {_shorten(instance)} is not one of {', '.join(map(str, error.validator_value))}"
    elif validator == "pattern":
        message = f"{where}: {_shorten(instance)} does not match {error.validator_value}{_hint(schema)}"
    elif validator == "not":
        message = (f"{where}: has the settings section of another runtime; keep only the section named by "
                   "`runtime:`")
    elif validator == "oneOf":
        message = f"{where}: matches more than one allowed form{_hint(error.parent.schema if error.parent else {})}"
    elif validator in ("propertyNames",):
        message = f"{where}: invalid key: {error.message}"
    else:
        message = f"{where}: {error.message if len(error.message) < 200 else error.message[:197] + '...'}"
    yield loaded.problem(path, message, "schema", key=bool(path) and validator in ("maxProperties",))


@lru_cache(maxsize=8)
def fast_check(schema_path: str):
    """The compiled yes/no check of a schema, or None when it uses a keyword fastschema lacks."""
    from mdeploy.fastschema import Unsupported, compile_schema

    try:
        return compile_schema(json.loads(Path(schema_path).read_text()))
    except Unsupported:
        return None


def schema_problems(loaded: Loaded, schema_path: Path) -> list[Problem]:
    # Most files are valid: a compiled yes/no check first (fast), jsonschema only to explain a no.
    fast = fast_check(str(schema_path))
    if fast is not None and fast(loaded.data):
        return []
    validator = load_validator(str(schema_path))
    problems: list[Problem] = []
    try:
        for error in validator.iter_errors(loaded.data):
            problems.extend(_schema_problems(loaded, error))
    except (OverflowError, RecursionError, ValueError) as err:  # e.g. a 400-digit number
        problems.append(Problem(loaded.path, 1, 1, ERROR, f"a value cannot be checked against the schema "
                                f"({type(err).__name__}: {err}); look for absurdly large numbers", "schema"))
    return problems


# --- what one file needs to know about the rest of the repository ---------------------------

@dataclass
class RepoFacts:
    """Cross-file facts, computed once per run (and inherited by worker processes)."""

    root: Path
    environments: dict[str, dict[str, Any] | None]  # env -> its `environment:` mapping when the file is valid
    env_loaded_ok: dict[str, bool]
    tiers: dict[str, str]
    services: dict[str, list[str]]  # env -> service names
    gray_services: dict[str, set[str]]  # gray-tier env -> service names
    memo: dict[Any, Any] = field(default_factory=dict)  # rule caches for this run

    @property
    def repo(self) -> Repo:
        if "repo" not in self.memo:
            self.memo["repo"] = Repo(self.root)
        return self.memo["repo"]


def check_environment_file(repo: Repo, path: Path) -> tuple[Loaded, list[Problem]]:
    loaded = load_file(path, repo.rel(path))
    problems = list(loaded.problems)
    if loaded.data is None:
        return loaded, problems
    schema = schema_problems(loaded, repo.root / SCHEMA_DIR / ENVIRONMENT_SCHEMA)
    problems.extend(schema)
    if not schema:
        name = loaded.data["environment"]["name"]
        if name != path.stem:
            problems.append(loaded.problem(("environment", "name"), f"environment name {name!r} does not match "
                                           f"the file name {path.stem}.yaml; rename one of them", "env-name"))
    return loaded, problems


def gather_facts(repo: Repo) -> tuple[RepoFacts, dict[str, list[Problem]]]:
    """Environment files (with their problems, by env) and service listings."""
    environments: dict[str, dict[str, Any] | None] = {}
    ok: dict[str, bool] = {}
    env_problems: dict[str, list[Problem]] = {}
    tiers: dict[str, str] = {}
    names = set(repo.env_names())
    if repo.env_dir.is_dir():
        names |= {p.name for p in repo.env_dir.iterdir() if p.is_dir()}
    for env in sorted(names):
        path = repo.env_file(env)
        if path.is_file():
            loaded, problems = check_environment_file(repo, path)
            env_problems[env] = problems
            valid = not any(p.level == ERROR for p in problems)
            ok[env] = valid
            environments[env] = loaded.data["environment"] if valid else None
            tiers[env] = env_tier(loaded.data, env)
        else:
            ok[env] = False
            environments[env] = None
            tiers[env] = env_tier(None, env)
    services = {env: repo.service_names(env) for env in names}
    gray = {env: set(services[env]) for env in names if tiers[env] == "gray"}
    return RepoFacts(repo.root, environments, ok, tiers, services, gray), env_problems


def check_service_file(facts: RepoFacts, env: str, path: Path) -> list[Problem]:
    repo = facts.repo
    shown = repo.rel(path)
    loaded = load_file(path, shown)
    problems = list(loaded.problems)
    if loaded.data is None:
        return problems
    schema = schema_problems(loaded, facts.root / SCHEMA_DIR / SERVICE_SCHEMA)
    problems.extend(schema)
    if schema or any(p.level == ERROR for p in problems):
        return problems  # rules trust the schema; fix these first
    environment = facts.environments.get(env)
    if environment is None:
        env_path = f"{ENV_DIR}/{env}.yaml"
        reason = "is missing" if not (facts.root / env_path).is_file() else "has errors"
        problems.append(Problem(shown, 1, 1, ERROR, f"environment file {env_path} {reason}; rules that need the "
                                "environment were skipped (run `mdeploy validate` on it)", "environment-file"))
    ctx = ServiceContext(loaded=loaded, root=facts.root, env=env, file_stem=path.stem, tier=facts.tiers[env],
                         environment=environment, env_services=facts.services.get(env, []),
                         gray_services=facts.gray_services, memo=facts.memo)
    for rule in ALL_RULES:
        if rule.needs_environment and environment is None:
            continue
        problems.extend(rule.check(ctx))
    return problems


# --- the whole run ---------------------------------------------------------------------------

_FACTS: RepoFacts | None = None  # set before forking workers; they inherit it


def _check_chunk(chunk: list[tuple[str, str]]) -> list[Problem]:
    assert _FACTS is not None
    out: list[Problem] = []
    for env, path in chunk:
        out.extend(check_service_file(_FACTS, env, Path(path)))
    return out


def _expand(repo: Repo, paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.yaml") if p.is_file()))
        elif path.exists() or path.suffix in (".yaml", ".yml"):
            files.append(path)
        else:
            problems.append(Problem(str(path), 0, 0, ERROR, "no such file or directory", "file-unreadable"))
    return files, problems


def validate_repo(root: Path, paths: Iterable[Path] | None = None, *, jobs: int | None = None
                  ) -> tuple[list[Problem], int]:
    """Problems of `paths` (default: every environment and service file) and the file count."""
    global _FACTS
    repo = Repo(root)
    facts, env_problems = gather_facts(repo)
    problems: list[Problem] = []
    service_files: list[tuple[str, str]] = []
    env_files: list[str] = []
    if paths is None:
        env_files = [env for env in repo.env_names()]
        service_files = [(ref.env, str(ref.path)) for ref in repo.all_services()]
    else:
        files, missing = _expand(repo, paths)
        problems.extend(missing)
        for path in files:
            kind = repo.classify(path)
            if kind is None:
                problems.append(Problem(repo.rel(path), 0, 0, ERROR, f"not a values file; mdeploy validates "
                                        f"{ENV_DIR}/<env>.yaml and {ENV_DIR}/<env>/<service>.yaml", "unknown-file"))
            elif kind[0] == "environment":
                if kind[1] in env_problems:
                    env_files.append(kind[1])
                else:  # e.g. an unreadable path given explicitly
                    _, found = check_environment_file(repo, path)
                    problems.extend(found)
            else:
                service_files.append((kind[1], str(path)))
    for env in env_files:
        problems.extend(env_problems.get(env, []))
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(service_files) >= PARALLEL_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
        _FACTS = facts
        size = max(1, len(service_files) // (jobs * 4))
        chunks = [service_files[i:i + size] for i in range(0, len(service_files), size)]
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            for found in pool.map(_check_chunk, chunks):
                problems.extend(found)
        _FACTS = None
    else:
        for env, path in service_files:
            problems.extend(check_service_file(facts, env, Path(path)))
    return problems, len(env_files) + len(service_files)
