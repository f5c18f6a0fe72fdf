"""Check results and the report: the verifier's only output type, shared by every check and renderer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from orgguard.exitcodes import ExitCode

if TYPE_CHECKING:
    from orgguard.verify.binding import Evidence

Status = Literal["PASS", "FAIL", "UNVERIFIED"]

GLOBAL_REGION = "global"  # region column of checks on global services (IAM, Organizations)


@dataclass(frozen=True)
class CheckResult:
    """One fact about one target. ``account_id`` holds an OU id for OU-level checks (Control Tower)."""

    check: str
    control: str | None
    account_id: str
    region: str
    status: Status
    expected: object = None
    actual: object = None
    reason: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Stable identity of the check: what, for which control, where."""
        return (self.check, self.control or "", self.account_id, self.region)


def passed(check: str, control: str | None, account_id: str, region: str, actual: object = None) -> CheckResult:
    return CheckResult(check, control, account_id, region, "PASS", actual=actual)


def failed(
    check: str,
    control: str | None,
    account_id: str,
    region: str,
    expected: object,
    actual: object,
    reason: str,
) -> CheckResult:
    return CheckResult(check, control, account_id, region, "FAIL", expected, actual, reason)


def unverified(check: str, control: str | None, account_id: str, region: str, reason: str) -> CheckResult:
    return CheckResult(check, control, account_id, region, "UNVERIFIED", reason=reason)


@dataclass
class VerifyReport:
    """All results of one run plus what it cost (API calls) so the benchmark can report it."""

    results: list[CheckResult]
    api_calls: dict[tuple[str, str], int] = field(default_factory=dict)  # (account, region) -> calls
    api_calls_by_check: dict[str, int] = field(default_factory=dict)
    api_operations: dict[tuple[str, str], int] = field(default_factory=dict)  # (check kind, "svc:Op")
    wall_seconds: float = 0.0
    evidence: Evidence | None = None  # which plan and approval the run was bound to (set by the CLI)

    def exit_code(self) -> ExitCode:
        """0 all pass, 1 any FAIL, 3 no FAIL but something UNVERIFIED (or nothing checked at all)."""
        statuses = {r.status for r in self.results}
        if "FAIL" in statuses:
            return ExitCode.FAILED
        if "UNVERIFIED" in statuses or not self.results:
            return ExitCode.UNVERIFIED
        return ExitCode.OK

    def counts(self) -> dict[str, int]:
        out = {"PASS": 0, "FAIL": 0, "UNVERIFIED": 0}
        for r in self.results:
            out[r.status] += 1
        return out

    def by_status(self, status: Status) -> list[CheckResult]:
        return [r for r in self.results if r.status == status]
