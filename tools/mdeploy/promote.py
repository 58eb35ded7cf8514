"""`mdeploy promote`: rewrite a prod service file from gray, following the schema's x-promote markers.

The schema marks each field `x-promote: true` (images, model versions, chart: what a release is)
or `x-promote: false` (capacity: replicas, resources, GPUs, autoscaling, which stay per
environment); a field without a marker inherits the nearest ancestor's. Containers without any
marker (`cgi`, `models`, `models.<name>`) are walked key by key.

The prod file is edited in place with ruamel.yaml's round trip: a value that does not change is
not touched, so comments, key order, quoting and flow style outside the promoted fields stay byte
for byte; new keys are inserted where gray has them; prod-only capacity stays. A service (or a
model server) that prod does not have yet gets gray's content with prod capacity defaults:
every replica count raised to at least PROD_MIN_REPLICAS (gray is clamped to 1), everything
else as in gray.
"""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mdeploy.report import ERROR, ToolError
from mdeploy.services import SCHEMA_DIR, Repo
from mdeploy.files import write_atomic
from mdeploy.yamlio import dump_roundtrip, load_roundtrip

PROD_MIN_REPLICAS = 2
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=4)
def _service_schema(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def child_schema(node: dict[str, Any], key: Any) -> dict[str, Any]:
    """The schema of `node`'s property `key` (properties, additionalProperties, oneOf/anyOf branches)."""
    props = node.get("properties") or {}
    if key in props:
        return props[key]
    for combinator in ("oneOf", "anyOf", "allOf"):
        for branch in node.get(combinator) or []:
            if key in (branch.get("properties") or {}):
                return branch["properties"][key]
    extra = node.get("additionalProperties")
    return extra if isinstance(extra, dict) else {}


def marker(node: dict[str, Any], inherited: bool | None) -> bool | None:
    value = node.get("x-promote")
    return value if isinstance(value, bool) else inherited


def _raise_replicas(value: Any) -> Any:
    """Prod capacity defaults for content that comes from gray: replicas >= PROD_MIN_REPLICAS."""
    if isinstance(value, dict):
        for key in list(value):
            if key == "replicas" and isinstance(value[key], int) and value[key] < PROD_MIN_REPLICAS:
                value[key] = PROD_MIN_REPLICAS
            else:
                _raise_replicas(value[key])
    return value


def _insert_like(target: Any, source: Any, key: Any, value: Any) -> None:
    """Insert `key` into `target` after the key that precedes it in `source` (gray's order)."""
    order = list(source)
    index = order.index(key)
    position = 0
    for previous in reversed(order[:index]):
        if previous in target:
            position = list(target).index(previous) + 1
            break
    if hasattr(target, "insert"):
        target.insert(position, key, value)
        _move_trailing_comment(target, position)
    else:
        target[key] = value


def _move_trailing_comment(target: Any, position: int) -> None:
    """ruamel keeps a comment on the lines after a value as that key's trailing comment; a key
    inserted right after it must take the comment over, or it would land above the new key
    (e.g. a `# --- stays per environment ---` header would move above a new env var)."""
    keys = list(target)
    if position == 0 or not hasattr(target, "ca"):
        return
    previous, new = keys[position - 1], keys[position]
    items = target.ca.items
    entry = items.get(previous)
    if not entry or len(entry) < 3 or entry[2] is None or isinstance(target[previous], dict):
        return
    token = entry[2]
    text = token.value
    first_newline = text.find("\n")
    if first_newline < 0 or not text[first_newline + 1:].strip():
        return  # only an end-of-line comment: it belongs to the previous key
    # Keep the end-of-line part on the previous key; the following lines go after the new key.
    from ruamel.yaml.tokens import CommentToken

    entry[2] = CommentToken(text[: first_newline + 1], token.start_mark, None) if text[:first_newline].strip() \
        else None
    items.setdefault(new, [None, None, None, None])
    moved = items[new]
    while len(moved) < 3:
        moved.append(None)
    moved[2] = CommentToken(text[first_newline:], token.start_mark, None)


def _last_slot(mapping: Any, key: Any) -> tuple[Any, Any]:
    """The mapping and key whose trailing comment ends the entry `key` (its deepest last scalar)."""
    value = mapping[key]
    while isinstance(value, dict) and len(value) and hasattr(value, "ca"):
        mapping, key = value, list(value)[-1]
        value = mapping[key]
    return mapping, key


def _delete_keeping_comments(mapping: Any, key: Any) -> None:
    """Delete `key`, but keep the full-line comments that follow its value (they introduce what
    comes next, e.g. `# --- stays per environment ---`): move them to the previous entry."""
    keys = list(mapping)
    moved = mark = None
    if hasattr(mapping, "ca"):
        owner, last = _last_slot(mapping, key)
        entry = owner.ca.items.get(last)
        if entry and len(entry) > 2 and entry[2] is not None:
            text = entry[2].value
            newline = text.find("\n")
            if newline >= 0 and text[newline + 1:].strip():
                moved, mark = text[newline:], entry[2].start_mark
    index = keys.index(key)
    del mapping[key]
    if moved is None or index == 0:
        return
    from ruamel.yaml.tokens import CommentToken

    owner, last = _last_slot(mapping, keys[index - 1])
    entry = owner.ca.items.setdefault(last, [None, None, None, None])
    while len(entry) < 3:
        entry.append(None)
    own = entry[2].value if entry[2] is not None else ""
    own_eol = own[: own.find("\n")] if "\n" in own else own
    entry[2] = CommentToken(own_eol + moved, mark, None)


def _assign(target: Any, key: Any, value: Any, source: Any) -> None:
    """Make target[key] equal value, touching as little as possible (keeps comments)."""
    if key in target:
        current = target[key]
        if isinstance(current, dict) and isinstance(value, dict):
            for k in list(current):
                if k not in value:
                    del current[k]
            for k in value:
                _assign(current, k, value[k], value)
            return
        if current == value and type(current) is type(value):
            return
        target[key] = copy.deepcopy(value)
    else:
        _insert_like(target, source, key, copy.deepcopy(value))


def merge(prod: Any, gray: Any, schema: dict[str, Any], inherited: bool | None, changes: list[str],
          at: str = "", notes: list[str] | None = None) -> None:
    """Bring `prod` (a round-trip mapping, edited in place) in line with `gray` for promoted fields."""
    for key in gray:
        sub = child_schema(schema, key)
        promote = marker(sub, inherited)
        where = f"{at}.{key}" if at else str(key)
        if promote is True:
            if key not in prod or prod[key] != gray[key]:
                changes.append(where)
            _assign(prod, key, gray[key], gray)
        elif promote is False:
            if key not in prod:  # capacity prod does not have yet: gray's, with prod defaults
                _insert_like(prod, gray, key, _raise_replicas(copy.deepcopy(gray[key])) if isinstance(gray[key], dict)
                             else (max(gray[key], PROD_MIN_REPLICAS) if key == "replicas" and isinstance(gray[key], int)
                                   else copy.deepcopy(gray[key])))
                changes.append(where)
        else:
            if isinstance(gray[key], dict):
                if key not in prod or not isinstance(prod[key], dict):
                    _insert_like(prod, gray, key, _raise_replicas(copy.deepcopy(gray[key])))
                    changes.append(where)
                else:
                    merge(prod[key], gray[key], sub, promote, changes, where, notes)
            elif key not in prod or prod[key] != gray[key]:
                _assign(prod, key, gray[key], gray)
                changes.append(where)
    for key in [k for k in prod if k not in gray]:
        sub = child_schema(schema, key)
        if marker(sub, inherited) is False:
            continue  # prod-only capacity (e.g. autoscaling) stays
        where = f"{at}.{key}" if at else str(key)
        if not sub and notes is not None:
            # A key the schema does not know: never dropped without saying so.
            notes.append(f"{where} is only in prod and not in the schema: removed (it would fail validation); "
                         "keep it by adding it to gray first")
        _delete_keeping_comments(prod, key)  # gray removed it: an env var, a model server, a setting
        changes.append(f"{at}.{key}" if at else str(key))


@dataclass
class Promotion:
    service: str
    prod_path: Path
    old_text: str | None  # None: prod had no file
    new_text: str
    changed_fields: list[str]
    notes: list[str] = field(default_factory=list)  # things people must read (removed unknown keys)

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    def diff(self, repo: Repo) -> str:
        rel = repo.rel(self.prod_path)
        old = (self.old_text or "").splitlines(keepends=True)
        new = self.new_text.splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{rel}" if self.old_text is not None else "/dev/null",
                                            f"b/{rel}"))


