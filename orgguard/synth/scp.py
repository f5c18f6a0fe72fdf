"""The service control policies that keep member accounts from switching the guardrails off.

Every off-switch a member account has is listed in ``OFF_SWITCHES`` with why it is one; the policies are
built from that list, and tests/synth/test_scp_offswitches.py proves, by evaluating the policies
(orgguard.iam.evaluate), that each is denied to an ordinary member principal and left to the exempt ones.

Action names and resource ARN formats come from the Service Authorization Reference (the copy parliament
ships, ``parliament/iam_definition.json``, which the tests read): an action name that does not exist, or a
resource pattern that does not match the ARN AWS authorizes, denies nothing.

- Config recorder, delivery channel and remediation exceptions: ``PutConfigurationRecorder``,
  ``PutDeliveryChannel``, ``DeleteDeliveryChannel`` and ``PutRemediationExceptions`` have no resource type,
  so only ``"Resource": "*"`` matches them; the recorder actions authorize on
  ``configuration-recorder/<name>/<id>``, which ``*`` covers too. ``DisassociateResourceTypes`` "excludes these
  resource types when recording" (botocore config model), silently ending detection.
- Config rule ARNs carry a generated id (``config-rule/config-rule-<id>``), not the rule's name, so the
  pack's rules cannot be singled out; ``protect_all_config_rules`` denies rule changes on every rule.
- Remediation bindings authorize on ``remediation-configuration/<rule name>/<id>`` (the ARN Config
  returns starts with the rule name; the pack's rules are ``<prefix>-<control>-conformance-pack-<suffix>``
  in member accounts). Config also refuses ``PutRemediationConfigurations`` on pack rules ("does not support
  ... the rules deployed by conformance packs", botocore config model); the deny is defence in depth.
- Organization packs appear in member accounts as ``OrgConformsPack-<pack>-<suffix>``
  (``conformance-pack/<name>/<id>``).
- Documents ``document/<name>``, default-bus rules ``rule/<name>``, roles ``role/<path><name>``.
- ``ssm:StopAutomationExecution`` authorizes on ``automation-execution/<id>``: an execution id, never the
  document, so the deny covers every Automation run in the account (``scp.allow_stopping_automation`` lifts it,
  centrally). A stopped remediation run fails, and "Config will put a RemediationException on your behalf for
  the failing resource after the 5th failed attempt" (botocore config model, MaximumAutomaticAttempts): stopping
  runs is an off-switch as real as PutRemediationExceptions (review item 1).
- ``sts:AssumeRole`` on an exempt role is denied only from the role's own account
  (``"StringEqualsIfExists": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}``; policy variables work in
  condition values of SCPs, IAM User Guide "IAM policy elements: Variables and tags"): AFT's management account
  assumes AWSAFTExecution across accounts and must not be locked out, while a member admin becoming an exempt
  role of its own account stays denied. ``IfExists`` fails closed: were aws:ResourceAccount ever absent from an
  AssumeRole request, the deny would still apply (the old behaviour) rather than lapse.
- With ``scp.exempt_landing_zone_accelerator`` LZA's roles are exempt, and changing LZA's Lambda functions
  (``function:AWSAccelerator-*``) or stacks (``stack/AWSAccelerator-*/*``) is denied to everyone else: those
  changes need no iam:PassRole, yet run the new code as an exempt role (review item 5).

Not denied, on purpose: ``DeleteRemediationExceptions`` and ``StartConfigurationRecorder`` /
``AssociateResourceTypes`` (they switch remediation or recording back on), ``StartRemediationExecution``,
reads, and passing the runbook role (the canary does that). See docs/operators.md for the known gaps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from orgguard.config.load import ConfigError
from orgguard.config.models import Governance
from orgguard.iam.policy import document, minified, statement
from orgguard.manifest import RoleEntry, ScpEntry, ScpPolicy
from orgguard.naming import Names

# Organizations quotas, "Maximum size of a policy document": SCPs 5,120 characters, counted as stored: whitespace
# sent through an SDK counts. "Maximum number of policies attached to a root, OU or account": 5 SCPs, and
# every target keeps FullAWSAccess unless it was replaced (the knowledge-center article "organization-scp-size":
# "hard limit of five SCPs per account"). So at most 4 of ours.
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
SCP_MAX_CHARACTERS = 5_120
SCP_MAX_ATTACHED = 5
MAX_POLICIES = SCP_MAX_ATTACHED - 1  # FullAWSAccess takes one slot

# Where each off-switch acts: "*" for account-wide settings, else the kind of guardrail resource.
ANYWHERE = "*"
ROLE, EXEMPT_ROLE, SERVICE_ROLE = "role", "exempt-role", "service-role"
DOCUMENT, PACK, REMEDIATION, RULE = "document", "pack", "remediation", "rule"
EXECUTION, LZA_FUNCTION, LZA_STACK = "automation-execution", "lza-function", "lza-stack"


@dataclass(frozen=True)
class OffSwitch:
    action: str
    targets: tuple[str, ...]
    why: str


# Config's service-linked roles: the recorder, conformance packs, remediation and org-wide setup use them
# (AWS Config Developer Guide, "Using Service-Linked Roles for AWS Config"; AWS managed policy
# AWSConfigConformsServiceRolePolicy names aws-service-role/remediation.config.amazonaws.com/...).
CONFIG_SERVICE_ROLES = "arn:aws:iam::*:role/aws-service-role/*config*/AWSServiceRoleForConfig*"

_ROLE_WRITES = (ROLE, EXEMPT_ROLE)
OFF_SWITCHES: tuple[OffSwitch, ...] = (
    # The recorder: detection stops without it.
    OffSwitch("config:StopConfigurationRecorder", (ANYWHERE,), "stops recording: no rule sees a change"),
    OffSwitch("config:DeleteConfigurationRecorder", (ANYWHERE,), "deletes the recorder"),
    OffSwitch("config:PutConfigurationRecorder", (ANYWHERE,), "narrows the recording group, or records daily"),
    OffSwitch("config:DisassociateResourceTypes", (ANYWHERE,), "removes security groups from the recording group"),
    OffSwitch("config:PutDeliveryChannel", (ANYWHERE,), "points delivery at a bucket that refuses it"),
    OffSwitch("config:DeleteDeliveryChannel", (ANYWHERE,), "deletes the delivery channel"),
    # Remediation.
    OffSwitch("config:PutRemediationExceptions", (ANYWHERE,), "exempts a resource from auto-remediation"),
    OffSwitch("config:PutRemediationConfigurations", (REMEDIATION,), "rebinds or disables auto-remediation"),
    OffSwitch("config:DeleteRemediationConfiguration", (REMEDIATION,), "unbinds the runbook"),
    OffSwitch(
        "ssm:StopAutomationExecution",
        (EXECUTION,),
        "stops remediation runs until Config excepts the resource itself (maximum_automatic_attempts)",
    ),
    # The packs.
    OffSwitch("config:DeleteConformancePack", (PACK,), "deletes the pack's rules and bindings"),
    OffSwitch("config:PutConformancePack", (PACK,), "rewrites the pack"),
    # The runbooks, including squatting a name before the StackSet creates it.
    OffSwitch("ssm:UpdateDocument", (DOCUMENT,), "rewrites the runbook"),
    OffSwitch("ssm:UpdateDocumentDefaultVersion", (DOCUMENT,), "points the runbook at another version"),
    OffSwitch("ssm:DeleteDocument", (DOCUMENT,), "deletes the runbook"),
    OffSwitch("ssm:CreateDocument", (DOCUMENT,), "squats the runbook's name in a new account"),
    OffSwitch("ssm:ModifyDocumentPermission", (DOCUMENT,), "shares the runbook out"),
    OffSwitch("ssm:AddTagsToResource", (DOCUMENT,), "retags the runbook"),
    OffSwitch("ssm:RemoveTagsFromResource", (DOCUMENT,), "untags the runbook"),
    # The roles the runbooks run as, and the exempt pipelines' roles (a member must not mint an exempt role).
    OffSwitch("iam:CreateRole", _ROLE_WRITES, "squats a runbook role, or mints a role with an exempt name"),
    OffSwitch("iam:DeleteRole", _ROLE_WRITES, "deletes the role"),
    OffSwitch("iam:UpdateAssumeRolePolicy", _ROLE_WRITES, "changes who may assume the role"),
    OffSwitch("iam:PutRolePolicy", _ROLE_WRITES, "changes the role's permissions"),
    OffSwitch("iam:DeleteRolePolicy", _ROLE_WRITES, "removes the role's permissions"),
    OffSwitch("iam:AttachRolePolicy", _ROLE_WRITES, "adds a managed policy"),
    OffSwitch("iam:DetachRolePolicy", _ROLE_WRITES, "removes a managed policy"),
    OffSwitch("iam:PutRolePermissionsBoundary", _ROLE_WRITES, "caps the role with a boundary that denies all"),
    OffSwitch("iam:DeleteRolePermissionsBoundary", _ROLE_WRITES, "lifts a boundary"),
    OffSwitch("iam:UpdateRole", _ROLE_WRITES, "changes the session duration"),
    OffSwitch("iam:UpdateRoleDescription", _ROLE_WRITES, "rewrites the description"),
    OffSwitch("iam:TagRole", _ROLE_WRITES, "retags the role (tags can drive ABAC)"),
    OffSwitch("iam:UntagRole", _ROLE_WRITES, "untags the role"),
    OffSwitch("iam:DeleteServiceLinkedRole", (SERVICE_ROLE,), "deletes Config's service-linked roles"),
    OffSwitch("iam:PassRole", (EXEMPT_ROLE,), "runs a service as an exempt role (e.g. cdk-accel-cfn-exec-role)"),
    OffSwitch("sts:AssumeRole", (EXEMPT_ROLE,), "becomes an exempt role whose trust allows the account"),
    # The fast path's EventBridge rules.
    OffSwitch("events:DeleteRule", (RULE,), "deletes the fast path"),
    OffSwitch("events:DisableRule", (RULE,), "disables the fast path"),
    OffSwitch("events:PutRule", (RULE,), "rewrites or squats the rule's pattern"),
    OffSwitch("events:PutTargets", (RULE,), "retargets the rule"),
    OffSwitch("events:RemoveTargets", (RULE,), "removes the runbook target"),
    OffSwitch("events:TagResource", (RULE,), "retags the rule"),
    OffSwitch("events:UntagResource", (RULE,), "untags the rule"),
    # Leaving the organization leaves every SCP and pack behind.
    OffSwitch("organizations:LeaveOrganization", (ANYWHERE,), "leaves the organization and all its guardrails"),
)

ALL_CONFIG_RULES: tuple[OffSwitch, ...] = (
    OffSwitch("config:DeleteConfigRule", (ANYWHERE,), "deletes a rule"),
    OffSwitch("config:PutConfigRule", (ANYWHERE,), "rewrites a rule"),
    OffSwitch("config:DeleteEvaluationResults", (ANYWHERE,), "erases a rule's findings"),
)


# Landing Zone Accelerator's own compute, denied when its roles are exempt (scp.exempt_landing_zone_accelerator).
LZA_SWITCHES: tuple[OffSwitch, ...] = (
    OffSwitch("lambda:UpdateFunctionCode", (LZA_FUNCTION,), "runs new code as LZA's exempt execution role"),
    OffSwitch("lambda:UpdateFunctionConfiguration", (LZA_FUNCTION,), "adds a layer or handler to LZA's function"),
    OffSwitch("cloudformation:UpdateStack", (LZA_STACK,), "runs a new template as LZA's exempt service role"),
    OffSwitch("cloudformation:CreateChangeSet", (LZA_STACK,), "stages a template for LZA's service role"),
    OffSwitch("cloudformation:ExecuteChangeSet", (LZA_STACK,), "runs it"),
    OffSwitch("cloudformation:DeleteStack", (LZA_STACK,), "deletes an LZA stack as its service role"),
)
STOP_AUTOMATION = "ssm:StopAutomationExecution"
ASSUME_ROLE = "sts:AssumeRole"


def off_switches(gov: Governance) -> tuple[OffSwitch, ...]:
    base = tuple(s for s in OFF_SWITCHES if not (gov.scp.allow_stopping_automation and s.action == STOP_AUTOMATION))
    return (
        base
        + (ALL_CONFIG_RULES if gov.scp.protect_all_config_rules else ())
        + (LZA_SWITCHES if gov.scp.exempt_landing_zone_accelerator else ())
    )


def resource_patterns(
    prefix: str, pack_name: str, role_paths: Iterable[str], exempt: Sequence[str]
) -> dict[str, list[str]]:
    """Each target kind's ARN patterns (see the module docstring for their sources)."""
    paths = sorted({"/", *role_paths})
    return {
        ANYWHERE: ["*"],
        ROLE: [f"arn:aws:iam::*:role{path}{Names(prefix).any()}" for path in paths],
        EXEMPT_ROLE: list(exempt),
        SERVICE_ROLE: [CONFIG_SERVICE_ROLES],
        DOCUMENT: [f"arn:aws:ssm:*:*:document/{Names(prefix).any()}"],
        PACK: [f"arn:aws:config:*:*:conformance-pack/OrgConformsPack-{pack_name}-*"],
        REMEDIATION: [f"arn:aws:config:*:*:remediation-configuration/{Names(prefix).any()}"],
        RULE: [f"arn:aws:events:*:*:rule/{Names(prefix).any()}"],
        EXECUTION: ["arn:aws:ssm:*:*:automation-execution/*"],
        LZA_FUNCTION: ["arn:aws:lambda:*:*:function:AWSAccelerator-*"],
        LZA_STACK: ["arn:aws:cloudformation:*:*:stack/AWSAccelerator-*/*"],
    }


