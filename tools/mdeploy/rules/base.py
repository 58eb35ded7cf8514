"""What a rule is and what it sees. One module per rule (yamllint style) under mdeploy/rules/.

A rule runs on a service file that already passed its JSON Schema, so it may rely on types
and required keys; it returns Problems positioned through `ctx.loaded`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from mdeploy.report import ERROR, Problem
from mdeploy.yamlio import Loaded


@dataclass
class ServiceContext:
    loaded: Loaded  # the file, with positions
    root: Path  # repository root
    env: str  # environment name (directory)
    file_stem: str  # file name without .yaml
    tier: str  # gray | prod
    environment: dict[str, Any] | None  # the environment file's `environment:` mapping, when it is valid
    env_services: list[str] = field(default_factory=list)  # service names (file stems) in this environment
    gray_services: dict[str, set[str]] = field(default_factory=dict)  # gray-tier env -> its service names
    memo: dict[Any, Any] = field(default_factory=dict)  # shared by every file of one run (rules cache here)

    @property
    def data(self) -> dict[str, Any]:
        return self.loaded.data

    def problem(self, at: tuple, message: str, rule: "Rule", *, key: bool = False) -> Problem:
        return self.loaded.problem(at, message, rule.id, rule.level, key=key)


class Rule:
    id: str = ""
    level: str = ERROR
    summary: str = ""  # one line: what the rule enforces and why
    bad: str = ""  # a YAML snippet that breaks the rule
    good: str = ""  # the same snippet, fixed
    needs_environment: bool = False  # skipped (with one note) when the environment file is invalid

    def check(self, ctx: ServiceContext) -> Iterable[Problem]:  # pragma: no cover - interface
        raise NotImplementedError


# --- walkers over the parts of a service file every rule agrees on ---------------------------

def containers(data: dict[str, Any]) -> Iterator[tuple[tuple, dict[str, Any]]]:
    """(path, section) for the CGI and every model server."""
    if isinstance(data.get("cgi"), dict):
        yield ("cgi",), data["cgi"]
    for name, model in (data.get("models") or {}).items():
        yield ("models", name), model


INITIALIZER = ("triton", "repository", "initializer")


def initializer(section: dict[str, Any]) -> dict[str, Any] | None:
    init = ((section.get("triton") or {}).get("repository") or {}).get("initializer")
    return init if isinstance(init, dict) else None


def fields(data: dict[str, Any], key: str) -> Iterator[tuple[tuple, Any]]:
    """(path, value) of `key` in the CGI, every model server and every initializer container."""
    for at, section in containers(data):
        if not isinstance(section, dict):  # a schema error, reported by the schema check
            continue
        if key in section:
            yield at + (key,), section[key]
        init = initializer(section)
        if init and key in init:
            yield at + INITIALIZER + (key,), init[key]


def images(data: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    """(path, image) of every container image: CGI, model servers, initializers."""
    return fields(data, "image")


def resource_blocks(data: dict[str, Any]) -> Iterator[tuple[tuple, dict[str, Any]]]:
    return ((at, value) for at, value in fields(data, "resources") if isinstance(value, dict))


def env_blocks(data: dict[str, Any]) -> Iterator[tuple[tuple, dict[str, Any]]]:
    return ((at, value) for at, value in fields(data, "env") if isinstance(value, dict))
