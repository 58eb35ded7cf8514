"""Make the pinned hypothesis-jsonschema 0.23.1 work with the pinned hypothesis 6.170.15.

hypothesis-jsonschema draws objects with the old internal protocol
`elements = cu.many(...); while elements.more(): ...; elements.reject()`; newer Hypothesis
replaced it with a context manager (`with cu.many(...) as elements: for _ in elements:`), so
every object schema fails with "'many' object has no attribute 'more'". This adapter offers the
old protocol on top of the new one and is installed only when the old one is missing. Remove it
when the pins move to a hypothesis-jsonschema release that uses the new protocol.
"""

from __future__ import annotations

import types

import hypothesis.internal.conjecture.utils as conjecture_utils
import hypothesis_jsonschema._from_schema as from_schema_module


class _OldStyleMany:
    def __init__(self, data, **kwargs) -> None:
        self._many = conjecture_utils.many(data, **kwargs)
        self._many.__enter__()
        self._elements = iter(self._many)
        self._open = True

    def more(self) -> bool:
        if not self._open:
            return False
        try:
            next(self._elements)
            return True
        except StopIteration:
            self._open = False
            self._many.__exit__(None, None, None)
            return False

    def reject(self) -> None:
        self._many.reject()


def install() -> None:
    if hasattr(conjecture_utils.many, "more"):
        return
    shim = types.SimpleNamespace(**{name: getattr(conjecture_utils, name) for name in dir(conjecture_utils)
                                    if not name.startswith("__")})
    shim.many = _OldStyleMany
    from_schema_module.cu = shim