def statements(gov: Governance, pack_name: str, roles: Sequence[RoleEntry]) -> list[dict[str, Any]]:
    """The deny statements, grouped so each action meets only the resources it was listed for.

    Actions of different services never authorize on each other's ARNs, so one statement may hold the
    actions of several kinds with the union of their resources. The exempt principals are one
    ``ArnNotLike`` list in every statement (splitting that list would deny the exempt principals).
    """
    exempt = gov.scp.exempt_principals()
    patterns = resource_patterns(gov.name_prefix, pack_name, (r.path for r in roles), exempt)
    condition = {"ArnNotLike": {"aws:PrincipalArn": exempt}}
    switches = off_switches(gov)
    account_wide = [s.action for s in switches if s.targets == (ANYWHERE,)]
    # sts:AssumeRole and iam:PassRole apply only to the exempt roles: the canary passes the runbook role.
    exempt_only = [s.action for s in switches if s.targets == (EXEMPT_ROLE,)]
    scoped = [s for s in switches if s.action not in account_wide and s.action not in exempt_only]
    scoped_resources = [p for s in scoped for t in s.targets for p in patterns[t]]
    passing = [a for a in exempt_only if a != ASSUME_ROLE]
    same_account = {**condition, "StringEqualsIfExists": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}
    out = [
        statement("DenyConfigAndOrgOffSwitches", "Deny", account_wide, ["*"], condition),
        statement("ProtectGuardrailResources", "Deny", [s.action for s in scoped], scoped_resources, condition),
    ]
    if passing:
        out.append(statement("NoUseOfExemptRoles", "Deny", passing, patterns[EXEMPT_ROLE], condition))
    if ASSUME_ROLE in exempt_only:
        out.append(
            statement("NoAssumingExemptRolesInTheirAccount", "Deny", [ASSUME_ROLE], patterns[EXEMPT_ROLE], same_account)
        )
    if gov.notifications is not None:
        out.append(forged_findings_statement(gov, exempt))
    return out


