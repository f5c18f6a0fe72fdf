"""Organization conformance packs that really deploy, which moto 5.2.5 only half does.

PutOrganizationConformancePack parses the pack template and deploys its ``AWS::Config::ConfigRule``
resources (as ``<rule>-conformance-pack-<8 chars>``) and ``AWS::Config::RemediationConfiguration``
resources (bound to the renamed rule, the management account id in the role ARN replaced by the
member's) into every account of the organization not excluded (packs have no OU scoping), in the
region of the call. The describe, status and detailed-status calls answer per pack and per account,
shaped like botocore's model.

A pack fails in an account where its prerequisites are missing, as in AWS: no configuration
recorder, or a remediation whose SSM document (in that account and region) or automation role (in
that account) does not exist. That account's detailed status is CREATE_FAILED (UPDATE_FAILED on an
update) with an error code and message, nothing of the pack stays there (its stack rolls back), and
the organization status is CREATE_FAILED / UPDATE_FAILED, which fails the provider's waiter.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.core.exceptions import JsonRESTError
from moto.organizations.models import organizations_backends

from orgguard.sandbox import remediation

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

CONFIG_PRINCIPAL = "config-multiaccountsetup.amazonaws.com"
ALLOWED_TYPES = {"AWS::Config::ConfigRule", "AWS::Config::RemediationConfiguration"}
NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
MAX_TEMPLATE_BYTES = 51_200
_LOCK = threading.RLock()
_CTX: dict[str, ServerContext] = {}


def _suffix(n: int = 8) -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(n))


@dataclass
class MemberPack:
    conformance_pack_name: str
    status: str
    rule_names: dict[str, str] = field(default_factory=dict)  # synthesized name -> real name
    error_code: str | None = None
    error_message: str | None = None
    last_update: float = field(default_factory=time.time)


@dataclass
class OrgPack:
    name: str
    arn: str
    region: str
    template_body: str
    input_parameters: list[dict[str, str]]
    excluded_accounts: list[str]
    delivery_s3_bucket: str | None
    delivery_s3_key_prefix: str | None
    status: str = "CREATE_SUCCESSFUL"
    error_code: str | None = None
    error_message: str | None = None
    last_update: float = field(default_factory=time.time)
    members: dict[str, MemberPack] = field(default_factory=dict)


# (management account, region) -> pack name -> pack
PACKS: dict[tuple[str, str], dict[str, OrgPack]] = {}


class _Error(JsonRESTError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


# -- template parsing -----------------------------------------------------------------------------
class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags (!Ref, !Sub, ...) into their long form."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def _resolve(value: Any, params: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in params:
            return params[value["Ref"]]
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            return re.sub(r"\$\{([^}!]+)\}", lambda m: params.get(m.group(1), m.group(0)), value["Fn::Sub"])
        return {k: _resolve(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, params) for v in value]
    return value


def parse_template(body: str, input_parameters: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """The template's resources with parameters resolved; raises the AWS validation error."""
    try:
        template = yaml.load(body, Loader=_CfnLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise _Error("OrganizationConformancePackTemplateValidationException", f"Template is invalid: {exc}") from exc
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise _Error("OrganizationConformancePackTemplateValidationException", "Template has no Resources.")
    params = {
        name: str(spec.get("Default"))
        for name, spec in (template.get("Parameters") or {}).items()
        if isinstance(spec, dict) and "Default" in spec
    }
    params.update({p["ParameterName"]: p["ParameterValue"] for p in input_parameters})
    resources = _resolve(template["Resources"], params)
    for logical_id, resource in resources.items():
        if resource.get("Type") not in ALLOWED_TYPES:
            raise _Error(
                "OrganizationConformancePackTemplateValidationException",
                f"Resource {logical_id} has type {resource.get('Type')}; a conformance pack may contain only "
                "AWS::Config::ConfigRule and AWS::Config::RemediationConfiguration.",
            )
    return resources


# -- the organization -----------------------------------------------------------------------------
def _management_account() -> str:
    ctx = _CTX.get("ctx")
    if ctx is None or ctx.org is None:
        raise _Error("NoAvailableOrganizationException", "The organization is not ready.")
    return ctx.org.management_account_id


def _org_backend() -> Any:
    return organizations_backends[_management_account()]["aws"]


def _members() -> list[str]:
    """Every active account of the organization, the management account included: a pack has no OU
    scoping and reaches every account it does not exclude (docs/sandbox.md)."""
    return [a.id for a in _org_backend().accounts if a.status == "ACTIVE"]


def _check_caller(account_id: str) -> None:
    """Only the management account or the Config delegated administrator may manage org packs."""
    if account_id == _management_account():
        return
    admins = {a.account.id for a in _org_backend().admins if CONFIG_PRINCIPAL in a.services}
    if account_id not in admins:
        raise _Error(
            "OrganizationAccessDeniedException",
            "This action can only be performed if you are a registered delegated administrator for AWS Config "
            "with permissions to call ListDelegatedAdministrators API.",
        )


# -- deployment into member accounts ------------------------------------------------------------
def _service_linked_arn(rule: Any) -> None:
    """A pack's rule is a service-linked rule of config-conforms.amazonaws.com, and AWS names it so in its ARN:
    `...:config-rule/aws-service-rule/config-conforms.amazonaws.com/config-rule-<id>` (the AWS managed policy
    ConfigConformsServiceRolePolicy scopes PutConfigRule to that form; docs/sandbox.md). moto gives every rule
    `...:config-rule/config-rule-<id>`."""
    marker = ":config-rule/"
    linked = f"{marker}aws-service-rule/{remediation.CONFORMS_SERVICE}/"
    if linked not in rule.config_rule_arn:
        rule.config_rule_arn = rule.config_rule_arn.replace(marker, linked, 1)


def _rule_request(props: dict[str, Any], real_name: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"ConfigRuleName": real_name, "Source": props["Source"]}
    for key in ("Description", "Scope", "MaximumExecutionFrequency", "EvaluationModes"):
        if key in props:
            rule[key] = props[key]
    if "InputParameters" in props:
        value = props["InputParameters"]
        rule["InputParameters"] = value if isinstance(value, str) else json.dumps(value)
    return rule


def _remediation_request(props: dict[str, Any], rule_names: dict[str, str], mgmt: str, member: str) -> dict[str, Any]:
    config = {k: v for k, v in props.items() if k != "ConfigRuleName"}
    config["ConfigRuleName"] = rule_names.get(props.get("ConfigRuleName", ""), props.get("ConfigRuleName", ""))
    params = config.get("Parameters")
    if isinstance(params, str):
        params = json.loads(params)
    config["Parameters"] = json.loads(json.dumps(params or {}).replace(f":{mgmt}:", f":{member}:"))
    return config


def _missing_prerequisite(
    resources: dict[str, dict[str, Any]], mgmt: str, member: str, region: str
) -> tuple[str, str] | None:
    """(error code, message) for the first remediation whose document or role is absent in that
    account, as its conformance-pack stack would fail there; None when every one can be created."""
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Config::RemediationConfiguration":
            continue
        request = _remediation_request(resource["Properties"], {}, mgmt, member)
        problem = remediation.missing_document(member, region, request) or remediation.missing_role(member, request)
        if problem:
            return remediation.MISSING_TARGET_CODE, f"{logical_id}: {problem}"
    return None


def _deploy_member(pack: OrgPack, resources: dict[str, dict[str, Any]], member: str) -> MemberPack:
    region, mgmt = pack.region, _management_account()
    old = pack.members.get(member)
    updating = old is not None and old.status.endswith("SUCCESSFUL")
    current = MemberPack(
        conformance_pack_name=old.conformance_pack_name if old else f"OrgConformsPack-{pack.name}-{_suffix()}",
        status="UPDATE_SUCCESSFUL" if updating else "CREATE_SUCCESSFUL",
        rule_names=dict(old.rule_names) if updating and old else {},
    )
    if old is not None and not updating:  # a failed deployment left nothing behind; start again clean
        _undeploy_member(pack, member)
    failed = "UPDATE_FAILED" if updating else "CREATE_FAILED"
    backend = config_backends[member][region]
    if not backend.recorders:
        current.status = failed
        current.error_code = "NoAvailableConfigurationRecorderException"
        current.error_message = f"No configuration recorder is available in account {member}, region {region}."
        return _failed(current, old, updating)
    missing = _missing_prerequisite(resources, mgmt, member, region)
    if missing:
        current.status = failed
        current.error_code, current.error_message = missing
        return _failed(current, old, updating)
    rules = {r["Properties"]["ConfigRuleName"]: r["Properties"] for r in resources.values()
             if r["Type"] == "AWS::Config::ConfigRule"}  # fmt: skip
    try:
        for gone in set(current.rule_names) - set(rules):
            real = current.rule_names.pop(gone)
            remediation.delete(member, region, real)
            backend.config_rules.pop(real, None)
        for name, props in rules.items():
            real = current.rule_names.setdefault(name, f"{name}-conformance-pack-{_suffix()}")
            backend.put_config_rule(_rule_request(props, real))
            backend.config_rules[real].created_by = remediation.CONFORMS_SERVICE
            _service_linked_arn(backend.config_rules[real])
        wanted = set()
        for resource in resources.values():
            if resource["Type"] == "AWS::Config::RemediationConfiguration":
                request = _remediation_request(resource["Properties"], current.rule_names, mgmt, member)
                remediation.put(member, region, request, created_by=remediation.CONFORMS_SERVICE)
                wanted.add(request["ConfigRuleName"])
        for real in set(current.rule_names.values()) - wanted:
            remediation.delete(member, region, real)
    except JsonRESTError as exc:
        current.status = failed
        current.error_code, current.error_message = exc.error_type, exc.message
        if not updating:  # the member's stack rolls back: nothing of a failed create stays
            _remove_rules(member, region, current.rule_names)
            current.rule_names = {}
    return current


def _failed(current: MemberPack, old: MemberPack | None, updating: bool) -> MemberPack:
    """A failed update keeps what the last good deployment made (its stack rolls back to it)."""
    if updating and old is not None:
        current.rule_names = dict(old.rule_names)
    return current


def _remove_rules(member: str, region: str, rule_names: dict[str, str]) -> None:
    backend = config_backends[member][region]
    for real in rule_names.values():
        remediation.delete(member, region, real)
        backend.config_rules.pop(real, None)


def _undeploy_member(pack: OrgPack, member: str) -> None:
    _remove_rules(member, pack.region, pack.members[member].rule_names)


def _template_from_s3(uri: str, account_id: str) -> str:
    from moto.s3.models import s3_backends

    match = re.match(r"^s3://([^/]+)/(.+)$", uri)
    if not match:
        raise _Error("ValidationException", f"TemplateS3Uri {uri} must look like s3://bucket/key.")
    try:
        key = s3_backends[account_id]["aws"].get_object(match.group(1), match.group(2))
    except Exception as exc:
        raise _Error("ValidationException", f"Cannot read {uri}: {exc}") from exc
    return key.value.decode()


def _page(items: list[Any], limit: int | None, token: str | None, maximum: int) -> tuple[list[Any], str | None]:
    limit = limit or maximum
    if not 0 < limit <= maximum:
        raise _Error("InvalidLimitException", f"Limit must be between 1 and {maximum}.")
    try:
        start = int(token) if token else 0
    except ValueError as exc:
        raise _Error("InvalidNextTokenException", "The specified next token is invalid.") from exc
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)


