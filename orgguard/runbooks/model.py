"""The Runbook record: one remediation document, its handler and its least-privilege role."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orgguard.manifest import ACCOUNT_PLACEHOLDER
from orgguard.runbooks.render import render

ACCOUNT = ACCOUNT_PLACEHOLDER
POLICY_VERSION = "2012-10-17"
DEFAULT_EXEMPTION_TAG_KEY = "orgguard:exemption"
EXEMPTION_TAG_FORMAT = "owner=<email>;reason=<text>;expires=YYYY-MM-DD"


@dataclass(frozen=True)
class Param:
    """One SSM document parameter. Config static values are strings, so switches are String true/false."""

    name: str
    type: str
    description: str
    default: Any = None
    allowed_values: tuple[str, ...] = ()
    allowed_pattern: str | None = None

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "description": self.description}
        if self.default is not None:
            out["default"] = self.default
        if self.allowed_values:
            out["allowedValues"] = list(self.allowed_values)
        if self.allowed_pattern:
            out["allowedPattern"] = self.allowed_pattern
        return out


@dataclass(frozen=True)
class Grant:
    """One policy statement. `called` is False for authorisation-only actions (iam:PassRole, tag-on-create)."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: dict[str, dict[str, str]] | None = None
    called: bool = True

    def statement(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions) if len(self.actions) > 1 else self.actions[0],
            "Resource": list(self.resources) if len(self.resources) > 1 else self.resources[0],
        }
        if self.condition:
            out["Condition"] = self.condition
        return out


def dry_run_param(default: str = "false") -> Param:
    """The DryRun switch every mutating runbook takes."""
    return Param(
        "DryRun",
        "String",
        "true: report what would change and change nothing. A String, because AWS Config passes static "
        "remediation values as strings.",
        default=default,
        allowed_values=("true", "false"),
    )


ROLE_PARAM = Param(
    "AutomationAssumeRole",
    "String",
    "ARN of the role the automation assumes (the runbook's least-privilege role).",
    allowed_pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$",
)


def ssm_trust_policy() -> dict[str, Any]:
    """Trust ssm.amazonaws.com only, and only for automation executions of this same account."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "SsmAutomationOfThisAccountOnly",
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:ssm:*:{ACCOUNT}:automation-execution/*"},
                },
            }
        ],
    }


@dataclass(frozen=True)
class Runbook:
    """A remediation runbook as the synthesis consumes it (see orgguard.runbooks.__init__)."""

    key: str
    document_suffix: str
    role_suffix: str
    description: str
    revokes: str
    never_touches: str
    resource_type: str
    resource_parameter: str
    # Dotted name of the handler module (stdlib + boto3 only), embedded verbatim as the step's Script; it
    # lives beside the runbook: orgguard/controls/<control>/handler.py or orgguard/runbooks/<name>/handler.py.
    handler_module: str = field(repr=False)
    step_name: str = field(repr=False)
    parameters: tuple[Param, ...] = field(repr=False)
    grants: tuple[Grant, ...] = field(repr=False)
    embeds_exemptions: bool = field(default=False, repr=False)

    @property
    def handler_path(self) -> Path:
        """The handler's file, found without importing it (it imports boto3, which synth does not need)."""
        spec = importlib.util.find_spec(self.handler_module)
        if spec is None or spec.origin is None:
            raise ValueError(f"runbook {self.key}: handler module {self.handler_module} not found")
        return Path(spec.origin)

    def document_parameters(self) -> dict[str, dict[str, Any]]:
        return {p.name: p.spec() for p in (*self.parameters, ROLE_PARAM)}

    def render_document(self, exemptions: Sequence[dict[str, str]] = ()) -> str:
        """Exact JSON text of the SSM Automation document: same bytes for the same approved exemptions.

        A runbook that embeds exemptions gets them as literal InputPayload values (ApprovedExemptions), beside
        AccountId = SSM's global:ACCOUNT_ID (the execution's own account): part of the document, hashed with
        it, and beyond any caller's reach. An empty list approves nothing.
        """
        extra: dict[str, Any] | None = None
        if self.embeds_exemptions:
            extra = {"AccountId": "{{ global:ACCOUNT_ID }}", "ApprovedExemptions": [dict(e) for e in exemptions]}
        elif exemptions:
            raise ValueError(f"runbook {self.key} does not take exemptions")
        return render(
            description=self.description,
            step_name=self.step_name,
            parameters=self.document_parameters(),
            handler=self.handler_path,
            payload_extra=extra,
        )

    def trust_policy(self) -> dict[str, Any]:
        return ssm_trust_policy()

    def permission_policy(self) -> dict[str, Any]:
        statements = [g.statement() for g in self.grants]
        return {"Version": POLICY_VERSION, "Statement": statements}

    def required_actions(self) -> tuple[str, ...]:
        """Every IAM action the policy grants: the handler's API calls plus authorisation-only actions."""
        return tuple(sorted({a for g in self.grants for a in g.actions}))

    def called_actions(self) -> tuple[str, ...]:
        """The actions the handler invokes as API calls (a subset of required_actions)."""
        return tuple(sorted({a for g in self.grants if g.called for a in g.actions}))
