"""Coverage caveats that hold for the whole plan: what the guardrails cannot see or fix.

A reviewer who does not know these would over-trust a green report; each is an AWS fact (see
/work/shared/AWS-FACTS.md) and is shown only when the plan contains what it is about.
"""

from __future__ import annotations

from orgguard.manifest import Manifest

CT_HOOKS = (
    "Control Tower proactive controls CT.EC2.PR.3 / CT.EC2.PR.4 are CloudFormation hooks: they never see "
    "security groups made by Terraform, the console or the API. Only the Config rules in this plan do."
)
CT_DETECTIVE = (
    "Where an OU already has Control Tower's AWS-GR_RESTRICTED_SSH or AWS-GR_RESTRICTED_COMMON_PORTS, its "
    "accounts run that rule (AWSControlTower_AWS-GR_...) beside this plan's: the same finding appears twice. "
    "Control Tower's rules only detect; this plan's remediate."
)
ECS16 = (
    "ECS.16 (task set public IP) has no in-place fix: UpdateTaskSet changes only the scale, so a finding "
    "needs a new task set. Its remediation stays approval-only."
)
TCP_ONLY = (
    "restricted-common-ports (RESTRICTED_INCOMING_TRAFFIC) checks TCP only: UDP ports open to the "
    "internet are not reported."
)
ECS5_LATEST = "ECS.5 (ECS_CONTAINERS_READONLY_ACCESS) evaluates only the latest active task-definition revision."
STACKSET_MGMT = (
    "Service-managed StackSets never deploy to the management account: the remediation role and documents "
    "are not created there, so remediation cannot run in it."
)
NEW_ACCOUNT = (
    "A new account without a configuration recorder is retried for only 7 hours by organization "
    "conformance packs; vend the recorder first."
)


def recorder_caveat(manifest: Manifest) -> str:
    types = ", ".join(manifest.recorder_resource_types) or "(none listed)"
    return (
        "Config rules do nothing without a configuration recorder: every account and region must record "
        f"{types}, or the controls there silently evaluate nothing."
    )


def general_caveats(manifest: Manifest) -> list[str]:
    """The caveats that apply to this plan, most surprising first."""
    controls = manifest.controls
    hub = {sid for c in controls for sid in c.mappings.security_hub}
    identifiers = {c.rule.source_identifier for c in controls}
    out = [CT_HOOKS]
    if any(c.enabled and c.mappings.control_tower for c in controls):
        out.append(CT_DETECTIVE)
    if "ECS.16" in hub:
        out.append(ECS16)
    if "RESTRICTED_INCOMING_TRAFFIC" in identifiers or any(c.id == "restricted-common-ports" for c in controls):
        out.append(TCP_ONLY)
    out.append(recorder_caveat(manifest))
    if "ECS_CONTAINERS_READONLY_ACCESS" in identifiers:
        out.append(ECS5_LATEST)
    if manifest.stack_sets:
        out.append(STACKSET_MGMT)
    if manifest.conformance_packs:
        out.append(NEW_ACCOUNT)
    return out
