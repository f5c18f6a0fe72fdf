"""Coverage caveats that hold for the whole plan: what the guardrails cannot see or fix.

A reviewer who does not know these would over-trust a green report; each is an AWS fact and is shown only
when the plan contains what it is about. A caveat about one control belongs to that control
(orgguard/controls/<control>/, `caveats`): the report prints it in the control's section, once, from the
manifest; this module holds only what spans the plan.
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
    out = [CT_HOOKS]
    if any(c.enabled and c.mappings.control_tower for c in controls):
        out.append(CT_DETECTIVE)
    out.append(recorder_caveat(manifest))
    if manifest.stack_sets:
        out.append(STACKSET_MGMT)
    if manifest.conformance_packs:
        out.append(NEW_ACCOUNT)
    return out
