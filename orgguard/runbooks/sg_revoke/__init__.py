"""The security-group revoke runbook, shared by every control that restricts ports from the internet.

Controls reference `SG_REVOKE` (the object) and pass their ports in `PORTS_PARAMETER`; a control that also
restricts UDP (restricted-ports-all-protocols) passes `PROTOCOLS_PARAMETER` = ["tcp", "udp"], and the TCP
controls leave it at its default ["tcp"], so their remediation is what it was. The fast path starts the
same document (TCP only). Its handler is `handler.py` beside this file, embedded verbatim.
"""

from __future__ import annotations

from orgguard.runbooks.model import ACCOUNT, DEFAULT_EXEMPTION_TAG_KEY, Grant, Param, Runbook, dry_run_param

# The document parameter holding the TCP ports to revoke (a StringList): controls fill it, the fast path
# passes it, the canary reads it back from the manifest.
PORTS_PARAMETER = "RestrictedPorts"
# The protocols those ports are restricted for (a StringList of tcp/udp; default ["tcp"]).
PROTOCOLS_PARAMETER = "RestrictedProtocols"
PROTOCOLS = ("tcp", "udp")

SG = f"arn:aws:ec2:*:{ACCOUNT}:security-group/*"
# Any owner: a rule may name the account's own list, one shared from another account (RAM), or an
# AWS-managed one (owner "aws", e.g. arn:aws:ec2:us-east-1:aws:prefix-list/pl-...). Resource type
# prefix-list, ARN arn:${Partition}:ec2:${Region}:${Account}:prefix-list/${PrefixListId} (Service
# Authorization Reference, Amazon EC2). Read-only, and only lists the account can already see.
PREFIX_LISTS = "arn:aws:ec2:*:*:prefix-list/*"

SG_REVOKE = Runbook(
    key="sg-revoke",
    document_suffix="RevokePublicSgIngress",
    role_suffix="sg-revoke",
    description=(
        "orgguard: revoke, by rule ID in one call, the security group ingress rules open to 0.0.0.0/0 or ::/0 "
        "(directly or through a managed prefix list holding them) that reach a restricted port over a "
        "restricted protocol (TCP by default, UDP when asked; single ports, ranges containing it, all-traffic "
        "rules). Only groups approved in the governance "
        "file are exempt, until their expiry; a tag never exempts. Nothing else is touched."
    ),
    revokes=(
        "Ingress rules whose source is 0.0.0.0/0 or ::/0, or a managed prefix list holding either (or one "
        "whose entries cannot be read), and that admit TCP (and UDP, for a control that restricts it) to a "
        "restricted port: the exact port, any range of that protocol containing it, and all-traffic (-1) "
        "rules. Revoked by rule ID, in one call."
    ),
    never_touches=(
        "Rules whose source is a security group, a narrower CIDR or a prefix list of narrower CIDRs; UDP "
        "rules unless the control restricts UDP; ICMP and other protocols; ports not in the restricted list; "
        "egress rules; groups approved in exemptions.known, until their expiry."
    ),
    resource_type="AWS::EC2::SecurityGroup",
    resource_parameter="GroupId",
    handler_module=f"{__name__}.handler",
    step_name="RevokePublicIngress",
    parameters=(
        Param("GroupId", "String", "Security group to remediate (Config passes RESOURCE_ID).",
              allowed_pattern=r"^sg-[0-9a-f]{8,17}$"),
        Param(PORTS_PARAMETER, "StringList", "TCP ports that must not be open to the internet, e.g. [\"22\"].",
              default=["22"]),
        # No allowedValues: AWS's SSM document syntax reference does not clearly document it for a StringList, and
        # a document SSM refuses would fail CreateDocument in every account, taking down the TCP controls' runbook
        # too. The handler's parse_protocols refuses anything but tcp/udp, naming RestrictedProtocols.
        Param(PROTOCOLS_PARAMETER, "StringList", "Protocols the ports are restricted for: tcp, udp or both; "
              "all-traffic (-1) rules are revoked for either. Default [\"tcp\"].",
              default=["tcp"]),
        Param("ExemptionTagKey", "String", "Tag key reported as a label when present; a tag never exempts "
              "(only the approved list embedded in this document does).", default=DEFAULT_EXEMPTION_TAG_KEY),
        dry_run_param(),
    ),
    grants=(
        Grant("DescribeGroupsAndRules", ("ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups"), ("*",)),
        Grant("RevokeIngressInThisAccount", ("ec2:RevokeSecurityGroupIngress",), (SG,)),
        Grant("ReadPrefixListEntries", ("ec2:GetManagedPrefixListEntries",), (PREFIX_LISTS,)),
    ),
    embeds_exemptions=True,
)  # fmt: skip
