"""Put a remediation's prerequisites (SSM document per region, IAM role) into sandbox accounts.

Organization packs fail in an account without them, as in AWS, so tests that want a pack to land
install them first, exactly where a StackSet would.
"""

from __future__ import annotations

import contextlib
import json

from botocore.exceptions import ClientError

from orgguard.sandbox import Sandbox

DOCUMENT = {
    "schemaVersion": "0.3",
    "assumeRole": "{{ AutomationAssumeRole }}",
    "parameters": {"GroupId": {"type": "String"}, "AutomationAssumeRole": {"type": "String"}},
    "mainSteps": [{"name": "wait", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def install(sandbox: Sandbox, account_id: str, regions: list[str], *, document: str, role: str | None) -> None:
    """Create the document in each region and (when given) the role, once; idempotent."""
    session = sandbox.session(account_id)
    if role:
        with contextlib.suppress(ClientError):  # already there
            session.client("iam").create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    for region in regions:
        with contextlib.suppress(ClientError):
            session.client("ssm", region_name=region).create_document(
                Name=document, Content=json.dumps(DOCUMENT), DocumentType="Automation", DocumentFormat="JSON"
            )
