"""Checks inside one member account and region, through the assumed role.

Each function returns exactly one CheckResult for its (check, control) and lets exceptions escape:
the runner turns them into UNVERIFIED with the reason, so nothing unread can PASS.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from orgguard.manifest import ConformancePackEntry, ControlEntry, DocumentEntry, RoleEntry, for_account
from orgguard.verify.compare import (
    SUCCESS_PACK_STATES,
    differing,
    pack_resources,
    pack_rule_name_matches,
    recorder_views,
    remediation_views,
    rule_views,
)
from orgguard.verify.context import Target
from orgguard.verify.errors import error_code
from orgguard.verify.policy import parse_policy, policy_diff
from orgguard.verify.result import GLOBAL_REGION, CheckResult, failed, passed, unverified


class Unverifiable(Exception):
    """A precondition that makes a check impossible to decide (not an AWS error)."""


def check_recorder(t: Target) -> CheckResult:
    cfg = t.client("config")
    recorders = cfg.describe_configuration_recorders().get("ConfigurationRecorders", [])
    statuses = cfg.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    expected, actual = recorder_views(t.manifest.recorder_resource_types, recorders, statuses)
    diff = differing(expected, actual) if actual["recorder"] else ["recorder"]
    if not diff:
        return passed("config-recorder", None, t.account_id, t.region, actual)
    if not actual["recorder"]:
        reason = "no configuration recorder in this account and region"
    elif not actual["recording"]:
        reason = f"configuration recorder {actual['recorder']!r} is stopped"
    else:
        reason = f"recorder does not record {', '.join(actual['missing_types'])}"
    return failed("config-recorder", None, t.account_id, t.region, expected, actual, reason)


def pack_for_rule(t: Target, rule_name: str) -> str | None:
    """The organization conformance pack of this region that carries the rule, if any."""
    for pack in t.manifest.conformance_packs:
        if pack.region == t.region and rule_name in pack.rules:
            return pack.name
    return None


def member_pack_name(t: Target, org_pack: str) -> str | None:
    """The member-side name of an organization pack here, from its detailed status (None: not deployed here)."""
    statuses = t.org.pack_status.get((org_pack, t.region))
    if isinstance(statuses, BaseException):
        raise statuses
    item = (statuses or {}).get(t.account_id)
    if item is None or not item.get("ConformancePackName"):
        return None
    return str(item["ConformancePackName"])


def _pack_compliance_rules(t: Target, member_pack: str) -> list[str]:
    """The pack's rules as Config lists them (DescribeConformancePackCompliance, paginated). The client has
    the verifier's adaptive retries, so throttling and transient 5xx answers are retried; whatever outlasts
    them (or any other error, "not implemented" included) makes the checks that need it UNVERIFIED."""
    paginator = t.client("config").get_paginator("describe_conformance_pack_compliance")
    return [
        r["ConfigRuleName"]
        for page in paginator.paginate(ConformancePackName=member_pack)
        for r in page.get("ConformancePackRuleComplianceList", [])
    ]


def _member_pack_rules(t: Target, org_pack: str) -> list[str]:
    """Real rule names of the pack in this account; its member-side name comes from the detailed status."""
    member_pack = member_pack_name(t, org_pack)
    if member_pack is None:
        return []  # the organization pack reports no deployment here, so none of its rules exist here
    try:
        return _pack_compliance_rules(t, member_pack)
    except ClientError as exc:
        if error_code(exc) == "NoSuchConformancePackException":
            return []
        raise


def real_rule_name(t: Target, control: ControlEntry) -> str | None:
    """Exact in account mode; read from the organization pack's deployment in organization mode."""
    if t.manifest.mode == "account":
        return control.rule.name
    pack = pack_for_rule(t, control.rule.name)
    if pack is None:
        raise Unverifiable(f"rule {control.rule.name} is in no conformance pack of the manifest for {t.region}")
    names = t.memo.get(("pack-rules", pack), lambda: _member_pack_rules(t, pack))
    matches = [n for n in names if pack_rule_name_matches(control.rule.name, n)]
    return matches[0] if len(matches) == 1 else None


