"""Every name orgguard gives an AWS resource or a stack, from the governance file's name_prefix.

One place builds them, so a name the synthesis writes, the pattern the SCP protects, and the name the
verifier and the AWS-limit checks look for cannot drift apart. Names are `<prefix>-<what>`; `any()` is the
wildcard that covers all of them (the SCP's and the verifier policy's resource patterns rely on that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orgguard.runbooks.model import Runbook


@dataclass(frozen=True)
class Names:
    """The names of one deployment, all starting with `prefix-`."""

    prefix: str

    def _name(self, what: str) -> str:
        return f"{self.prefix}-{what}"

    def any(self) -> str:
        """The wildcard matching every name below (IAM/SCP resource patterns)."""
        return self._name("*")

    # Detection and remediation
    def rule(self, control_id: str) -> str:
        """A control's Config rule (in a pack, AWS appends -conformance-pack-<suffix>)."""
        return self._name(control_id)

    def document(self, runbook: Runbook) -> str:
        """A runbook's SSM Automation document."""
        return self._name(runbook.document_suffix)

    def role(self, runbook: Runbook) -> str:
        """The least-privilege role SSM Automation assumes to run a runbook (also its inline policy's name)."""
        return self._name(runbook.role_suffix)

    def pack(self) -> str:
        """The organization conformance pack."""
        return self._name("guardrails")

    def fast_path_role(self) -> str:
        return self._name("fast-path")

    def fast_path_rule(self) -> str:
        return self._name("open-ingress-fast-path")

    # Notifications (orgguard/layers/notifications): the central bus, topic and rule, the member rules and role
    def notifications_bus(self) -> str:
        return self._name("findings")

    def notifications_topic(self) -> str:
        return self._name("findings")

    def notifications_central_rule(self) -> str:
        return self._name("findings-to-topic")

    def notifications_member_rule(self, purpose: str) -> str:
        """A member-side forwarding rule on the default bus (purpose: findings, remediation-failures)."""
        return self._name(f"notify-{purpose}")

    def notifications_member_role(self) -> str:
        return self._name("notify")

    # StackSets, SCP
    def roles_stackset(self) -> str:
        return self._name("roles")

    def documents_stackset(self) -> str:
        return self._name("documents")

    def notifications_stackset(self) -> str:
        """The member forwarding rules (organization mode), kept out of the documents StackSet's size budget."""
        return self._name("notifications")

    def scp(self) -> str:
        """The protection SCP's base name (split policies add a suffix)."""
        return self._name("protect-guardrails")

    # Terraform stacks
    def org_global_stack(self) -> str:
        return self._name("org-global")

    def org_management_stack(self) -> str:
        return self._name("org-management")

    def org_region_stack(self, region: str) -> str:
        return self._name(f"org-{region}")

    def notifications_stack(self) -> str:
        return self._name("notifications")

    def account_stack(self, account_id: str) -> str:
        return self._name(f"account-{account_id}")


def logical_id(name: str) -> str:
    """CloudFormation logical ids are alphanumeric: orgguard-sg-revoke -> OrgguardSgRevoke."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)