def plan_promotion(repo: Repo, service: str, *, source: str = "gray", target: str = "prod",
                   check_source: bool = True) -> Promotion:
    gray_path = repo.service_file(source, service)
    prod_path = repo.service_file(target, service)
    if not gray_path.is_file():
        raise ToolError(f"no {repo.rel(gray_path)}: only services that exist in {source} can be promoted",
                        rule="promote")
    if check_source:
        from mdeploy.validate import validate_repo

        problems, _ = validate_repo(repo.root, [gray_path], jobs=1)
        errors = [p for p in problems if p.level == ERROR]
        if errors:
            raise ToolError(f"{source} does not validate ({len(errors)} error{'s' if len(errors) != 1 else ''}); "
                            f"fix it before promoting: {errors[0].to_text()}", rule="promote")
    gray_text = gray_path.read_text(encoding="utf-8")
    gray = load_roundtrip(gray_text, repo.rel(gray_path))
    schema = _service_schema(str(repo.root / SCHEMA_DIR / "service.schema.json"))
    changes: list[str] = []
    notes: list[str] = []
    if prod_path.is_file():
        old_text = prod_path.read_text(encoding="utf-8")
        prod = load_roundtrip(old_text, repo.rel(prod_path))
        if not isinstance(prod, dict):
            raise ToolError(f"{repo.rel(prod_path)} is not a mapping; fix or delete it, then promote again",
                            path=repo.rel(prod_path), rule="promote")
        merge(prod, gray, schema, None, changes, notes=notes)
        new_text = dump_roundtrip(prod)
    else:
        old_text = None
        new_text = dump_roundtrip(_raise_replicas(gray))
        changes.append("(new file)")
    return Promotion(service, prod_path, old_text, new_text, changes, notes)