def _strip(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


class _Api:
    """Methods grafted onto moto's ConfigResponse."""

    def put_organization_conformance_pack(self: Any) -> str:
        account, region = self.current_account, self.region
        _check_caller(account)
        name = self._get_param("OrganizationConformancePackName") or ""
        if not NAME.match(name):
            raise _Error("ValidationException", f"OrganizationConformancePackName {name!r} must match {NAME.pattern}.")
        body = self._get_param("TemplateBody")
        uri = self._get_param("TemplateS3Uri")
        if bool(body) == bool(uri):
            raise _Error("ValidationException", "Give exactly one of TemplateBody or TemplateS3Uri.")
        if body and len(body.encode()) > MAX_TEMPLATE_BYTES:
            raise _Error("ValidationException", f"TemplateBody is longer than {MAX_TEMPLATE_BYTES} bytes.")
        body = body or _template_from_s3(uri, account)
        inputs = self._get_param("ConformancePackInputParameters") or []
        if len(inputs) > 60:
            raise _Error("ValidationException", "At most 60 ConformancePackInputParameters are allowed.")
        excluded = self._get_param("ExcludedAccounts") or []
        if len(excluded) > 1000:
            raise _Error("ValidationException", "At most 1000 ExcludedAccounts are allowed.")
        resources = parse_template(body, inputs)
        mgmt = _management_account()
        with _LOCK:
            packs = PACKS.setdefault((mgmt, region), {})
            pack = packs.get(name) or OrgPack(
                name=name,
                arn=f"arn:aws:config:{region}:{mgmt}:organization-conformance-pack/{name}-{_suffix()}",
                region=region,
                template_body=body,
                input_parameters=inputs,
                excluded_accounts=excluded,
                delivery_s3_bucket=self._get_param("DeliveryS3Bucket"),
                delivery_s3_key_prefix=self._get_param("DeliveryS3KeyPrefix"),
            )
            updating = name in packs
            pack.template_body, pack.input_parameters, pack.excluded_accounts = body, inputs, excluded
            for member in [m for m in pack.members if m in excluded]:
                _undeploy_member(pack, member)
                del pack.members[member]
            for member in _members():
                if member not in excluded:
                    pack.members[member] = _deploy_member(pack, resources, member)
            failed = sorted(a for a, m in pack.members.items() if m.status.endswith("FAILED"))
            verb = "UPDATE" if updating else "CREATE"
            # "CREATE_FAILED when an organization conformance pack creation failed in one or more member
            # accounts" (OrganizationConformancePackStatus, botocore config model); likewise UPDATE_FAILED.
            pack.status = f"{verb}_FAILED" if failed else f"{verb}_SUCCESSFUL"
            pack.error_code = "OrganizationConformancePackFailed" if failed else None
            pack.error_message = (
                f"Deployment failed in {len(failed)} account(s): {', '.join(failed)}; "
                "see GetOrganizationConformancePackDetailedStatus." if failed else None
            )
            pack.last_update = time.time()
            packs[name] = pack
        return json.dumps({"OrganizationConformancePackArn": pack.arn})

    def _packs(self: Any, names: list[str] | None) -> list[OrgPack]:
        _check_caller(self.current_account)
        packs = PACKS.get((_management_account(), self.region), {})
        if not names:
            return sorted(packs.values(), key=lambda p: p.name)
        missing = [n for n in names if n not in packs]
        if missing:
            raise _Error(
                "NoSuchOrganizationConformancePackException",
                "One or more organization conformance packs with specified names are not present. "
                "Ensure your names are correct and try your request again later.",
            )
        return [packs[n] for n in names]

    def describe_organization_conformance_packs(self: Any) -> str:
        packs = _Api._packs(self, self._get_param("OrganizationConformancePackNames"))
        page, token = _page(packs, self._get_param("Limit"), self._get_param("NextToken"), 20)
        rows = [
            _strip({
                "OrganizationConformancePackName": p.name,
                "OrganizationConformancePackArn": p.arn,
                "DeliveryS3Bucket": p.delivery_s3_bucket,
                "DeliveryS3KeyPrefix": p.delivery_s3_key_prefix,
                "ConformancePackInputParameters": p.input_parameters,
                "ExcludedAccounts": p.excluded_accounts,
                "LastUpdateTime": p.last_update,
            })
            for p in page
        ]  # fmt: skip
        return json.dumps(_strip({"OrganizationConformancePacks": rows, "NextToken": token}))

    def describe_organization_conformance_pack_statuses(self: Any) -> str:
        packs = _Api._packs(self, self._get_param("OrganizationConformancePackNames"))
        page, token = _page(packs, self._get_param("Limit"), self._get_param("NextToken"), 20)
        rows = [
            _strip({
                "OrganizationConformancePackName": p.name,
                "Status": p.status,
                "ErrorCode": p.error_code,
                "ErrorMessage": p.error_message,
                "LastUpdateTime": p.last_update,
            })
            for p in page
        ]  # fmt: skip
        return json.dumps(_strip({"OrganizationConformancePackStatuses": rows, "NextToken": token}))

    def get_organization_conformance_pack_detailed_status(self: Any) -> str:
        name = self._get_param("OrganizationConformancePackName")
        pack = _Api._packs(self, [name])[0]
        filters = self._get_param("Filters") or {}
        members = [
            (account, m)
            for account, m in sorted(pack.members.items())
            if filters.get("AccountId") in (None, account) and filters.get("Status") in (None, m.status)
        ]
        page, token = _page(members, self._get_param("Limit"), self._get_param("NextToken"), 100)
        rows = [
            _strip({
                "AccountId": account,
                "ConformancePackName": m.conformance_pack_name,
                "Status": m.status,
                "ErrorCode": m.error_code,
                "ErrorMessage": m.error_message,
                "LastUpdateTime": m.last_update,
            })
            for account, m in page
        ]  # fmt: skip
        return json.dumps(_strip({"OrganizationConformancePackDetailedStatuses": rows, "NextToken": token}))

    def describe_conformance_pack_compliance(self: Any) -> str:
        """The member-side pack's rules, called in the member account (the verifier lists a pack's real rule
        names with it). Shaped like botocore's ``DescribeConformancePackComplianceResponse``; the sandbox
        evaluates no resources, so every rule is ``INSUFFICIENT_DATA``, as AWS reports a rule with no
        evaluation yet."""
        name = self._get_param("ConformancePackName") or ""
        with _LOCK:
            member = _member_pack(self.current_account, self.region, name)
            rules = sorted(member.rule_names.values()) if member is not None else []
        if member is None:
            raise _Error("NoSuchConformancePackException", f"Conformance pack {name} does not exist.")
        filters = self._get_param("Filters") or {}
        wanted = filters.get("ConfigRuleNames") or []
        if missing := [r for r in wanted if r not in rules]:
            raise _Error(
                "NoSuchConfigRuleInConformancePackException",
                f"Config rule {missing[0]} is not in conformance pack {name}.",
            )
        compliance = filters.get("ComplianceType")
        if compliance not in (None, "COMPLIANT", "NON_COMPLIANT"):  # "INSUFFICIENT_DATA is not supported"
            raise _Error("InvalidParameterValueException", f"ComplianceType {compliance!r} is not supported.")
        rows = [
            {"ConfigRuleName": r, "ComplianceType": "INSUFFICIENT_DATA", "Controls": []}
            for r in rules
            if (not wanted or r in wanted) and compliance is None
        ]
        page, token = _page(rows, self._get_param("Limit"), self._get_param("NextToken"), 1000)
        return json.dumps(
            _strip({"ConformancePackName": name, "ConformancePackRuleComplianceList": page, "NextToken": token})
        )

    def delete_organization_conformance_pack(self: Any) -> str:
        name = self._get_param("OrganizationConformancePackName")
        _check_caller(self.current_account)
        with _LOCK:
            packs = PACKS.get((_management_account(), self.region), {})
            pack = packs.get(name)
            if pack is None:
                raise _Error(
                    "NoSuchOrganizationConformancePackException",
                    f"Could not find an OrganizationConformancePack for given request with resourceName {name}",
                )
            for member in pack.members:
                _undeploy_member(pack, member)
            del packs[name]
        return ""


def _member_pack(account: str, region: str, name: str) -> MemberPack | None:
    """The member-side pack of that name in this account and region (every organization's packs: a member
    belongs to one organization, and the name carries a random suffix)."""
    for (_, pack_region), packs in PACKS.items():
        if pack_region != region:
            continue
        for pack in packs.values():
            member = pack.members.get(account)
            if member is not None and member.conformance_pack_name == name:
                return member
    return None


def install(ctx: ServerContext) -> None:
    _CTX["ctx"] = ctx
    for name in (
        "put_organization_conformance_pack",
        "describe_organization_conformance_packs",
        "describe_organization_conformance_pack_statuses",
        "get_organization_conformance_pack_detailed_status",
        "delete_organization_conformance_pack",
        "describe_conformance_pack_compliance",
    ):
        setattr(ConfigResponse, name, getattr(_Api, name))
