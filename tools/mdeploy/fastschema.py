"""A fast yes/no JSON Schema check for the keywords our schemas use; jsonschema explains the no.

Why: `mdeploy validate` must check 2,000 files in a few seconds, and `jsonschema`'s generic
machinery (a validator object per descent, keyword dispatch) costs about 3 ms per service file.
Nearly every file is valid, so `compile_schema` turns a schema into nested closures that only
answer "valid?"; files that are not valid go through `jsonschema` for positioned, best-match
messages. The answer must be identical to `jsonschema`'s: tests compare both on generated
documents, and any keyword this module does not implement raises `Unsupported`, so the caller
falls back to `jsonschema` for every file rather than guess.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

# Keywords with no effect on validity (annotations), as jsonschema treats them without a format checker.
_ANNOTATIONS = {"description", "title", "default", "$schema", "$id", "examples", "format", "$comment",
                "readOnly", "writeOnly"}


class Unsupported(Exception):
    """The schema uses a keyword this module does not implement."""


def _is_integer(x: Any) -> bool:
    # Draft 7 (as jsonschema implements it): integral floats count as integers; booleans never do.
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: True is not 1, and 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _unique(items: list[Any]) -> bool:
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if _equal(a, b):
                return False
    return True


Resolver = Callable[[str], tuple[str, Any]]  # $ref -> (cache key, schema)


def compile_schema(schema: Any, resolve: Resolver | None = None) -> Check:
    """A function instance -> bool equivalent to jsonschema's is_valid for `schema`. `$ref` is
    supported when `resolve` is given (recursive definitions included)."""
    memo: dict[str, Check] = {}

    def comp(node: Any) -> Check:
        return _compile(node, comp, ref)

    def ref(target: str) -> Check:
        if resolve is None:
            raise Unsupported("$ref")
        key, node = resolve(target)
        if key not in memo:
            slot: list[Check] = []
            memo[key] = lambda x: slot[0](x)  # a trampoline, so recursive definitions terminate
            slot.append(comp(node))
        return memo[key]

    return comp(schema)


def _compile(schema: Any, comp: Callable[[Any], Check], ref: Callable[[str], Check]) -> Check:
    if schema is True or schema == {}:
        return lambda x: True
    if schema is False:
        return lambda x: False
    if not isinstance(schema, dict):
        raise Unsupported(f"schema {schema!r}")
    checks: list[Check] = []
    for key in schema:
        if key in _ANNOTATIONS or key.startswith("x-") or key in (
                "properties", "additionalProperties", "patternProperties", "then", "else", "$defs", "definitions"):
            continue
        if key == "$ref":
            checks.append(ref(schema[key]))
            continue
        if key not in _KEYWORDS:
            raise Unsupported(key)
        checks.append(_KEYWORDS[key](schema[key], schema, comp))
    if any(k in schema for k in ("properties", "additionalProperties", "patternProperties")):
        checks.append(_object_properties(schema, comp))
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]
    return lambda x: all(check(x) for check in checks)


def _type(value: Any, _: dict, comp: Callable[[Any], Check]) -> Check:
    names = value if isinstance(value, list) else [value]
    tests = [_TYPES[n] for n in names]
    if len(tests) == 1:
        return tests[0]
    return lambda x: any(t(x) for t in tests)


def _object_properties(schema: dict, comp: Callable[[Any], Check]) -> Check:
    props = {k: comp(v) for k, v in (schema.get("properties") or {}).items()}
    patterns = [(re.compile(p), comp(v)) for p, v in (schema.get("patternProperties") or {}).items()]
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is True else (False if extra is False else comp(extra))

    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for key, value in x.items():
            known = False
            if key in props:
                known = True
                if not props[key](value):
                    return False
            for pattern, sub in patterns:
                if isinstance(key, str) and pattern.search(key):
                    known = True
                    if not sub(value):
                        return False
            if not known and extra_check is not None:
                if extra_check is False or not extra_check(value):
                    return False
        return True
    return check


def _required(value: list, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not isinstance(x, dict) or all(k in x for k in value)


def _enum(value: list, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: any(_equal(x, v) for v in value)


def _const(value: Any, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: _equal(x, value)


def _pattern(value: str, _: dict, comp: Callable[[Any], Check]) -> Check:
    regex = re.compile(value)
    return lambda x: not isinstance(x, str) or regex.search(x) is not None


def _min_length(value: int, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not isinstance(x, str) or len(x) >= value


def _max_length(value: int, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not isinstance(x, str) or len(x) <= value


def _minimum(value: float, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not _is_number(x) or x >= value


def _maximum(value: float, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not _is_number(x) or x <= value


def _exclusive_minimum(value: float, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not _is_number(x) or x > value


def _exclusive_maximum(value: float, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not _is_number(x) or x < value


def _multiple_of(value: float, _: dict, comp: Callable[[Any], Check]) -> Check:
    """jsonschema's arithmetic exactly (float quotient, Fraction on overflow, modulo for ints)."""
    from fractions import Fraction

    def check(x: Any) -> bool:
        if not _is_number(x):
            return True
        if isinstance(value, float):
            try:
                quotient = x / value
                return int(quotient) == quotient
            except OverflowError:  # exact instead (jsonschema itself overflows on huge integers)
                return (Fraction(x) / Fraction(value)).denominator == 1
        return not x % value
    return check


