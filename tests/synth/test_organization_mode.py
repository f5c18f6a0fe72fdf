"""Organization mode: packs carry detection and remediation; StackSets carry the runbooks everywhere."""

from __future__ import annotations

import json

import yaml

from orgguard.controls import CATALOG
from tests.synth.conftest import stack_json


def _pack_template(org_out, region: str) -> dict:
    return yaml.safe_load((org_out / "templates" / f"conformance-pack-{region}.yaml").read_text())


def test_three_regions_get_three_org_conformance_packs_with_both_sg_rules_bound_to_remediation(org_out, org_manifest):
    regions = org_manifest.organization.regions
    assert len(regions) == 3
    packs = {p.region: p for p in org_manifest.conformance_packs}
    assert set(packs) == set(regions)
    for region in regions:
        tf = stack_json(org_out, f"orgguard-org-{region}")
        resources = tf["resource"]["aws_config_organization_conformance_pack"]
        (pack,) = resources.values()
        template = yaml.safe_load(pack["template_body"])
        assert template == _pack_template(org_out, region)
        res = template["Resources"]
        for control_id, identifier in (
            ("restricted-ssh", "INCOMING_SSH_DISABLED"),
            ("restricted-common-ports", "RESTRICTED_INCOMING_TRAFFIC"),
        ):
            rules = [
                r
                for r in res.values()
                if r["Type"] == "AWS::Config::ConfigRule"
                and r["Properties"]["Source"].get("SourceIdentifier") == identifier
            ]
            assert len(rules) == 1, control_id
            name = rules[0]["Properties"]["ConfigRuleName"]
            bindings = [
                r
                for r in res.values()
                if r["Type"] == "AWS::Config::RemediationConfiguration" and r["Properties"]["ConfigRuleName"] == name
            ]
            assert len(bindings) == 1, control_id
            props = bindings[0]["Properties"]
            assert props["Automatic"] is True
            assert props["TargetId"] == "orgguard-RevokePublicSgIngress"
            assert props["Parameters"]["GroupId"] == {"ResourceValue": {"Value": "RESOURCE_ID"}}
            # Literal role ARN naming the management account: Config swaps in each member's id.
            assert props["Parameters"]["AutomationAssumeRole"]["StaticValue"]["Values"] == [
                "arn:aws:iam::111111111111:role/orgguard-sg-revoke"
            ]


def test_pack_templates_hold_only_the_two_resource_types_a_pack_allows(org_out, org_manifest):
    for region in org_manifest.organization.regions:
        types = {r["Type"] for r in _pack_template(org_out, region)["Resources"].values()}
        assert types <= {"AWS::Config::ConfigRule", "AWS::Config::RemediationConfiguration"}


def test_restricted_ports_reach_the_runbook_as_configured(org_out):
    res = _pack_template(org_out, "us-east-1")["Resources"]
    ssh = res["RestrictedSshRemediation"]["Properties"]["Parameters"]["RestrictedPorts"]["StaticValue"]["Values"]
    common = res["RestrictedCommonPortsRemediation"]["Properties"]["Parameters"]["RestrictedPorts"]
    assert ssh == ["22"]
    assert common["StaticValue"]["Values"] == ["20", "21", "3389", "3306", "4333"]
    assert res["RestrictedCommonPortsRule"]["Properties"]["InputParameters"] == {
        "blockedPort1": "20",
        "blockedPort2": "21",
        "blockedPort3": "3389",
        "blockedPort4": "3306",
        "blockedPort5": "4333",
    }


def test_manual_ecs_remediation_is_bound_but_never_automatic(org_out):
    res = _pack_template(org_out, "us-east-1")["Resources"]
    for logical in ("EcsServicePublicIp", "EcsReadonlyRootFilesystem", "EcsTasksetPublicIp"):
        assert res[f"{logical}Remediation"]["Properties"]["Automatic"] is False
        assert "MaximumAutomaticAttempts" not in res[f"{logical}Remediation"]["Properties"]


def test_guard_rules_check_the_config_item_field_spelling_of_each_resource_type(org_out):
    res = _pack_template(org_out, "us-east-1")["Resources"]
    service = res["EcsServicePublicIpRule"]["Properties"]["Source"]
    taskset = res["EcsTasksetPublicIpRule"]["Properties"]["Source"]
    assert service["Owner"] == taskset["Owner"] == "CUSTOM_POLICY"
    assert "AwsvpcConfiguration.AssignPublicIp" in service["CustomPolicyDetails"]["PolicyText"]
    assert "AwsVpcConfiguration.AssignPublicIp" in taskset["CustomPolicyDetails"]["PolicyText"]


def test_stacksets_cover_every_target_ou_and_region_and_auto_deploy(org_out, org_manifest):
    tf = stack_json(org_out, "orgguard-org-global")
    sets = tf["resource"]["aws_cloudformation_stack_set"]
    for s in sets.values():
        assert s["permission_model"] == "SERVICE_MANAGED"
        assert s["auto_deployment"] == {"enabled": True, "retain_stacks_on_account_removal": False}
        assert s["call_as"] == "DELEGATED_ADMIN"
    instances = tf["resource"]["aws_cloudformation_stack_set_instance"].values()
    covered = {(i["stack_set_name"].split(".")[1], i["region"]) for i in instances}
    org = org_manifest.organization
    for i in instances:
        assert sorted(i["deployment_targets"]["organizational_unit_ids"]) == sorted(org.target_ous)
    assert {r for name, r in covered if name == "stackset-documents"} == set(org.regions)
    assert {r for name, r in covered if name == "stackset-roles"} == {org.home_region}


