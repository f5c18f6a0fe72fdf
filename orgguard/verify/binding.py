"""Bind a verification run to the plan it checks, before any AWS call.

A clean verify run is only evidence if it says *which* plan was checked and that this plan is the
approved one. So the manifest must be intact (bounded parse, every document and template beside it
matching its recorded hash), must have something to verify, and — with an approval file — must be the
exact plan the approval names. The resulting :class:`Evidence` travels into the JSON and JUnit reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orgguard import __version__
from orgguard.manifest import Manifest, ManifestError, load_manifest

MAX_APPROVAL_BYTES = 64 * 1024  # an approval is a few lines of YAML


class BindingError(ValueError):
    """The run cannot be bound to a plan: one line per problem, each naming what does not match and the fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ApprovalEvidence:
    """The approval a run was checked against, as a compliance owner files it."""

    file: str
    file_sha256: str
    manifest_sha256: str
    approved_by: str
    reason: str
    approved_at: str | None
    expires: str | None


@dataclass(frozen=True)
class Evidence:
    """Which plan a run checked, against which approval, when and with which verifier."""

    manifest_file: str
    manifest_sha256: str  # the plan's identity, the hash an approval names (Manifest.sha256)
    manifest_file_sha256: str  # the bytes on disk, for an auditor who hashes the file itself
    config_file: str
    config_sha256: str
    synthesized_by: str
    verifier_version: str
    checked_at: str
    approval: ApprovalEvidence | None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256_file(path: Path, limit: int | None = None) -> str:
    with path.open("rb") as handle:
        return hashlib.sha256(handle.read(limit) if limit else handle.read()).hexdigest()


def nothing_to_verify(manifest: Manifest, who: str) -> list[str]:
    """A plan that guards nothing must not verify clean: an emptied manifest proves nothing."""
    problems = []
    if not manifest.enabled_controls():
        problems.append(
            f"{who} enables no control: nothing to verify; enable a control in the governance file "
            "and re-run `orgguard synth`"
        )
    if not manifest.organization.regions:
        problems.append(f"{who} names no region: nothing to verify; list organization.regions and re-run synth")
    if manifest.mode == "account" and not manifest.accounts:
        problems.append(f"{who} is in account mode with no account: nothing to verify; list the vended accounts")
    return problems


def _approval(path: Path, manifest: Manifest, who: str, today: dt.date) -> tuple[ApprovalEvidence, list[str]]:
    from orgguard.review.approval import load_approval
    from orgguard.review.errors import ReviewError

    if path.is_file() and path.stat().st_size > MAX_APPROVAL_BYTES:
        raise BindingError(
            [
                f"approval file {path} is larger than {MAX_APPROVAL_BYTES // 1024} KiB; pass the "
                "approval file `orgguard report --gate --approval` accepted"
            ]
        )
    try:
        approval = load_approval(path)
    except ReviewError as exc:
        raise BindingError([str(exc).splitlines()[0]]) from None
    current = manifest.sha256()
    if approval.manifest_sha256 != current:
        raise BindingError(
            [
                f"approval file {path} approves manifest {approval.manifest_sha256}, but {who} is {current}: "
                "this is not the approved plan; verify the approved manifest, or review this one and approve its hash"
            ]
        )
    warnings = []
    if approval.expires and approval.expires < today:
        warnings.append(
            f"the approval by {approval.approved_by} expired on {approval.expires}: it no longer "
            "authorizes deploying this plan; this run still checks live AWS against it"
        )
    approved_at = getattr(approval, "approved_at", None)
    evidence = ApprovalEvidence(
        file=str(path),
        file_sha256=_sha256_file(path),
        manifest_sha256=approval.manifest_sha256,
        approved_by=approval.approved_by,
        reason=approval.reason,
        approved_at=approved_at.isoformat() if approved_at else None,
        expires=approval.expires.isoformat() if approval.expires else None,
    )
    return evidence, warnings


def bind(
    manifest_path: Path,
    approval_path: Path | None,
    *,
    now: dt.datetime | None = None,
) -> tuple[Manifest, Evidence]:
    """Load and check the manifest and, with ``approval_path``, that it is the approved plan.

    Reads only local files; raises BindingError (one line per problem) before anything reaches AWS.
    """
    now = now or dt.datetime.now(dt.UTC)
    who = f"manifest {manifest_path}"
    try:
        manifest = load_manifest(manifest_path, files="require")
    except ManifestError as exc:
        raise BindingError(exc.problems) from None
    problems = nothing_to_verify(manifest, who)
    if problems:
        raise BindingError(problems)
    warnings: list[str] = []
    approval = None
    if approval_path is None:
        warnings.append(
            "this run is not bound to an approval, so it proves the deployed state matches this "
            "manifest, not that the manifest was approved; pass --approval FILE"
        )
    else:
        approval, more = _approval(approval_path, manifest, who, now.date())
        warnings += more
    evidence = Evidence(
        manifest_file=str(manifest_path),
        manifest_sha256=manifest.sha256(),
        manifest_file_sha256=_sha256_file(manifest_path),
        config_file=manifest.source.config_file,
        config_sha256=manifest.source.config_sha256,
        synthesized_by=f"orgguard {manifest.tool_version}",
        verifier_version=f"orgguard {__version__}",
        checked_at=now.isoformat(timespec="seconds"),
        approval=approval,
        warnings=warnings,
    )
    return manifest, evidence


__all__ = ["ApprovalEvidence", "BindingError", "Evidence", "bind", "nothing_to_verify"]