def _items(value: Any, _: dict, comp: Callable[[Any], Check]) -> Check:
    if isinstance(value, list):
        raise Unsupported("tuple items")
    sub = comp(value)
    return lambda x: not isinstance(x, list) or all(sub(item) for item in x)


def _min_items(value: int, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not isinstance(x, list) or len(x) >= value


def _max_items(value: int, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not isinstance(x, list) or len(x) <= value


def _unique_items(value: bool, _: dict, comp: Callable[[Any], Check]) -> Check:
    if not value:
        return lambda x: True
    return lambda x: not isinstance(x, list) or _unique(x)


def _min_properties(value: int, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not isinstance(x, dict) or len(x) >= value


def _max_properties(value: int, _: dict, comp: Callable[[Any], Check]) -> Check:
    return lambda x: not isinstance(x, dict) or len(x) <= value


def _property_names(value: Any, _: dict, comp: Callable[[Any], Check]) -> Check:
    sub = comp(value)
    return lambda x: not isinstance(x, dict) or all(sub(k) for k in x)


def _one_of(value: list, _: dict, comp: Callable[[Any], Check]) -> Check:
    subs = [comp(v) for v in value]
    return lambda x: sum(1 for s in subs if s(x)) == 1


def _any_of(value: list, _: dict, comp: Callable[[Any], Check]) -> Check:
    subs = [comp(v) for v in value]
    return lambda x: any(s(x) for s in subs)


def _all_of(value: list, _: dict, comp: Callable[[Any], Check]) -> Check:
    subs = [comp(v) for v in value]
    return lambda x: all(s(x) for s in subs)


def _not(value: Any, _: dict, comp: Callable[[Any], Check]) -> Check:
    sub = comp(value)
    return lambda x: not sub(x)


def _if(value: Any, schema: dict, comp: Callable[[Any], Check]) -> Check:
    condition = comp(value)
    then = comp(schema.get("then", True))
    otherwise = comp(schema.get("else", True))
    return lambda x: then(x) if condition(x) else otherwise(x)


_KEYWORDS: dict[str, Callable[[Any, dict], Check]] = {
    "type": _type, "required": _required, "enum": _enum, "const": _const, "pattern": _pattern,
    "minLength": _min_length, "maxLength": _max_length, "minimum": _minimum, "maximum": _maximum,
    "exclusiveMinimum": _exclusive_minimum, "exclusiveMaximum": _exclusive_maximum, "items": _items,
    "multipleOf": _multiple_of,
    "minItems": _min_items, "maxItems": _max_items, "uniqueItems": _unique_items,
    "minProperties": _min_properties, "maxProperties": _max_properties, "propertyNames": _property_names,
    "oneOf": _one_of, "anyOf": _any_of, "allOf": _all_of, "not": _not, "if": _if,
}
