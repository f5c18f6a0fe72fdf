"""The verifier: proves, account by account and region by region, that what synth planned is live.

Public API (used by ``orgguard demo``): :func:`verify`, :func:`render`, :class:`CheckResult`,
:class:`VerifyReport`. Every check ends PASS, FAIL (expected vs actual) or UNVERIFIED (why not read).
"""

from __future__ import annotations

from pathlib import Path

import boto3

from orgguard.manifest import Manifest
from orgguard.verify.aws import DEFAULT_MAX_ATTEMPTS
from orgguard.verify.render import Format, render
from orgguard.verify.result import CheckResult, Status, VerifyReport

DEFAULT_ROLE = "OrganizationAccountAccessRole"


def verify(
    manifest: Manifest,
    *,
    session: boto3.Session,
    member_role_name: str = DEFAULT_ROLE,
    external_id: str | None = None,
    workers: int = 16,
    progress: bool | None = None,
    accounts: list[str] | None = None,
    regions: list[str] | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    manifest_dir: Path | None = None,
    pack_templates: bool = False,
) -> VerifyReport:
    """Check live AWS against the manifest; ``session`` holds management or delegated-admin credentials.

    ``manifest_dir`` (where the manifest's ``content_file`` paths resolve) lets the document check accept
    content that CloudFormation re-serialized, by comparing it as JSON with the synthesized file.
    ``pack_templates`` adds the ``pack-template`` check (organization mode; needs ``manifest_dir``).
    """
    from orgguard.verify.runner import run

    return run(
        manifest,
        session=session,
        member_role_name=member_role_name,
        external_id=external_id,
        workers=workers,
        progress=progress,
        accounts=accounts,
        regions=regions,
        max_attempts=max_attempts,
        manifest_dir=manifest_dir,
        pack_templates=pack_templates,
    )


__all__ = ["CheckResult", "Format", "Status", "VerifyReport", "render", "verify"]
