"""Kubernetes resource quantities as numbers: CPU in millicores, memory in bytes.

Only the forms the schemas allow (`"2"`, `0.5`, `500m`; `512Mi`, `16Gi`, `1G`, plain bytes).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_MEMORY_SUFFIXES = {
    "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4,
    "K": 1000, "M": 1000 ** 2, "G": 1000 ** 3, "T": 1000 ** 4,
}


def cpu_millicores(value: str | int | float) -> int:
    text = str(value).strip()
    try:
        if text.endswith("m"):
            return int(Decimal(text[:-1]))
        return int(Decimal(text) * 1000)
    except InvalidOperation as err:
        raise ValueError(f"not a CPU quantity: {value!r}") from err


def memory_bytes(value: str | int) -> int:
    text = str(value).strip()
    for suffix in ("Ki", "Mi", "Gi", "Ti", "K", "M", "G", "T"):
        if text.endswith(suffix):
            number, factor = text[: -len(suffix)], _MEMORY_SUFFIXES[suffix]
            break
    else:
        number, factor = text, 1
    try:
        return int(Decimal(number) * factor)
    except InvalidOperation as err:
        raise ValueError(f"not a memory quantity: {value!r}") from err


def format_cpu(millicores: int) -> str:
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def format_memory(num_bytes: int) -> str:
    for suffix in ("Ti", "Gi", "Mi", "Ki"):
        factor = _MEMORY_SUFFIXES[suffix]
        if num_bytes >= factor and num_bytes % factor == 0:
            return f"{num_bytes // factor}{suffix}"
    for suffix in ("Ti", "Gi", "Mi"):
        factor = _MEMORY_SUFFIXES[suffix]
        if num_bytes >= factor:
            return f"{num_bytes / factor:.1f}{suffix}"
    return str(num_bytes)
