"""The one error type the review CLI turns into a one-line message and exit code 2 (see orgguard/errors.py)."""

from __future__ import annotations

from orgguard.errors import ReviewError

__all__ = ["ReviewError"]
