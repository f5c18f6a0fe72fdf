"""Service-managed StackSets from the delegated admin put SSM documents and IAM roles into members."""

from __future__ import annotations

import json

from orgguard.runbooks import RUNBOOKS
from orgguard.sandbox import Sandbox

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeSecurityGroupRules", "Resource": "*"}],
}


def test_delegated_admin_stacksets_deploy_roles_once_and_documents_per_region(sandbox: Sandbox) -> None:
    org = sandbox.org
    content = RUNBOOKS["sg-revoke"].render_document()
    documents = {
        "Resources": {
            "Doc": {
                "Type": "AWS::SSM::Document",
                "Properties": {
                    "Name": "ss-sg-revoke",
                    "DocumentType": "Automation",
                    "DocumentFormat": "JSON",
                    "Content": json.loads(content),
                },
            }
        }
    }
    roles = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "ss-sg-revoke",
                    "AssumeRolePolicyDocument": TRUST,
                    "Policies": [{"PolicyName": "revoke", "PolicyDocument": POLICY}],
                },
            }
        }
    }
    cf = sandbox.session(org.delegated_admin_account_id).client("cloudformation")
    targets = {"OrganizationalUnitIds": [org.ous["workloads"], org.ous["sandboxes"]]}
    for name, template, regions in (("ss-roles", roles, [org.home_region]), ("ss-docs", documents, list(org.regions))):
        cf.create_stack_set(
            StackSetName=name,
            TemplateBody=json.dumps(template),
            PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
            Capabilities=["CAPABILITY_NAMED_IAM"],
            CallAs="DELEGATED_ADMIN",
        )
        cf.create_stack_instances(
            StackSetName=name, DeploymentTargets=targets, Regions=regions, CallAs="DELEGATED_ADMIN"
        )
    targeted = {a for a, ou in org.accounts.items() if ou in targets["OrganizationalUnitIds"]}
    instances = cf.list_stack_instances(StackSetName="ss-docs", CallAs="DELEGATED_ADMIN")["Summaries"]
    assert {(i["Account"], i["Region"]) for i in instances} == {(a, r) for a in targeted for r in org.regions}
    for account_id in org.accounts:
        iam = sandbox.session(account_id).client("iam")
        names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
        assert ("ss-sg-revoke" in names) == (account_id in targeted)
        if account_id in targeted:
            assert iam.get_role_policy(RoleName="ss-sg-revoke", PolicyName="revoke")["PolicyDocument"] == POLICY
        for region in org.regions:
            ssm = sandbox.session(account_id, region).client("ssm")
            docs = {
                d["Name"]
                for d in ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])["DocumentIdentifiers"]
            }
            assert ("ss-sg-revoke" in docs) == (account_id in targeted)
            if account_id in targeted:
                document = ssm.get_document(Name="ss-sg-revoke")
                assert json.loads(document["Content"]) == json.loads(content)
