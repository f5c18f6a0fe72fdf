"""The approval gate: a flagged change passes only with an approval that names this exact plan.

The approval names the manifest's SHA-256, so any later edit to the plan (even one character)
invalidates it and the compliance owner must look again. Approving is deliberate and auditable:
who approved, why, and optionally until when.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orgguard.config.load import ConfigError, read_yaml
from orgguard.exitcodes import ExitCode
from orgguard.review.diff import Flag, ManifestDiff
from orgguard.review.errors import ReviewError

_SHA = r"^[0-9a-f]{64}$"


class Approval(BaseModel):
    """An approval file (YAML or JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manifest_sha256: str = Field(pattern=_SHA, description="sha256 of the approved manifest.json")
    approved_by: str = Field(min_length=1, description="Who approved: a person or a ticket's approver")
    reason: str = Field(min_length=1, description="Why the flagged changes are acceptable")
    expires: dt.date | None = Field(None, description="Last day the approval may be used (YYYY-MM-DD)")
    against_sha256: str | None = Field(None, pattern=_SHA, description="Optional: the previous manifest's sha256")
    approved_at: dt.datetime | dt.date | None = Field(
        None, description="Optional: when it was approved (ISO date or time); the verifier's evidence records it"
    )

    @field_validator("approved_by", "reason")
    @classmethod
    def _has_text(cls, v: str) -> str:
        """Evidence names a person and a reason: blank or invisible text is no approval."""
        if not v.strip() or not any(ch.isprintable() and not ch.isspace() for ch in v):
            raise ValueError("must contain text, not only spaces")
        if any(not ch.isprintable() for ch in v):
            raise ValueError("contains control or bidirectional-override characters; write plain text")
        return v


MAX_APPROVAL_BYTES = 64 * 1024  # an approval is a few lines; anything larger was not written by a person


def _read_bounded(path: Path) -> str:
    """The approval's text: a regular file only (a FIFO would block, /dev/zero never ends), at most
    MAX_APPROVAL_BYTES, strict UTF-8; every refusal is one ReviewError line."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of hanging; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ReviewError(f"cannot read approval file {path}: {exc.strerror or exc}; pass an existing file") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ReviewError(f"approval file {path} is not a regular file (a directory, device or pipe); pass a file")
    with os.fdopen(fd, "rb") as handle:
        try:
            raw = handle.read(MAX_APPROVAL_BYTES + 1)
        except OSError as exc:
            raise ReviewError(
                f"cannot read approval file {path}: {exc.strerror or exc}; pass a readable file"
            ) from None
    if len(raw) > MAX_APPROVAL_BYTES:
        raise ReviewError(
            f"approval file {path} is larger than {MAX_APPROVAL_BYTES // 1024} KiB; an approval is a few lines: "
            "manifest_sha256, approved_by, reason"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReviewError(f"approval file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def load_approval(path: Path) -> Approval:
    """Read an approval file; any problem becomes a one-line ReviewError naming the fix.

    Parsed with the governance file's YAML reader (orgguard.config.load.read_yaml): bounded depth and alias
    expansion, duplicate keys refused, YAML 1.2 booleans; JSON is YAML."""
    text = _read_bounded(path)
    try:
        data = read_yaml(text, str(path))
    except ConfigError as exc:
        raise ReviewError(f"approval file {path} is not valid YAML/JSON: {exc.problems[0]}") from None
    if not isinstance(data, dict):
        raise ReviewError(f"approval file {path} must be a mapping with manifest_sha256, approved_by and reason")
    if isinstance(data.get("manifest_sha256"), int):
        raise ReviewError(f"approval file {path}: quote manifest_sha256 so YAML reads it as a string")
    try:
        return Approval.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        hint = {
            "manifest_sha256": "use the 64 lower-case hex digits printed by `orgguard report`",
            "against_sha256": "use the 64 lower-case hex digits of the previous manifest",
            "expires": "write a date as YYYY-MM-DD",
            "approved_at": "write a date or time as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
            "approved_by": "name the person (or the ticket's approver) who approved",
            "reason": "say why the flagged changes are acceptable",
        }.get(where, "allowed keys: manifest_sha256, approved_by, reason, expires, against_sha256, approved_at")
        raise ReviewError(f"approval file {path}: {where}: {err['msg']}; {hint}") from exc


@dataclass
class GateResult:
    """The verdict: passed or not, why, and exactly which flags the approval covered."""

    passed: bool
    summary: str
    approved_flags: list[Flag] = field(default_factory=list)
    refused_flags: list[Flag] = field(default_factory=list)
    approval: Approval | None = None

    @property
    def exit_code(self) -> int:
        return ExitCode.OK if self.passed else ExitCode.FAILED

    def lines(self) -> list[str]:
        out = [("GATE PASSED: " if self.passed else "GATE REFUSED: ") + self.summary]
        out += [f"  approved: {f.line()}" for f in self.approved_flags]
        out += [f"  needs approval: {f.line()}" for f in self.refused_flags]
        return out


def evaluate_gate(diff: ManifestDiff, approval: Approval | None, today: dt.date | None = None) -> GateResult:
    """Refuse a flagged change unless ``approval`` names this manifest, is unexpired and fits."""
    flags = list(diff.flags)
    current = diff.current_sha256
    if not flags:
        return GateResult(True, "no flagged changes; no approval needed", approval=approval)
    count = f"{len(flags)} flagged change(s)"
    if approval is None:
        return GateResult(
            False,
            f"{count} need approval: write an approval file with manifest_sha256: {current} "
            "and pass it with --approval",
            refused_flags=flags,
        )
    if approval.manifest_sha256 != current:
        return GateResult(
            False,
            f"the approval names manifest {approval.manifest_sha256}, but this plan is {current}: "
            "the plan changed after it was approved; review it again and approve this hash",
            refused_flags=flags,
            approval=approval,
        )
    if approval.against_sha256 and approval.against_sha256 != diff.previous_sha256:
        return GateResult(
            False,
            f"the approval was for a change from {approval.against_sha256}, but the previous plan is "
            f"{diff.previous_sha256 or '(none: first deployment)'}; approve the diff actually shown",
            refused_flags=flags,
            approval=approval,
        )
    today = today or dt.date.today()
    if approval.expires and approval.expires < today:
        return GateResult(
            False,
            f"the approval by {approval.approved_by} expired on {approval.expires}; renew it",
            refused_flags=flags,
            approval=approval,
        )
    return GateResult(
        True,
        f"{count} approved by {approval.approved_by} ({approval.reason})",
        approved_flags=flags,
        approval=approval,
    )