def forged_findings_statement(gov: Governance, exempt: Sequence[str]) -> dict[str, Any]:
    """The central bus admits the whole organization, so a member admin could put made-up findings (or a flood)
    on it; only the forwarding role, which only EventBridge rules named `<prefix>-notify-*` may assume (its
    trust policy) and which nobody else may change (the role switches above), may put events there."""
    names = gov.names
    cfg = gov.notifications
    assert cfg is not None
    region = cfg.bus_region(gov.organization.home_region)
    bus = f"arn:aws:events:{region}:{cfg.account_id}:event-bus/{names.notifications_bus()}"
    forwarder = f"arn:aws:iam::*:role/{names.notifications_member_role()}"
    condition = {"ArnNotLike": {"aws:PrincipalArn": [*exempt, forwarder]}}
    return statement("OnlyTheForwarderPutsFindings", "Deny", ["events:PutEvents"], [bus], condition)


def _size(stmts: Sequence[dict[str, Any]]) -> int:
    return len(minified(document(stmts)))


def _halves(st: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Split a too-large statement in two without changing what it denies (a union of resources or
    actions splits; the exempt condition must not)."""
    for key in ("Resource", "Action"):
        values = st[key]
        if len(values) > 1:
            mid = len(values) // 2
            sid = st["Sid"]
            return [{**st, "Sid": f"{sid}A", key: values[:mid]}, {**st, "Sid": f"{sid}B", key: values[mid:]}]
    return None


def pack(stmts: Sequence[dict[str, Any]], limit: int = SCP_MAX_CHARACTERS) -> list[list[dict[str, Any]]] | None:
    """Statements grouped into as few policies as fit ``limit`` characters each (first fit, largest first);
    None when a statement that cannot be split further is still too large."""
    queue = list(stmts)
    parts: list[dict[str, Any]] = []
    while queue:
        st = queue.pop(0)
        if _size([st]) <= limit:
            parts.append(st)
            continue
        halves = _halves(st)
        if halves is None:
            return None
        queue[:0] = halves
    bins: list[list[dict[str, Any]]] = []
    for st in sorted(parts, key=lambda s: -_size([s])):
        target = next((b for b in bins if _size([*b, st]) <= limit), None)
        if target is None:
            bins.append([st])
        else:
            target.append(st)
    order = {id(s): i for i, s in enumerate(parts)}
    return [sorted(b, key=lambda s: order[id(s)]) for b in bins]


def policy_name(base: str, index: int) -> str:
    """The first policy keeps the base name (existing attachments stay put); the others get -2, -3, ..."""
    return base if index == 0 else f"{base}-{index + 1}"


def protection(gov: Governance, pack_name: str, roles: Sequence[RoleEntry], source: str) -> ScpEntry:
    """The manifest's SCP entry, or ConfigError (one line) when it cannot fit the Organizations quotas."""
    base = gov.names.scp()
    groups = pack(statements(gov, pack_name, roles))
    if groups is None or len(groups) > MAX_POLICIES:
        need = "a single statement is" if groups is None else f"it needs {len(groups)} policies, which is"
        raise ConfigError(
            source,
            [
                f"scp.exempt_principal_arns: with {len(gov.scp.exempt_principals())} patterns the SCP does not fit: "
                f"{need} over {MAX_POLICIES} policies of {SCP_MAX_CHARACTERS:,} characters (an OU takes "
                f"{SCP_MAX_ATTACHED} SCPs, FullAWSAccess included); exempt fewer roles, e.g. one wildcard per pipeline"
            ],
        )
    return ScpEntry(
        name=base,
        policies=[ScpPolicy(name=policy_name(base, i), policy=document(g)) for i, g in enumerate(groups)],
        targets=list(gov.organization.target_ous),
    )
