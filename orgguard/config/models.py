"""The governance file, validated into typed models.

The JSON Schema in schema/governance.schema.json is generated from these models
(`orgguard schema`); a test fails when the committed copy is stale.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from orgguard.config.state import State
from orgguard.controls import CATALOG, ControlSettings
from orgguard.iam.patterns import arn_match
from orgguard.layers.notifications.settings import Notifications
from orgguard.layers.vpc_block_public_access.settings import VpcBlockPublicAccess
from orgguard.layers.vpc_block_public_access.settings import problems as vpc_bpa_problems
from orgguard.naming import Names
from orgguard.partition import partition_of, unsupported_reason


def _region_served(v: str) -> str:
    """A region the endpoint data knows, in a partition the plan's ARNs serve (orgguard/partition.py)."""
    reason = unsupported_reason(v)
    if reason:
        raise ValueError(reason)
    return v


def _has_text(v: str) -> str:
    """Owners and reasons are read by people: blanks or punctuation alone answer nothing."""
    if not any(ch.isalnum() for ch in v):
        raise ValueError("must contain text (letters or digits), not only spaces or punctuation; say who or why")
    return v


# AWS tag keys: 1-128 characters of letters, digits, spaces and _ . : / = + - @, never starting with `aws:`,
# reserved for AWS "in any upper or lowercase combination" (EC2 tag restrictions,
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions, and the common tag
# rules repeated on https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ecs-service-tag.html).
_TAG_KEY_SYMBOLS = frozenset("_.:/=+-@")


def _tag_key(v: str) -> str:
    if v.lower().startswith("aws:"):
        raise ValueError(f"{v[:4]!r} is a prefix AWS reserves for its own tags (in any case); choose another key")
    if v != v.strip():
        raise ValueError("has leading or trailing spaces, which are easy to miss; remove them")
    for ch in v:
        if not (ch.isalnum() or ch in _TAG_KEY_SYMBOLS or unicodedata.category(ch) == "Zs"):
            raise ValueError(
                f"contains {ch!r}, which AWS tag keys may not; use letters, digits, spaces and _ . : / = + - @"
            )
    return v


# ASCII classes throughout: pydantic's regex engine, like Python's, lets \d match any Unicode digit
# (full-width, Arabic-Indic).
AccountId = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="12-digit AWS account id")]
OuId = Annotated[
    str,
    Field(
        pattern=r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$",
        description="Organizational unit id (ou-xxxx-xxxxxxxx) or the root id (r-xxxx)",
    ),
]
Region = Annotated[
    str,
    Field(pattern=r"^[a-z]{2,4}(-[a-z]+){1,2}-[0-9]{1,2}$", description="e.g. eu-west-1; aws partition only"),
    AfterValidator(_region_served),
]
NamePrefix = Annotated[
    str,
    Field(
        pattern=r"^[a-zA-Z][-a-zA-Z0-9]*$",
        min_length=1,
        max_length=40,
        description="Prefix of every resource name; letters, digits and hyphens, starting with a letter",
    ),
]


Text = Annotated[str, Field(min_length=1), AfterValidator(_has_text)]
TagKey = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_tag_key)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(values: list[str]) -> list[str]:
    problems = [f"@[{i}]: {v} is listed twice; remove the repeat" for i, v in enumerate(values) if v in values[:i]]
    if problems:
        raise ValueError("\n".join(problems))
    return values


MAX_REASON = 500  # a reason is read in the report and the manifest; a page of text hides what matters


def _plain_text(v: str) -> str:
    """Owners and reasons land raw in the Markdown/HTML report and the manifest: control characters (ESC) and
    invisible format characters (U+202E right-to-left override, zero-width ones) could make a reviewer read
    something else than what is there (Trojan Source, CVE-2021-42574)."""
    for ch in v:
        if unicodedata.category(ch) in ("Cc", "Cf"):
            raise ValueError(
                f"contains the invisible or control character U+{ord(ch):04X}, which could make the report read "
                "differently from what it holds; write plain text on one line"
            )
    return v


