"""The one error type the review CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class ReviewError(ValueError):
    """Bad input (manifest, approval file, arguments): the message names the problem and the fix."""