def _projection(data: Any, schema: dict[str, Any], inherited: bool | None) -> Any:
    """Only the promoted part of a plain document: what makes gray and prod differ for promote."""
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        sub = child_schema(schema, key)
        promote = marker(sub, inherited)
        if promote is True:
            out[key] = value
        elif promote is None:
            out[key] = _projection(value, sub, None)
    return out


def pending_services(repo: Repo, *, source: str = "gray", target: str = "prod") -> list[str]:
    """Gray services whose promoted fields differ from prod (or that prod lacks). A fast plain-YAML
    comparison, so only those go through the slower round-trip rewrite."""
    schema = _service_schema(str(repo.root / SCHEMA_DIR / "service.schema.json"))
    pending = []
    for name in repo.service_names(source):
        prod_path = repo.service_file(target, name)
        if not prod_path.is_file():
            pending.append(name)
            continue
        try:
            gray = yaml.load(repo.service_file(source, name).read_bytes(), Loader=_Loader)
            prod = yaml.load(prod_path.read_bytes(), Loader=_Loader)
        except (OSError, yaml.YAMLError):
            pending.append(name)  # let the real promotion report what is wrong
            continue
        if _projection(gray, schema, None) != _projection(prod, schema, None):
            pending.append(name)
    return pending


def apply(promotion: Promotion) -> None:
    write_atomic(promotion.prod_path, promotion.new_text)
