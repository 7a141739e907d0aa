"""JSON data as zoped stores it: bounded nesting, and walks that never recurse.

Stored documents come from outside (an evidence payload, an xAPI statement), so everything that
walks them (validation, export, erasure) uses an explicit stack: a document nested deeper than
Python's recursion limit is refused at the edge and still survives being read back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The deepest nesting accepted in a stored JSON document (a payload, a statement): far more
#: than any real one, far less than what breaks a recursive walk.
MAX_JSON_DEPTH = 32


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests (a scalar is 0, ``[]`` and ``{}`` are 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def transform(
    value: Any,
    leaf: Callable[[Any], Any],
    drop: Callable[[Any], bool] | None = None,
) -> Any:
    """``value`` rebuilt with every leaf mapped by ``leaf``, tuples as lists, and list elements
    for which ``drop`` holds left out; dict keys keep their order. Walked with an explicit
    stack, so any depth is fine."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        item, parent, key = stack.pop()
        if isinstance(item, dict):
            mapping: dict[Any, Any] = dict.fromkeys(item)
            parent[key] = mapping
            stack.extend((child, mapping, k) for k, child in item.items())
        elif isinstance(item, list | tuple):
            kept = [child for child in item if drop is None or not drop(child)]
            sequence: list[Any] = [None] * len(kept)
            parent[key] = sequence
            stack.extend((child, sequence, i) for i, child in enumerate(kept))
        else:
            parent[key] = leaf(item)
    return root[0]


def text_depth(text: bytes) -> int:
    """How deeply a JSON text nests, read from its brackets (outside strings) without parsing
    it: what the edge checks before any parser, recursive or not, sees the text."""
    deepest = depth = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest
