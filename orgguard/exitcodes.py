"""The exit codes every `orgguard` sub-command shares, declared once so a pipeline can rely on them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a pipeline should do next: 0 continue, 1 stop on a finding, 2 fix the input, 3 do not trust it."""

    OK = 0
    FAILED = 1  # a check failed, a gate refused, a canary found an open rule
    USAGE = 2  # bad arguments or an invalid governance file, manifest or approval; nothing was done
    UNVERIFIED = 3  # nothing failed, but something could not be checked: not proof
    INTERRUPTED = 130  # Ctrl-C / SIGINT, as shells report it


__all__ = ["ExitCode"]