def _describe_rules(t: Target, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    cfg = t.client("config")
    found: dict[str, dict[str, Any]] = {}
    try:
        for page in cfg.get_paginator("describe_config_rules").paginate(ConfigRuleNames=list(names)):
            found.update({r["ConfigRuleName"]: r for r in page.get("ConfigRules", [])})
        return found
    except ClientError as exc:
        if error_code(exc) != "NoSuchConfigRuleException":
            raise
    for name in names:  # one is missing: ask one by one so the others still get checked
        try:
            rules = cfg.describe_config_rules(ConfigRuleNames=[name]).get("ConfigRules", [])
            found.update({r["ConfigRuleName"]: r for r in rules})
        except ClientError as exc:
            if error_code(exc) != "NoSuchConfigRuleException":
                raise
    return found


def _all_real_names(t: Target) -> tuple[str, ...]:
    names = []
    for control in t.manifest.enabled_controls():
        try:
            name = real_rule_name(t, control)
        except Exception:
            continue
        if name:
            names.append(name)
    return tuple(sorted(names))


def check_rule(t: Target, control: ControlEntry) -> CheckResult:
    args = ("config-rule", control.id, t.account_id, t.region)
    name = real_rule_name(t, control)
    if name is None:
        return failed(*args, control.rule.name, None, "rule not found among the conformance pack's rules here")
    live = t.memo.get("rules", lambda: _describe_rules(t, _all_real_names(t))).get(name)
    if live is None:
        return failed(*args, name, None, f"Config rule {name} does not exist")
    text = None
    if control.rule.source_owner == "CUSTOM_POLICY":
        # DescribeConfigRules omits the Guard text in AWS; read it with GetCustomRulePolicy unless given.
        text = live.get("Source", {}).get("CustomPolicyDetails", {}).get("PolicyText")
        if text is None:
            text = t.client("config").get_custom_rule_policy(ConfigRuleName=name).get("PolicyText")
    expected, actual = rule_views(control.rule, live, text)
    diff = differing(expected, actual)
    if diff:
        return failed(*args, expected, actual, f"rule {name}: {', '.join(diff)} differ")
    return passed(*args, {"name": name})


def _describe_remediations(t: Target, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    cfg = t.client("config")
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(names), 25):  # the API takes at most 25 names and has no paginator
        chunk = list(names[start : start + 25])
        for item in cfg.describe_remediation_configurations(ConfigRuleNames=chunk).get("RemediationConfigurations", []):
            found[item["ConfigRuleName"]] = item
    return found


def check_remediation(t: Target, control: ControlEntry) -> CheckResult:
    args = ("remediation", control.id, t.account_id, t.region)
    name = real_rule_name(t, control)
    if name is None:
        if control.remediation.mode == "off":
            return passed(*args, None)
        expected, _ = remediation_views(control.remediation, None, t.account_id)
        return failed(*args, expected, None, f"rule of {control.id} not deployed here, so no remediation is bound")
    live = t.memo.get("remediations", lambda: _describe_remediations(t, _all_real_names(t))).get(name)
    org_mode = t.manifest.mode == "organization"
    management = t.manifest.organization.management_account_id if org_mode else None
    expected, actual = remediation_views(control.remediation, live, t.account_id, management)
    if expected == actual:
        return passed(*args, actual)
    if actual is None:
        return failed(*args, expected, None, f"no remediation bound to rule {name}")
    if expected is None:
        return failed(*args, None, actual, f"rule {name} has a remediation but the manifest says off")
    return failed(*args, expected, actual, f"remediation of {name}: {', '.join(differing(expected, actual))} differ")


def _canonical(text: str) -> str | None:
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return None


def _manifest_content(t: Target, doc: DocumentEntry) -> str | None:
    """The synthesized content beside the manifest, only if it still hashes to the manifest's sha256."""
    if t.manifest_dir is None:
        return None
    try:
        text = (t.manifest_dir / doc.content_file).read_text()
    except OSError:
        return None
    return text if hashlib.sha256(text.encode()).hexdigest() == doc.sha256 else None


def check_document(t: Target, doc: DocumentEntry) -> CheckResult:
    """Default version's content hash equals the manifest's; CloudFormation-reserialized JSON also counts.

    A StackSet passes the document as a JSON object, so SSM may store it with other whitespace or key
    order: when the raw hash differs, the content is compared as canonical JSON with the synthesized file.
    """
    args = (f"ssm-document:{doc.name}", None, t.account_id, t.region)
    ssm = t.client("ssm")
    try:
        described = ssm.describe_document(Name=doc.name)["Document"]
        reported = described.get("Hash") if described.get("HashType", "Sha256") == "Sha256" else None
        seen = t.org.verified_documents.get((doc.name, doc.sha256, reported)) if reported else None
        content = None if seen is not None else ssm.get_document(Name=doc.name)["Content"]
    except ClientError as exc:
        if error_code(exc) in {"InvalidDocument", "InvalidDocumentVersion"}:
            return failed(*args, {"sha256": doc.sha256}, None, f"document {doc.name} does not exist")
        raise
    if content is None:
        # SSM's SHA-256 equals one whose content this run already read and found to be the manifest's, in
        # another account (StackSets deploy the same bytes everywhere): the same hash is the same content,
        # so the outcome is that one's, without reading the content again.
        live_sha, same_json = str(reported), bool(seen)
    else:
        live_sha = hashlib.sha256(content.encode()).hexdigest()
        synthesized = _manifest_content(t, doc) if live_sha != doc.sha256 else None
        live_json = _canonical(content)
        same_json = synthesized is not None and live_json is not None and _canonical(synthesized) == live_json
    expected = {"content": doc.sha256, "document_type": doc.document_type}
    actual = {"content": doc.sha256 if same_json else live_sha, "document_type": described.get("DocumentType")}
    if reported:
        expected["reported_hash"] = live_sha  # SSM's own hash must describe the content it served
        actual["reported_hash"] = reported
    diff = differing(expected, actual)
    version = described.get("DefaultVersion")
    if diff:
        return failed(*args, expected, actual, f"default version {version} of {doc.name}: {', '.join(diff)} differ")
    if reported and content is not None:
        t.org.verified_documents[(doc.name, doc.sha256, reported)] = same_json
    return passed(*args, {"default_version": version, "sha256": live_sha, "same_json_only": same_json})


def check_role(t: Target, role: RoleEntry) -> CheckResult:
    args = (f"iam-role:{role.name}", None, t.account_id, GLOBAL_REGION)
    iam = t.client("iam")
    try:
        live = iam.get_role(RoleName=role.name)["Role"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return failed(*args, role.name, None, f"role {role.name} does not exist")
        raise
    problems: list[str] = []
    want_trust = for_account(role.trust_policy, t.account_id)
    have_trust = parse_policy(live.get("AssumeRolePolicyDocument") or "{}")
    if diff := policy_diff(want_trust, have_trust):
        problems.append(f"trust policy: {diff}")
    if live.get("Path", "/") != role.path:
        problems.append(f"path {live.get('Path')!r} instead of {role.path!r}")
    names = [n for p in iam.get_paginator("list_role_policies").paginate(RoleName=role.name) for n in p["PolicyNames"]]
    have_inline: dict[str, Any] = {}
    for name in names:
        have_inline[name] = parse_policy(iam.get_role_policy(RoleName=role.name, PolicyName=name)["PolicyDocument"])
    want_inline = for_account(role.permission_policies, t.account_id)
    for name in sorted(set(want_inline) | set(have_inline)):
        if name not in have_inline:
            problems.append(f"inline policy {name} missing")
        elif name not in want_inline:
            problems.append(f"unexpected inline policy {name}")
        elif diff := policy_diff(want_inline[name], have_inline[name]):
            problems.append(f"inline policy {name}: {diff}")
    attached = [
        a["PolicyArn"]
        for p in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role.name)
        for a in p["AttachedPolicies"]
    ]
    if attached:
        problems.append(f"managed policies attached: {', '.join(attached)}")
    expected = {"path": role.path, "trust_policy": want_trust, "permission_policies": want_inline, "attached": []}
    actual = {
        "path": live.get("Path"),
        "trust_policy": have_trust,
        "permission_policies": have_inline,
        "attached": attached,
    }
    if problems:
        return failed(*args, expected, actual, "; ".join(problems))
    return passed(*args)


def _json_or_text(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return text


def check_fast_path(t: Target) -> CheckResult:
    """Each fast-path route's EventBridge rule: enabled, the manifest's event pattern, and exactly one
    target starting the revoke runbook of this account with the fast-path role and the manifest's input
    transformer (so a target made to dry-run, guard other ports or assume another role fails)."""
    fp = t.manifest.fast_path
    assert fp is not None
    args = (f"fast-path:{fp.rule_name}", None, t.account_id, t.region)
    events = t.client("events")
    role = f"arn:aws:iam::{t.account_id}:role/{fp.role}"
    arn = f"arn:aws:ssm:{t.region}:{t.account_id}:automation-definition/{fp.document}:$DEFAULT"
    live = {r["Name"]: r for page in events.get_paginator("list_rules").paginate(NamePrefix=fp.rule_name)
            for r in page["Rules"]}
    expected: dict[str, Any] = {}
    actual: dict[str, Any] = {}
    for index, route in enumerate(fp.routes, start=1):
        name = fp.route_rule_name(index)
        want = {
            "state": "ENABLED",
            "event_pattern": route.event_pattern,
            "targets": [
                {"arn": arn, "role": role, "input_paths": route.input_paths,
                 "input_template": _json_or_text(route.input_template)}
            ],
        }
        expected[name] = want
        rule = live.get(name)
        if rule is None:
            actual[name] = None
            continue
        targets = [x for page in events.get_paginator("list_targets_by_rule").paginate(Rule=name)
                   for x in page["Targets"]]
        actual[name] = {
            "state": rule.get("State"),
            "event_pattern": _json_or_text(rule.get("EventPattern")),
            "targets": [
                {"arn": x.get("Arn"), "role": x.get("RoleArn"),
                 "input_paths": (x.get("InputTransformer") or {}).get("InputPathsMap"),
                 "input_template": _json_or_text((x.get("InputTransformer") or {}).get("InputTemplate"))}
                for x in targets
            ],
        }
    extra = sorted(set(live) - set(expected))
    problems = [f"rule {n} is missing" for n, a in actual.items() if a is None]
    problems += [f"rule {n}: {', '.join(differing(expected[n], a))} differ"
                 for n, a in actual.items() if a is not None and a != expected[n]]
    problems += [f"unexpected rule {n}" for n in extra]
    if problems:
        return failed(*args, expected, actual, "; ".join(problems))
    return passed(*args, {"rules": sorted(actual)})


def check_pack_status(t: Target, org_pack: str) -> CheckResult:
    args = (f"conformance-pack:{org_pack}", None, t.account_id, t.region)
    statuses = t.org.pack_status.get((org_pack, t.region))
    if isinstance(statuses, BaseException):
        raise statuses
    item = (statuses or {}).get(t.account_id)
    if item is None:
        return failed(*args, "CREATE_SUCCESSFUL", None, "the organization pack reports no deployment in this account")
    if item.get("Status") in SUCCESS_PACK_STATES:
        return passed(*args, {"status": item["Status"], "member_pack": item.get("ConformancePackName")})
    actual = {k: item.get(k) for k in ("Status", "ErrorCode", "ErrorMessage")}
    return failed(*args, "CREATE_SUCCESSFUL or UPDATE_SUCCESSFUL", actual, f"pack status {item.get('Status')}")


def check_pack_template(t: Target, pack: ConformancePackEntry) -> CheckResult:
    """The CloudFormation stack behind this account's pack runs the manifest's template (``--pack-templates``).

    DescribeOrganizationConformancePacks returns no body; DescribeConformancePackStatus gives the member
    pack's ``StackArn`` and cloudformation:GetTemplate its body. Identical bytes pass; otherwise the
    resources are compared as data, allowing only Config's documented rewrites (rule renames, the member's
    id in the role ARN), because AWS does not document that the stack keeps the submitted text.
    """
    args = (f"pack-template:{pack.name}", None, t.account_id, t.region)
    expected_hash = {"sha256": pack.template_sha256}
    member_pack = member_pack_name(t, pack.name)
    if member_pack is None:
        return failed(*args, expected_hash, None, "the organization pack reports no deployment in this account")
    if t.manifest_dir is None:
        raise Unverifiable("the manifest's directory is unknown, so its pack template cannot be read")
    synthesized = (t.manifest_dir / pack.template_file).read_text()  # its hash was checked before any call
    cfg = t.client("config")
    try:
        details = [
            d
            for page in cfg.get_paginator("describe_conformance_pack_status").paginate(
                ConformancePackNames=[member_pack]
            )
            for d in page.get("ConformancePackStatusDetails", [])
        ]
    except ClientError as exc:
        if error_code(exc) != "NoSuchConformancePackException":
            raise
        details = []
    detail = next((d for d in details if d.get("ConformancePackName") == member_pack), None)
    if detail is None:
        return failed(*args, expected_hash, None, f"conformance pack {member_pack} does not exist in this account")
    stack = detail.get("StackArn")
    if not stack:  # optional in the model: "Managed conformance packs leave it empty"
        raise Unverifiable(f"DescribeConformancePackStatus gives no StackArn for {member_pack} "
                           f"(state {detail.get('ConformancePackState')})")
    body = t.client("cloudformation").get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    text = body if isinstance(body, str) else None
    live_sha = hashlib.sha256(text.encode()).hexdigest() if text is not None else None
    if live_sha == pack.template_sha256:
        return passed(*args, {"stack": stack, "sha256": live_sha, "same_content_only": False})
    org_mode = t.manifest.mode == "organization"
    management = t.manifest.organization.management_account_id if org_mode else None
    want = pack_resources(synthesized, pack.rules, management, t.account_id)
    have = pack_resources(body, pack.rules, None, t.account_id)
    if have is not None and want == have:
        return passed(*args, {"stack": stack, "sha256": live_sha, "same_content_only": True})
    if have is None:
        return failed(*args, expected_hash, {"sha256": live_sha}, f"stack {stack} holds no readable pack template")
    problems = [f"missing {k}" for k in sorted(set(want or {}) - set(have))]
    problems += [f"unexpected {k}" for k in sorted(set(have) - set(want or {}))]
    problems += [f"{k} differs" for k in sorted(set(want or {}) & set(have)) if (want or {})[k] != have[k]]
    return failed(*args, want, have, f"pack template in stack {stack}: {'; '.join(problems)}")


def check_stack_instance(t: Target, stack_set: str, region: str) -> CheckResult:
    args = (f"stackset-instance:{stack_set}", None, t.account_id, region)
    instances = t.org.stack_instances.get(stack_set)
    if isinstance(instances, BaseException):
        raise instances
    item = (instances or {}).get((t.account_id, region))
    expected = {"status": "CURRENT", "detailed_status": "SUCCEEDED", "drifted": False}
    if item is None:
        return failed(*args, expected, None, "no stack instance for this account and region")
    detailed = (item.get("StackInstanceStatus") or {}).get("DetailedStatus", "SUCCEEDED")
    actual = {
        "status": item.get("Status"),
        "detailed_status": detailed,
        "drifted": item.get("DriftStatus") == "DRIFTED",
    }
    if diff := differing(expected, actual):
        reason = f"{', '.join(diff)} differ" + (f": {item['StatusReason']}" if item.get("StatusReason") else "")
        return failed(*args, expected, actual, reason)
    return passed(*args, actual)


__all__ = [
    "Unverifiable",
    "check_document",
    "check_pack_status",
    "check_pack_template",
    "check_recorder",
    "check_remediation",
    "check_role",
    "check_rule",
    "check_stack_instance",
    "unverified",
]
