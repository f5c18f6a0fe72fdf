"""A reference matcher for the subset of EventBridge event patterns the fast path uses, with its own tests.

moto's matcher (the one its put_events routing uses) does not look inside arrays of objects, and CloudTrail
events hold ingress changes in such arrays (requestParameters.ipPermissions.items[]...), so the fast-path
tests need a matcher that does. Semantics, from the Amazon EventBridge user guide:
- a pattern field's value is an object (match nested fields) or an array of filters, any of which may match
  ("Event pattern syntax"); every field of the pattern must match (AND);
- "If the value in the event is an array, then the event pattern matches if the intersection of the event
  pattern array and the event array is non-empty" ("Arrays in event patterns"); arrays of objects are
  matched element by element, so a path reaches the fields of every element;
- filters: exact values, prefix, suffix, exists (leaf nodes only), and $or, a list of alternative patterns
  ("Comparison operators for use in event patterns");
- wildcard: `*` matches any run of characters (none included), case-sensitive, over the whole string; `\\*`
  and `\\\\` stand for a literal `*` and `\\`; a backslash before any other character and consecutive `**` are
  refused by EventBridge ("Wildcard matching", https://docs.aws.amazon.com/eventbridge/latest/userguide/
  eb-create-pattern-operators.html#eb-filtering-wildcard-matching), so they raise here.
Any other filter raises, so a pattern using one cannot pass these tests unnoticed.
"""

from __future__ import annotations

import re
from typing import Any

SCALARS = (str, int, float, bool, type(None))


def values_at(node: Any, path: tuple[str, ...]) -> list[Any]:
    """Every value at `path`, descending into each element of every array on the way (and at the end)."""
    if isinstance(node, list):
        return [v for item in node for v in values_at(item, path)]
    if not path:
        return [node]
    if isinstance(node, dict) and path[0] in node:
        return values_at(node[path[0]], path[1:])
    return []


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """An EventBridge wildcard as a regular expression matched against the whole string."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1] not in "*\\":
                raise ValueError(f"wildcard {pattern!r}: a backslash escapes only * or \\")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*" and pattern[i + 1:i + 2] == "*":
            raise ValueError(f"wildcard {pattern!r}: consecutive wildcard characters are not supported")
        out.append(".*" if c == "*" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _filter_matches(leaves: list[Any], flt: Any) -> bool:
    if isinstance(flt, SCALARS):
        return any(type(v) is type(flt) and v == flt for v in leaves)
    if not isinstance(flt, dict) or len(flt) != 1:
        raise ValueError(f"unsupported filter {flt!r}")
    (name, arg), strings = next(iter(flt.items())), [v for v in leaves if isinstance(v, str)]
    if name == "exists":
        return bool(leaves) is arg
    if name == "prefix" and isinstance(arg, str):
        return any(v.startswith(arg) for v in strings)
    if name == "suffix" and isinstance(arg, str):
        return any(v.endswith(arg) for v in strings)
    if name == "wildcard" and isinstance(arg, str):
        regex = wildcard_regex(arg)
        return any(regex.fullmatch(v) for v in strings)
    raise ValueError(f"unsupported filter {flt!r}")


def matches(pattern: dict[str, Any], event: Any, path: tuple[str, ...] = ()) -> bool:
    """Does `event` match `pattern`?"""
    for key, want in pattern.items():
        if key == "$or":
            ok = any(matches(alternative, event, path) for alternative in want)
        elif isinstance(want, dict):
            ok = matches(want, event, (*path, key))
        elif isinstance(want, list) and want:
            leaves = [v for v in values_at(event, (*path, key)) if isinstance(v, SCALARS)]
            ok = any(_filter_matches(leaves, f) for f in want)
        else:
            raise ValueError(f"{'.'.join((*path, key))}: a pattern value is an object or a non-empty array")
        if not ok:
            return False
    return True