def test_nothing_attaches_remediation_to_an_organization_config_rule(org_out, org_manifest):
    for stack in org_manifest.stacks:
        resources = stack_json(org_out, stack.name).get("resource", {})
        assert not [t for t in resources if t.startswith("aws_config_organization_") and t.endswith("_rule")]
        assert "aws_config_remediation_configuration" not in resources


def test_management_account_is_excluded_from_packs_unless_asked(org_manifest):
    pack = org_manifest.conformance_packs[0]
    assert "111111111111" in pack.excluded_accounts  # StackSets never reach it: no runbook there
    assert "999999999999" in pack.excluded_accounts


def test_manifest_records_document_hashes_that_match_the_deployed_content(org_out, org_manifest):
    import hashlib

    template = yaml.safe_load((org_out / "templates" / "orgguard-documents.yaml").read_text())
    contents = {
        r["Properties"]["Name"]: r["Properties"]["Content"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SSM::Document"
    }
    assert set(contents) == {d.name for d in org_manifest.documents}
    for doc in org_manifest.documents:
        assert hashlib.sha256(contents[doc.name].encode()).hexdigest() == doc.sha256
        assert (org_out / doc.content_file).read_text() == contents[doc.name]
        json.loads(contents[doc.name])


def test_stackset_roles_carry_exactly_the_manifest_policies(org_out, org_manifest):
    from orgguard.synth.templates import cfn_sub

    template = yaml.safe_load((org_out / "templates" / "orgguard-roles.yaml").read_text())
    roles = {r["Properties"]["RoleName"]: r["Properties"] for r in template["Resources"].values()}
    assert set(roles) == {r.name for r in org_manifest.roles}
    for role in org_manifest.roles:
        assert roles[role.name]["AssumeRolePolicyDocument"] == cfn_sub(role.trust_policy)
        (policy,) = roles[role.name]["Policies"]
        assert policy["PolicyDocument"] == cfn_sub(next(iter(role.permission_policies.values())))


def test_every_catalog_control_appears_in_the_manifest_with_its_mappings(org_manifest):
    entries = {c.id: c for c in org_manifest.controls}
    # off-by-default controls the file does not enable are left out of the plan (Control.default_enabled)
    assert set(entries) == {cid for cid, c in CATALOG.items() if c.default_enabled}
    assert entries["restricted-ssh"].mappings.security_hub == ["EC2.13"]
    assert entries["restricted-ssh"].mappings.control_tower == "AWS-GR_RESTRICTED_SSH"
    assert entries["ecs-taskset-public-ip"].mappings.security_hub == ["ECS.16"]
    assert org_manifest.recorder_resource_types == [
        "AWS::EC2::SecurityGroup",
        "AWS::ECS::Service",
        "AWS::ECS::TaskDefinition",
        "AWS::ECS::TaskSet",
    ]


def test_scp_denies_tampering_except_to_stacksets_and_control_tower(org_out, org_manifest):
    # With a delegated administrator the SCP lives in the management account's own stack.
    tf = stack_json(org_out, "orgguard-org-management")
    assert tf["provider"]["aws"][0]["allowed_account_ids"] == ["111111111111"]
    assert "aws_organizations_policy" not in stack_json(org_out, "orgguard-org-global")["resource"]
    (policy,) = tf["resource"]["aws_organizations_policy"].values()
    content = json.loads(policy["content"].replace("$${", "${"))  # terraform sends $${ as ${ (a policy variable)
    assert content == org_manifest.scp.policy
    assert all(s["Effect"] == "Deny" for s in content["Statement"])
    attachments = tf["resource"]["aws_organizations_policy_attachment"].values()
    assert sorted(a["target_id"] for a in attachments) == sorted(org_manifest.organization.target_ous)


def test_a_short_port_list_fills_every_numbered_slot_so_no_default_port_sneaks_in():
    from orgguard.controls import CATALOG
    from orgguard.controls.restricted_common_ports import CommonPortsSettings

    control = CATALOG["restricted-common-ports"]
    rule = control.rule(CommonPortsSettings(ports=[22, 3389]), "p")
    assert rule.input_parameters == {
        "blockedPort1": "22", "blockedPort2": "3389", "blockedPort3": "3389", "blockedPort4": "3389",
        "blockedPort5": "3389",
    }
    assert control.remediation_parameters(CommonPortsSettings(ports=[22, 3389]), "k")["RestrictedPorts"] == [
        "22", "3389"
    ]
    long = control.rule(CommonPortsSettings(ports="security-hub-ec2-19"), "p")
    assert list(long.input_parameters) == ["blockedPorts"]
    assert long.input_parameters["blockedPorts"].split(",")[:3] == ["20", "21", "22"]


def test_without_a_delegated_admin_the_management_pieces_stay_in_the_global_stack(tmp_path):
    from orgguard.synth.build import synthesize
    from tests.synth.conftest import variant

    def edit(data):
        data["organization"].pop("delegated_admin_account_id")
        data["control_tower"]["enable_detective_controls"] = True

    manifest = synthesize(variant(tmp_path, "mgmt.yaml", edit), tmp_path / "out")
    assert [s.kind for s in manifest.stacks].count("org-management") == 0
    res = stack_json(tmp_path / "out", "orgguard-org-global")["resource"]
    assert {"aws_organizations_policy", "aws_controltower_control", "aws_cloudformation_stack_set"} <= set(res)
    assert all(s["call_as"] == "SELF" for s in res["aws_cloudformation_stack_set"].values())
