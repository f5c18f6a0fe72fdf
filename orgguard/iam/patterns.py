"""IAM wildcard patterns: matching a value, and containment of one pattern in another.

IAM wildcards are ``*`` (any run of characters, ``:`` and ``/`` included) and ``?`` (exactly one
character); everything else is literal. Actions compare without regard to case, resources and
condition values with it (IAM User Guide, "IAM JSON policy elements: Action" and "Resource";
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).

ARNs (the Resource element, ``ArnLike`` / ``ArnEquals`` and their negations) are compared component
by component: the six colon-separated parts are matched separately, so ``*`` in the account part
never swallows the region (IAM User Guide, condition operators, "Amazon Resource Name (ARN) condition
operators": "Each of the six colon-delimited components of the ARN is checked separately").
The sixth part (the resource) is everything after the fifth colon, so a trailing ``*`` there spans
``/`` and ``:`` as IAM documents for resource ARNs. For the Resource element IAM also lets a ``*`` that
ends an earlier component run past its colon; this matcher does not, so it can only under-report a
match on ARNs with extra colons: a "denied" it proves, IAM denies too.
"""

from __future__ import annotations

from functools import lru_cache

ANY = "*"
ARN_PARTS = 6


@lru_cache(maxsize=8192)
def _match(pattern: str, value: str) -> bool:
    """Iterative glob match with backtracking over the last ``*`` (linear space, no recursion)."""
    p = v = 0
    star = mark = -1
    while v < len(value):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == value[v]):
            p += 1
            v += 1
        elif p < len(pattern) and pattern[p] == "*":
            star, mark = p, v
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            v = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def wildcard_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """True when ``value`` is one of the strings ``pattern`` matches."""
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    return _match(pattern, value)


def arn_match(pattern: str, value: str) -> bool:
    """ARN comparison as IAM does it for ``ArnLike`` and the Resource element.

    ``*`` alone matches every value. Otherwise both sides must have six components; each is
    matched on its own (case-sensitive). A pattern with fewer components whose last one ends in
    ``*`` lets that ``*`` run on over the remaining colons (``arn:aws:ssm:*``).
    """
    if pattern == ANY:
        return True
    pat = pattern.split(":", ARN_PARTS - 1)
    val = value.split(":", ARN_PARTS - 1)
    if len(val) != ARN_PARTS:
        return False
    if len(pat) < ARN_PARTS:
        if not pat[-1].endswith(ANY):
            return False
        head, tail = pat[:-1], pat[-1]
        rest = ":".join(val[len(head) :])
        return all(_match(p, x) for p, x in zip(head, val, strict=False)) and _match(tail, rest)
    return all(_match(p, x) for p, x in zip(pat, val, strict=True))


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