Reason = Annotated[
    str, Field(min_length=1, max_length=MAX_REASON), AfterValidator(_has_text), AfterValidator(_plain_text)
]
Owner = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_has_text), AfterValidator(_plain_text)]


def _date_only(v: Any) -> Any:
    """An expiry is a day: a date-time (YAML reads 2027-03-31T00:00:00Z as one) would be silently cut to its date."""
    if isinstance(v, dt.datetime) or (isinstance(v, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v)):
        raise ValueError("must be a date, YYYY-MM-DD (no time: the entry holds through the end of that day, UTC)")
    return v


class ExcludedAccount(_Strict):
    account_id: AccountId
    reason: Reason = Field(description="Why this account is excluded; shown in the plan report (at most 500 chars)")


class Organization(_Strict):
    organization_id: str = Field(pattern=r"^o-[a-z0-9]{10,32}$", description="AWS Organizations id (o-...)")
    management_account_id: AccountId
    delegated_admin_account_id: AccountId | None = Field(
        None,
        description="Delegated administrator for config-multiaccountsetup.amazonaws.com and StackSets; "
        "terraform runs there when set (call_as = DELEGATED_ADMIN)",
    )
    home_region: Region = Field(description="Region of global pieces: StackSets, SCP, Control Tower, IAM roles")
    regions: list[Region] = Field(min_length=1, description="Every region the guardrails are deployed to")
    target_ous: list[OuId] = Field(
        default_factory=list,
        description="OUs whose accounts receive the remediation documents and roles (StackSets, Control Tower)",
    )
    excluded_accounts: list[ExcludedAccount] = Field(
        default_factory=list, description="Accounts the conformance packs skip (max 1,000)", max_length=1000
    )
    include_management_account: bool = Field(
        False,
        description="Organization packs also reach the management account, which StackSets never do; "
        "when false the management account is excluded from the packs",
    )

    @field_validator("regions", mode="before")
    @classmethod
    def _one_partition(cls, v: Any) -> Any:
        """One file, one partition: its ARNs, endpoints and credentials differ per partition."""
        if not isinstance(v, list):
            return v
        by_partition: dict[str, list[str]] = {}
        for region in v:
            if isinstance(region, str) and (partition := partition_of(region)):
                by_partition.setdefault(partition, []).append(region)
        if len(by_partition) < 2:
            return v
        mix = "; ".join(f"{p}: {', '.join(r[:3])}" for p, r in sorted(by_partition.items()))
        problems = [f"mixes partitions ({mix}); one file deploys to one partition: write one file per partition"]
        problems += [f"@[{i}]: {why}" for i, r in enumerate(v) if isinstance(r, str) and (why := unsupported_reason(r))]
        raise ValueError("\n".join(problems))

    @field_validator("regions")
    @classmethod
    def _regions_unique(cls, v: list[str]) -> list[str]:
        return _unique(v)

    @field_validator("target_ous")
    @classmethod
    def _ous_unique(cls, v: list[str]) -> list[str]:
        return _unique(v)

    @model_validator(mode="after")
    def _consistent(self) -> Organization:
        problems = []
        if self.home_region not in self.regions:
            problems.append(f"@.home_region: {self.home_region} is not in regions; add it to regions")
        if self.delegated_admin_account_id == self.management_account_id:
            problems.append(
                "@.delegated_admin_account_id: equals the management account; omit it to run from the "
                "management account"
            )
        seen: set[str] = set()
        for i, ex in enumerate(self.excluded_accounts):
            if ex.account_id in seen:
                problems.append(f"@.excluded_accounts[{i}].account_id: {ex.account_id} is listed twice")
            seen.add(ex.account_id)
            # The delegated administrator may be excluded (in a landing zone it is the Audit account, often
            # outside the target OUs: no runbook there). The management account has its own switch.
            if ex.account_id == self.management_account_id:
                problems.append(
                    f"@.excluded_accounts[{i}].account_id: {ex.account_id} is the management account, excluded "
                    "unless include_management_account is true; remove it from excluded_accounts"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self


class RemediationTuning(_Strict):
    maximum_automatic_attempts: int = Field(3, ge=1, le=25, description="Config retries per resource (1-25)")
    retry_attempt_seconds: int = Field(60, ge=1, le=2678000, description="Window for those attempts, seconds")
    concurrent_execution_rate_percentage: int = Field(
        10, ge=1, le=100, description="SSM rate control: share of non-compliant resources remediated at once"
    )
    error_percentage: int = Field(10, ge=1, le=100, description="SSM rate control: error share that stops it")


def _no_ssm_reference(value: str, field: str) -> str:
    """Owner and ticket travel inside the runbook document, where SSM would read {{ }} as a reference."""
    if "{{" in value or "}}" in value:
        raise ValueError(f"{field} contains '{{{{' or '}}}}', which SSM reads as a parameter reference; remove them")
    return value


class KnownExemption(_Strict):
    """One approved exemption: the only thing that makes the runbook leave an internet-open group alone."""

    account_id: AccountId
    security_group_id: str = Field(pattern=r"^sg-[0-9a-f]{8,17}$")
    owner: Owner = Field(description="Who answers for the exemption (e-mail or team)")
    reason: Reason = Field(description="Why the group stays open (at most 500 characters)")
    expires: dt.date = Field(
        description="YYYY-MM-DD, inclusive: honoured through the end of this day (UTC), remediated from the next"
    )

    @field_validator("expires", mode="before")
    @classmethod
    def _expires_is_a_date(cls, v: Any) -> Any:
        return _date_only(v)

    ticket: str | None = Field(
        None, min_length=1, max_length=128, description="Optional change or risk ticket that approved it"
    )

    @field_validator("owner")
    @classmethod
    def _owner_plain(cls, v: str) -> str:
        return _no_ssm_reference(v, "owner")

    @field_validator("ticket")
    @classmethod
    def _ticket_plain(cls, v: str | None) -> str | None:
        return v if v is None else _no_ssm_reference(v, "ticket")


class Exemptions(_Strict):
    tag_key: TagKey = Field(
        "orgguard:exemption",
        min_length=1,
        max_length=128,
        description="A label only: the runbook reports a group carrying this tag but never exempts it for the "
        "tag; only `known` exempts",
    )
    known: list[KnownExemption] = Field(
        default_factory=list,
        max_length=200,
        description="The only exemptions the runbook honours: embedded in the runbook document the StackSets "
        "deploy, each for its own account and security group, through its expiry date (UTC)",
    )

    @field_validator("known")
    @classmethod
    def _known_unique(cls, v: list[KnownExemption]) -> list[KnownExemption]:
        seen: dict[tuple[str, str], int] = {}
        problems = []
        for i, e in enumerate(v):
            key = (e.account_id, e.security_group_id)
            if key in seen:
                problems.append(
                    f"@[{i}]: {e.security_group_id} in {e.account_id} is already exempted at [{seen[key]}]; "
                    "keep one entry"
                )
            seen.setdefault(key, i)
        if problems:
            raise ValueError("\n".join(problems))
        return v


class FastPath(_Strict):
    enabled: bool = Field(
        False,
        description="EventBridge rule on AuthorizeSecurityGroupIngress / ModifySecurityGroupRules that starts "
        "the revoke runbook within seconds (needs CloudTrail management events in each account)",
    )


class ControlTower(_Strict):
    enable_detective_controls: bool = Field(
        False,
        description="Enable AWS-GR_RESTRICTED_SSH / AWS-GR_RESTRICTED_COMMON_PORTS on every target OU "
        "(aws_controltower_control); needs a Control Tower landing zone",
    )


# The role service-managed StackSets run as in member accounts: it deploys the runbooks and roles, so the SCP
# must always exempt it (CloudFormation User Guide, "Activate trusted access for StackSets with AWS Organizations":
# the `stacksets-exec-<hash>` execution role).
STACKSETS_EXECUTION_ROLE = "arn:aws:iam::*:role/stacksets-exec-*"
DEFAULT_SCP_EXEMPT_PRINCIPALS = (
    STACKSETS_EXECUTION_ROLE,
    # Control Tower's execution role in every enrolled account (Control Tower User Guide, "Roles and accounts").
    "arn:aws:iam::*:role/AWSControlTowerExecution",
    # Account Factory for Terraform: AWSAFTAdmin (AFT management account) assumes AWSAFTExecution in each
    # account; AWSAFTService runs its services (Control Tower User Guide, "AFT required roles";
    # aws-ia/terraform-aws-control_tower_account_factory modules/aft-iam-roles).
    "arn:aws:iam::*:role/AWSAFTAdmin",
    "arn:aws:iam::*:role/AWSAFTExecution",
    "arn:aws:iam::*:role/AWSAFTService",
)
# Landing Zone Accelerator: its <prefix>-* roles (default prefix AWSAccelerator) and its CDK bootstrap roles
# (LZA implementation guide, "Performing administrator tasks", sample SCP exemptions). Not exempt by default
# (review item 5): these names cover LZA's Lambda execution roles and the CloudFormation service role of its
# stacks, whose code or template a member admin can change (lambda:UpdateFunctionCode, cloudformation:UpdateStack
# need no iam:PassRole), then run as an exempt principal. scp.exempt_landing_zone_accelerator adds them, and
# with them denies those changes on LZA's functions and stacks (orgguard/synth/scp.py LZA_SWITCHES).
LZA_EXEMPT_PRINCIPALS = (
    "arn:aws:iam::*:role/AWSAccelerator-*",
    "arn:aws:iam::*:role/cdk-accel-*",
)
_STACKSETS_SAMPLE = "arn:aws:iam::123456789012:role/stacksets-exec-0123456789abcdef0123456789abcdef"
# IAM role ARN patterns: partition aws (or *), account 12 ASCII digits (or *), role/<path/>name with IAM's name
# characters plus the * and ? wildcards (IAM User Guide, "IAM identifiers" and "IAM and AWS STS quotas").
_ROLE_ARN = re.compile(r"^arn:(aws|\*):iam::([0-9]{12}|\*):role/(?P<path>([A-Za-z0-9+=,.@_*?-]+/)*)"
                       r"(?P<name>[A-Za-z0-9+=,.@_*?-]{1,64})$")
# A role name pattern must start with this many literal characters: `Adm*` (3) would exempt every existing
# Admin* role of every member account. Six still allows one wildcard per pipeline (`aft-ex*`, `stacksets-exec-*`).
_LITERAL_HEAD = 6


def _exempt_pattern_problem(v: str) -> str | None:
    """Why one exempt-principal pattern is refused, or None; patterns are matched with ArnNotLike."""
    shown = v if len(v) <= 80 else v[:77] + "..."
    m = _ROLE_ARN.match(v)
    if m is None:
        return (
            f"{shown!r} is not an IAM role ARN pattern; write arn:aws:iam::<account id or *>:role/<path/>name, "
            "wildcards * and ? allowed (users, roots and services cannot be exempted)"
        )
    name = m.group("name")
    head = next((i for i, ch in enumerate(name) if ch in "*?"), len(name))
    if head < min(_LITERAL_HEAD, len(name)):
        return (
            f"{shown!r}: the role name must start with at least {_LITERAL_HEAD} literal characters before any "
            "wildcard, or it exempts roles anyone in a member account can create; name the pipeline's role"
        )
    return None


class Scp(_Strict):
    protect_governance_resources: bool = Field(
        False,
        description="Attach SCPs to the target OUs that deny member accounts every off-switch of the guardrails "
        "(recorder, delivery channel, remediation exceptions and bindings, runbook documents, roles, fast-path "
        "rules, packs, leaving the organization), except to exempt_principal_arns",
    )
    exempt_principal_arns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SCP_EXEMPT_PRINCIPALS),
        min_length=1,
        description="IAM role ARN patterns (ArnNotLike on aws:PrincipalArn) that may still manage the guardrails: "
        "the pipelines that own them. Replaces the default list (StackSets, Control Tower, AFT); must keep "
        + STACKSETS_EXECUTION_ROLE
        + ". Member accounts may not create, change or pass roles matching these patterns, nor assume them from "
        "their own account. A role name needs 6 literal characters before any wildcard",
    )
    exempt_landing_zone_accelerator: bool = Field(
        False,
        description="Also exempt Landing Zone Accelerator's roles (AWSAccelerator-*, cdk-accel-*). Opt in only "
        "where LZA manages Config: those names include LZA's Lambda and CloudFormation service roles, whose code "
        "and templates a member admin could change to act as an exempt principal; with this on, the SCP also "
        "denies changing LZA's functions and stacks to everyone else",
    )
    allow_stopping_automation: bool = Field(
        False,
        description="Let member accounts call ssm:StopAutomationExecution. Denied by default: a stopped remediation "
        "run counts as a failure, and after maximum_automatic_attempts of them Config itself puts a remediation "
        "exception on the resource. The deny cannot name a document, so it covers every Automation run in the "
        "account (docs/operators.md)",
    )

    def exempt_principals(self) -> list[str]:
        """The patterns the SCP exempts: the list, plus LZA's when opted in."""
        extra = LZA_EXEMPT_PRINCIPALS if self.exempt_landing_zone_accelerator else ()
        return list(dict.fromkeys([*self.exempt_principal_arns, *extra]))

    protect_all_config_rules: bool = Field(
        False,
        description="Also deny deleting or changing any Config rule and deleting evaluation results. Config rule "
        "ARNs carry a generated id, not the name, so the SCP cannot single out the packs' rules; turn this on "
        "where only the exempt pipelines manage Config rules",
    )

    @field_validator("exempt_principal_arns")
    @classmethod
    def _exempt_patterns(cls, v: list[str]) -> list[str]:
        problems = [f"@[{i}]: {p}" for i, arn in enumerate(v) if (p := _exempt_pattern_problem(arn))]
        problems += [f"@[{i}]: listed twice; remove the repeat" for i, arn in enumerate(v) if arn in v[:i]]
        if not any(arn_match(arn, _STACKSETS_SAMPLE) for arn in v):
            problems.append(
                f"must keep {STACKSETS_EXECUTION_ROLE}: the StackSets that deploy the runbooks and roles run as "
                "it (this list replaces the defaults; copy the ones you still use from docs/governance-file.md)"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return v


def _controls_model() -> type[BaseModel]:
    """One optional section per catalog control, named by its id; built from the catalog."""
    fields = {}
    for control in CATALOG.values():
        model = control.settings_model
        fields[control.id.replace("-", "_")] = (
            model,
            Field(default_factory=model, alias=control.id, description=control.title),
        )

    def check_modes(self: BaseModel) -> BaseModel:
        problems = []
        for control in CATALOG.values():
            mode = getattr(self, control.id.replace("-", "_")).remediation
            if mode is not None and mode not in control.remediation_modes:
                problems.append(
                    f"@.{control.id}.remediation: {control.id} has no {mode} remediation; "
                    f"use one of: {', '.join(control.remediation_modes)}"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    return create_model(  # type: ignore[call-overload]
        "Controls",
        __config__=ConfigDict(extra="forbid", frozen=True, populate_by_name=False),
        __validators__={"check_modes": model_validator(mode="after")(check_modes)},
        **fields,
    )


Controls = _controls_model()


class Governance(_Strict):
    version: Literal[1] = Field(description="Schema version of this file; 1")
    name_prefix: NamePrefix = "orgguard"
    mode: Literal["organization", "account"] = Field(
        description="organization: org conformance packs + StackSets; account: one stack per vended account"
    )
    organization: Organization
    accounts: list[AccountId] = Field(
        default_factory=list, description="Account mode: the accounts to give a stack each"
    )
    account_execution_role: str = Field(
        "OrganizationAccountAccessRole",
        pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$",
        description="Account mode: role terraform assumes in each account",
    )
    controls: Controls = Field(default_factory=Controls)  # type: ignore[valid-type]
    remediation: RemediationTuning = Field(default_factory=RemediationTuning)
    exemptions: Exemptions = Field(default_factory=Exemptions)
    fast_path: FastPath = Field(default_factory=FastPath)
    control_tower: ControlTower = Field(default_factory=ControlTower)
    scp: Scp = Field(default_factory=Scp)
    vpc_block_public_access: VpcBlockPublicAccess = Field(
        default_factory=VpcBlockPublicAccess,
        description="Preventive layer: VPC Block Public Access (orgguard/layers/vpc_block_public_access)",
    )
    state: State = Field(default_factory=State, description="Where terraform keeps each stack's state")
    notifications: Notifications | None = Field(
        None, description="Off when absent: findings and failed remediations to a central bus and SNS topic"
    )

    @field_validator("name_prefix")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if v.lower().startswith(("aws", "amazon", "amzn")):
            raise ValueError(
                f"{v!r} starts with a prefix SSM reserves for its own documents (aws, amazon, amzn); choose another"
            )
        return v

    @field_validator("accounts")
    @classmethod
    def _accounts_unique(cls, v: list[str]) -> list[str]:
        return _unique(v)

    @model_validator(mode="after")
    def _consistent(self) -> Governance:
        problems = []
        if self.mode == "account" and not self.accounts:
            problems.append("@.accounts: account mode needs at least one account id")
        if self.mode == "organization" and self.accounts:
            problems.append("@.accounts: only used in account mode; remove it or set mode: account")
        if self.mode == "organization" and not self.organization.target_ous:
            problems.append(
                "@.organization.target_ous: organization mode needs at least one OU (or the root r-...) "
                "to receive the remediation documents and roles"
            )
        if self.mode == "account":  # an exemption for an account without a stack would never apply
            problems += [
                f"@.exemptions.known[{i}].account_id: {e.account_id} is not one of accounts, so this exemption "
                "would never apply; fix the account id or add the account"
                for i, e in enumerate(self.exemptions.known)
                if e.account_id not in self.accounts
            ]
        fast_path_capable = [c.id for c in CATALOG.values() if c.fast_path]
        automatic_fast = [
            c
            for c in fast_path_capable
            if self.control_settings(c).enabled and self.remediation_mode(c) == "automatic"
        ]
        if self.fast_path.enabled and not automatic_fast:
            problems.append(
                f"@.fast_path.enabled: the fast path revokes without approval, so it needs "
                f"{' or '.join(fast_path_capable)} enabled with remediation: automatic; set one, or disable "
                "the fast path"
            )
        if self.mode == "account" and self.control_tower.enable_detective_controls:
            problems.append("@.control_tower.enable_detective_controls: only in organization mode (OU targets)")
        if self.notifications is not None:
            problems += self.notifications.problems(self.organization.regions)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _scp_in_organization_mode(self) -> Governance:
        """Account mode has no management-account stack to create an SCP from: refuse rather than skip."""
        if self.mode == "account" and self.scp.protect_governance_resources:
            raise ValueError(
                "@.scp.protect_governance_resources: only organization mode creates the SCP (from the management "
                "account); set it false and attach the SCP from your vending pipeline, or use mode: organization"
            )
        return self

    @model_validator(mode="after")
    def _vpc_bpa(self) -> Governance:
        """The preventive layer's cross-field refusals (orgguard/layers/vpc_block_public_access/settings.py)."""
        problems = vpc_bpa_problems(
            self.vpc_block_public_access, mode=self.mode, organization_target_ous=list(self.organization.target_ous)
        )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def names(self) -> Names:
        """Every resource and stack name of this deployment (orgguard.naming)."""
        return Names(self.name_prefix)

    def control_settings(self, control_id: str) -> ControlSettings:
        return getattr(self.controls, control_id.replace("-", "_"))

    def remediation_mode(self, control_id: str) -> str:
        settings = self.control_settings(control_id)
        return settings.remediation or CATALOG[control_id].default_remediation
