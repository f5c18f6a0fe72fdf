"""The governance file's `notifications:` section (off when absent).

Kept free of orgguard.config imports so orgguard/config/models.py can import it without a cycle.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

# A pragmatic address check: one @, a local part without spaces or control characters, a dotted domain.
# SNS itself only refuses an endpoint at Subscribe; a typo found at apply time reaches nobody silently.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_ROLE_NAME = r"^[A-Za-z0-9+=,.@_-]{1,64}$"


def _email(v: str) -> str:
    if not _EMAIL.match(v) or ".." in v:
        raise ValueError(f"{v[:60]!r} is not an e-mail address; write name@example.com")
    return v


def _https(v: str) -> str:
    """SNS https subscriptions: an absolute https:// URL with a host; http:// would send findings in clear."""
    parts = urlsplit(v)
    if parts.scheme != "https" or not parts.hostname or any(ch.isspace() for ch in v):
        raise ValueError(f"{v[:60]!r} is not an https:// URL with a host; write https://host/path (http is refused)")
    if parts.username or parts.password:
        raise ValueError(f"{v[:60]!r} carries credentials in the URL, which would be stored in the plan; remove them")
    return v


def _unique(values: list[str]) -> list[str]:
    problems = [f"@[{i}]: {v[:60]} is listed twice; remove the repeat" for i, v in enumerate(values)
                if v.lower() in [x.lower() for x in values[:i]]]
    if problems:
        raise ValueError("\n".join(problems))
    return values



def _each(values: list[str], check: Callable[[str], object]) -> list[str]:
    """Every entry checked (one `@[i]: problem` line each), then repeats refused."""
    problems = []
    for i, value in enumerate(values):
        try:
            check(value)
        except ValueError as exc:
            problems.append(f"@[{i}]: {exc}")
    if problems:
        raise ValueError("\n".join(problems))
    return _unique(values)

class Notifications(BaseModel):
    """Findings (a rule turning NON_COMPLIANT) and failed remediation runs, sent to one central bus and topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: Annotated[str, Field(pattern=r"^[0-9]{12}$")] = Field(
        description="Account holding the central EventBridge bus and SNS topic (typically the Control Tower "
        "Audit account); must belong to the organization"
    )
    email: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="E-mail subscribers; each stays PendingConfirmation until its recipient confirms. List at "
        "least one subscriber in email or https",
    )
    https: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="HTTPS endpoints subscribed to the topic; each must confirm the SNS subscription itself. The "
        "URL is stored in full in the plan and Terraform state: put no secret in its path or query",
    )
    region: str | None = Field(
        None,
        pattern=r"^[a-z]{2,4}(-[a-z]+){1,2}-[0-9]{1,2}$",
        description="Region of the central bus and topic; default organization.home_region; must be in regions",
    )
    role_name: str | None = Field(
        None,
        pattern=_ROLE_NAME,
        description="Role the notifications stack assumes in account_id; default account_execution_role "
        "(OrganizationAccountAccessRole); AWSControlTowerExecution in a Control Tower landing zone",
    )

    @field_validator("email")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        return _each(v, _email)

    @field_validator("https")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        return _each(v, _https)

    def problems(self, regions: list[str]) -> list[str]:
        """Cross-field checks against the rest of the file, as `@.notifications.<field>: ...` lines."""
        out = []
        if not self.email and not self.https:  # else exit 0, a verifier that passes, and nobody is told
            out.append(
                "@.notifications.email: no subscriber in notifications.email or notifications.https; list at least "
                "one subscriber, or remove the section"
            )
        if self.region is not None and self.region not in regions:
            out.append(
                f"@.notifications.region: {self.region} is not in organization.regions; add it there or omit "
                "region (default: organization.home_region)"
            )
        return out

    def bus_region(self, home_region: str) -> str:
        return self.region or home_region
