"""The one error hierarchy: every refusal orgguard makes, with the exit code a pipeline acts on.

Why one: each CLI used to declare its own error type and map it to a code by hand, so the same bad input
could exit 1 from one command and 2 from another. An `OrgguardError` carries its problems as short lines
(each naming the field and the fix) and its `ExitCode`; `orgguard.cli.main` prints the lines and returns the
code for any of them a sub-command lets through, so no input ends in a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from orgguard.exitcodes import ExitCode

MAX_PROBLEMS = 50  # lines printed; the rest are counted
MAX_LINE = 240  # characters of one problem line (a file name may come in front)


def short_line(line: str) -> str:
    """Keep a problem line readable: cut the middle of an overlong one, keeping the fix at its end."""
    if len(line) <= MAX_LINE:
        return line
    return line[: MAX_LINE - 81] + " … " + line[-78:]


def bounded(problems: Iterable[str]) -> list[str]:
    """At most MAX_PROBLEMS short lines, and a count of the rest: a flood of errors stays readable."""
    problems = list(problems)
    lines = [short_line(p) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"… and {len(problems) - MAX_PROBLEMS} more problem(s) not shown; fix these first")
    return lines


class OrgguardError(Exception):
    """Base of every error orgguard reports to a user: `problems` are the lines, `exit_code` the verdict."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def lines(self) -> list[str]:
        """What a CLI prints, one line per problem."""
        return list(self.problems) or [type(self).__name__]


class ConfigError(OrgguardError):
    """Invalid governance file; `problems` holds one human line per problem, printed after `source: `."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        super().__init__(bounded(problems))  # every producer's lines stay short and few
        Exception.__init__(self, "\n".join(f"{source}: {p}" for p in problems))

    def lines(self) -> list[str]:
        return [f"{self.source}: {p}" for p in self.problems]


class ManifestError(OrgguardError, ValueError):
    """Why a manifest cannot be used: one line per problem, each naming the field and the fix."""


class ReviewError(OrgguardError, ValueError):
    """Bad review input (manifest, approval file, arguments): the message names the problem and the fix."""


class UsageError(OrgguardError):
    """Bad arguments: printed as one line, exit code 2."""


class OutputError(OrgguardError):
    """The output directory could not be updated; the message is one line and says what was left where."""


class SandboxError(OrgguardError, RuntimeError):
    """The local sandbox could not start, or an operation against it failed (not the user's input)."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILED


__all__ = [
    "ConfigError",
    "ManifestError",
    "OrgguardError",
    "OutputError",
    "ReviewError",
    "SandboxError",
    "UsageError",
    "bounded",
    "short_line",
]
