"""YAML in and out: positioned loading for validation, round-trip editing, atomic writes.

Validation reads thousands of files, so `load_positioned` builds plain Python data straight
from libyaml's event stream (PyYAML's C `CSafeLoader` parser) in one iterative pass and records
the 1-based line/column of every key and value on the way. Doing it from events rather than
`yaml.compose` + construct is what lets it refuse, with a position and without a traceback:
duplicate keys (YAML keeps the last one silently), alias bombs (counted as expanded), recursive
aliases, nesting deeper than MAX_DEPTH (the C composer recurses and can crash the interpreter),
binary garbage, empty and oversized files.

Promote and rollback edit files people wrote, so they use ruamel.yaml's round-trip mode, which
keeps comments, key order, quoting and flow style; `mdeploy.files.write_atomic` replaces a file only once the
new content is complete on disk.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mdeploy.report import ERROR, Problem

MAX_BYTES = 2 * 1024 * 1024  # a values file is a few KiB; anything this big is a mistake
MAX_DEPTH = 64
MAX_NODES = 200_000  # after alias expansion: what schema validation would have to walk

Path_ = tuple  # a path into the data: keys and list indexes, e.g. ("models", "ocr", "image")

# YAML's printable set (YAML 1.1 5.1): anything else is binary garbage we report by position.
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class Loaded:
    """One parsed file. `data` is None when a fatal problem stopped parsing."""

    path: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    # path -> (line, col) of the value, and of the key that holds it (1-based).
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, at: Path_) -> tuple[int, int]:
        """Position of the value at `at`, or of its nearest ancestor that has one."""
        at = tuple(at)
        while at:
            if at in self.values:
                return self.values[at]
            at = at[:-1]
        return self.values.get((), (1, 1))

    def key_where(self, at: Path_) -> tuple[int, int]:
        """Position of the key naming `at` (falls back to the value's position)."""
        at = tuple(at)
        return self.keys.get(at) or self.where(at)

    def problem(self, at: Path_, message: str, rule: str, level: str = ERROR, *, key: bool = False) -> Problem:
        line, col = self.key_where(at) if key else self.where(at)
        return Problem(self.path, line, col, level, message, rule)


def _position_of_offset(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def decode(raw: bytes, path: str) -> tuple[str | None, Problem | None]:
    """UTF-8 (with or without BOM) text, or a positioned problem naming the bad byte."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line, col = _position_of_offset(raw[: err.start].decode("utf-8", "replace"), err.start)
        return None, Problem(path, line, col, ERROR,
                             f"not UTF-8 text (byte 0x{raw[err.start]:02x}); save the file as UTF-8", "yaml-encoding")
    bad = _NON_PRINTABLE.search(text)
    if bad:
        line, col = _position_of_offset(text, bad.start())
        return None, Problem(path, line, col, ERROR,
                             f"control character U+{ord(bad.group()):04X} is not allowed in YAML; remove it "
                             "(binary content does not belong in a values file)", "yaml-encoding")
    return text, None


def read_file(path: Path, display: str | None = None) -> tuple[bytes | None, Problem | None]:
    """The file's bytes, or a problem (missing, unreadable, a directory, too large)."""
    shown = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, Problem(shown, 1, 1, ERROR,
                                 f"file is {size} bytes, over the {MAX_BYTES} byte limit for a values file; "
                                 "split it or remove generated content", "file-too-large")
        return path.read_bytes(), None
    except IsADirectoryError:
        return None, Problem(shown, 0, 0, ERROR, "is a directory, not a YAML file", "file-unreadable")
    except FileNotFoundError:
        return None, Problem(shown, 0, 0, ERROR, "no such file; check the path", "file-unreadable")
    except OSError as err:
        return None, Problem(shown, 0, 0, ERROR, f"cannot read: {err.strerror or err}; check its permissions",
                             "file-unreadable")


def load_file(path: Path, display: str | None = None) -> Loaded:
    raw, problem = read_file(path, display)
    if problem:
        return Loaded(display or str(path), problems=[problem])
    return load_positioned(raw, display or str(path))


def _syntax_problem(path: str, err: yaml.MarkedYAMLError) -> Problem:
    mark = err.problem_mark or err.context_mark
    message = (err.problem or "invalid YAML").strip()
    if err.context:
        where = f" at line {err.context_mark.line + 1}" if err.context_mark and err.context_mark is not mark else ""
        message = f"{message} ({err.context}{where})"
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(path, line, col, ERROR, f"YAML syntax: {message}", "yaml-syntax")


def _construct_scalar(event: yaml.ScalarEvent) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return event.value  # quoted: always a string
        return _plain_scalar(event.value)
    return _tagged_scalar(tag, event)


@lru_cache(maxsize=65536)
def _plain_scalar(value: str) -> Any:
    """Plain scalars repeat across thousands of files (`"2"`, `1Gi`, `true`): resolve each once.
    Every value this returns is immutable, so sharing them is safe."""
    tag = _resolver.resolve(yaml.ScalarNode, value, (True, False))
    if tag == "tag:yaml.org,2002:str":
        return value
    if tag == _MERGE_TAG:
        return "<<"
    node = yaml.ScalarNode(tag, value, None, None, None)
    return _constructor.yaml_constructors[tag](_constructor, node)


def _tagged_scalar(tag: str, event: yaml.ScalarEvent) -> Any:
    if tag == "tag:yaml.org,2002:str":
        return event.value
    constructor = _constructor.yaml_constructors.get(tag)
    if constructor is None:
        raise _Refused(f"unsupported tag {tag}; values files use plain YAML (strings, numbers, booleans, null)",
                       "yaml-syntax")
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    return constructor(_constructor, node)


class _Refused(Exception):
    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message, self.rule = message, rule


class _Frame:
    __slots__ = ("container", "path", "key", "key_mark", "anchor", "size", "merges")

    def __init__(self, container: Any, path: Path_, anchor: str | None) -> None:
        self.container = container
        self.path = path
        self.key: Any = _NO_KEY
        self.key_mark: tuple[int, int] | None = None
        self.anchor = anchor
        self.size = 1
        self.merges: list[Any] = []


_NO_KEY = object()


def load_positioned(source: bytes | str, path: str) -> Loaded:
    """Parse one YAML document into plain data with positions; never raises for bad input."""
    result = Loaded(path)
    if isinstance(source, bytes):
        text, problem = decode(source, path)
        if problem:
            result.problems.append(problem)
            return result
    else:
        text = source
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        result.problems.append(Problem(path, 1, 1, ERROR, "file is empty; a values file needs at least its "
                                       "required keys (run `mdeploy new` for a starting point)", "yaml-empty"))
        return result
    try:
        result.data = _build(text, result)
    except yaml.MarkedYAMLError as err:
        result.problems.append(_syntax_problem(path, err))
        result.data = None
    except yaml.YAMLError as err:  # ReaderError and friends carry no mark
        result.problems.append(Problem(path, 1, 1, ERROR, f"YAML syntax: {err}", "yaml-syntax"))
        result.data = None
    except _Positioned as err:
        result.problems.append(Problem(path, err.line, err.col, ERROR, err.message, err.rule))
        result.data = None
    if result.data is None and not result.problems:
        result.problems.append(Problem(path, 1, 1, ERROR, "file holds only `null`; write the service's keys",
                                       "yaml-empty"))
    return result


class _Positioned(Exception):
    def __init__(self, line: int, col: int, message: str, rule: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message, self.rule = line, col, message, rule


def _build(text: str, result: Loaded) -> Any:
    """One pass over parser events: containers, positions, anchors and every refusal."""
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, expanded node count)
    open_anchors: set[str] = set()
    total = 0
    documents = 0
    root: Any = None
    values, keys = result.values, result.keys

    def place(value: Any, mark: yaml.Mark, size: int, *, is_key_allowed: bool) -> Path_ | None:
        """Attach `value` to the enclosing container; return its path (None for a key)."""
        nonlocal root
        pos = (mark.line + 1, mark.column + 1)
        if not stack:
            root = value
            values[()] = pos
            return ()
        frame = stack[-1]
        frame.size += size
        if isinstance(frame.container, list):
            at = frame.path + (len(frame.container),)
            frame.container.append(value)
            values[at] = pos
            return at
        if frame.key is _NO_KEY:
            if not is_key_allowed:
                raise _Positioned(pos[0], pos[1], "a mapping or list cannot be a key; quote it or restructure",
                                  "yaml-syntax")
            frame.key, frame.key_mark = value, pos
            return None
        key, key_mark = frame.key, frame.key_mark
        frame.key = _NO_KEY
        if key == "<<" and isinstance(value, (dict, list)):
            frame.merges.append(value)  # YAML merge key: applied when the mapping ends
            return None
        at = frame.path + (key,)
        if key in frame.container:
            # Reported, then parsing goes on (keeping the last value, as YAML does), so the
            # author sees every other problem of the file in the same run.
            first = keys[at]
            result.problems.append(Problem(
                result.path, key_mark[0], key_mark[1], ERROR,
                f"duplicate key {key!r} (first at line {first[0]}); YAML silently keeps only the last one: "
                "remove or rename one of them", "duplicate-key"))
        frame.container[key] = value
        values[at] = pos
        keys[at] = key_mark
        return at

    def count(n: int, mark: yaml.Mark) -> None:
        nonlocal total
        total += n
        if total > MAX_NODES:
            raise _Positioned(mark.line + 1, mark.column + 1,
                              f"document expands to more than {MAX_NODES} nodes (an alias bomb?); "
                              "values files do not need aliases this large", "yaml-too-large")

    for event in yaml.parse(text, Loader=_Loader):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            try:
                value = _construct_scalar(event)
            except _Refused as err:
                raise _Positioned(event.start_mark.line + 1, event.start_mark.column + 1, err.message, err.rule)
            except (yaml.YAMLError, ValueError, OverflowError) as err:
                raise _Positioned(event.start_mark.line + 1, event.start_mark.column + 1,
                                  f"cannot read value {event.value[:40]!r}: {str(err).splitlines()[0]}; quote it",
                                  "yaml-syntax")
            count(1, event.start_mark)
            if isinstance(value, list) or isinstance(value, dict):  # !!set etc. are not produced for scalars
                value = str(value)
            place(value, event.start_mark, 1, is_key_allowed=True)
            if event.anchor:
                anchors[event.anchor] = (value, 1)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                raise _Positioned(event.start_mark.line + 1, event.start_mark.column + 1,
                                  f"unsupported tag {event.tag}; values files use plain mappings and lists",
                                  "yaml-syntax")
            if len(stack) >= MAX_DEPTH:
                raise _Positioned(event.start_mark.line + 1, event.start_mark.column + 1,
                                  f"nesting deeper than {MAX_DEPTH} levels; values files are a few levels deep",
                                  "yaml-too-deep")
            count(1, event.start_mark)
            container: Any = {} if kind is yaml.MappingStartEvent else []
            at = place(container, event.start_mark, 0, is_key_allowed=False)
            stack.append(_Frame(container, at if at is not None else (), event.anchor))
            if event.anchor:
                open_anchors.add(event.anchor)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frame = stack.pop()
            for merged in frame.merges:
                for source in merged if isinstance(merged, list) else [merged]:
                    if isinstance(source, dict):
                        for key, value in source.items():
                            frame.container.setdefault(key, value)
            if stack:
                stack[-1].size += frame.size
            if frame.anchor:
                open_anchors.discard(frame.anchor)
                anchors[frame.anchor] = (frame.container, frame.size)
        elif kind is yaml.AliasEvent:
            line, col = event.start_mark.line + 1, event.start_mark.column + 1
            if event.anchor in open_anchors:
                raise _Positioned(line, col, f"alias *{event.anchor} refers to itself; remove the recursion",
                                  "yaml-syntax")
            if event.anchor not in anchors:
                raise _Positioned(line, col, f"alias *{event.anchor} has no anchor &{event.anchor} before it",
                                  "yaml-syntax")
            value, size = anchors[event.anchor]
            count(size, event.start_mark)
            place(value, event.start_mark, size, is_key_allowed=not isinstance(value, (dict, list)))
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Positioned(event.start_mark.line + 1, event.start_mark.column + 1,
                                  "more than one YAML document (`---`); a values file holds exactly one",
                                  "yaml-syntax")
    return root


# --- round trip (promote, rollback, new) ---------------------------------------------------

def roundtrip_yaml():
    """A ruamel.yaml instance that reproduces this repository's style byte for byte."""
    from ruamel.yaml import YAML  # imported lazily: validation never needs it

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap long lines (image references, args)
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def load_roundtrip(text: str, path: str) -> Any:
    """Parse for editing; a ToolError with a position when the text is not valid YAML."""
    from ruamel.yaml.error import MarkedYAMLError

    from mdeploy.report import ToolError

    try:
        return roundtrip_yaml().load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise ToolError(f"YAML syntax: {err.problem or err}", path=path,
                        line=(mark.line + 1) if mark else 0, col=(mark.column + 1) if mark else 0,
                        rule="yaml-syntax") from err


def dump_roundtrip(data: Any) -> str:
    buf = io.StringIO()
    roundtrip_yaml().dump(data, buf)
    return buf.getvalue()
