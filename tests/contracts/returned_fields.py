"""The check behind every "returned fields" fidelity test: which dotted paths a response lacks.

The official schemas mark almost every field optional, so a schema check alone passes when a field the
real API always sends goes missing. Each provider's fidelity test lists the paths the real API returns
by default and asks this module which are absent. ``[]`` after a step means every element of that list
must have the rest of the path (an empty list counts as missing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def missing_paths(value: Any, path: str, where: str = "") -> list[str]:
    """The concrete locations where ``path`` is absent in ``value`` (empty when all are present)."""
    head, _, rest = path.partition(".")
    key = head.removesuffix("[]")
    here = f"{where}.{key}" if where else key
    if not isinstance(value, dict) or key not in value:
        return [f"{here}{'[]' if head.endswith('[]') else ''}{'.' + rest if rest else ''}"]
    item = value[key]
    if head.endswith("[]"):
        if not isinstance(item, list) or not item:
            return [f"{here}[]{'.' + rest if rest else ''}"]
        return [m for i, element in enumerate(item) for m in missing_paths(element, rest, f"{here}[{i}]")]
    return missing_paths(item, rest, here) if rest else []


def assert_returns(value: Any, paths: Iterable[str], label: str) -> None:
    """Fail with every missing location when ``value`` lacks any of ``paths``."""
    missing = [m for p in paths for m in missing_paths(value, p)]
    assert not missing, f"{label} lacks {missing}"
