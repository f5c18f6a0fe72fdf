"""Containment of IAM wildcard patterns: is every string one pattern matches also matched by another?

Policy comparison must be semantic: ``ec2:Describe*`` inside ``ec2:*`` is a narrowing, ``ec2:*``
replacing ``ec2:Describe*`` a widening. IAM wildcards are ``*`` (any run, ``:`` and ``/`` included)
and ``?`` (one character).
"""

from __future__ import annotations

from functools import lru_cache


def pattern_within(inner: str, outer: str, *, case_sensitive: bool = True) -> bool:
    """True when every string matched by ``inner`` is also matched by ``outer``.

    Sound: it never says True for a pattern that matches more. An ``inner`` ``*`` is only absorbed
    by an ``outer`` ``*``; an ``inner`` ``?`` by ``?`` or ``*``; a literal by itself, ``?`` or ``*``.
    """
    if not case_sensitive:
        inner, outer = inner.lower(), outer.lower()
    return _within(inner, outer)


@lru_cache(maxsize=4096)
def _within(inner: str, outer: str) -> bool:
    if not outer:
        return not inner
    head = outer[0]
    if head == "*":
        # The outer star absorbs zero or more inner symbols (inner stars included).
        return any(_within(inner[i:], outer[1:]) for i in range(len(inner) + 1))
    if not inner:
        return False
    symbol = inner[0]
    if symbol == "*":
        return False
    if head == "?" or head == symbol:
        return _within(inner[1:], outer[1:])
    return False
