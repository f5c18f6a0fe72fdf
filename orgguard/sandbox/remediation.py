"""AWS Config remediation configurations, which moto 5.2.5 lacks.

Put/Describe/DeleteRemediationConfiguration(s) shaped like botocore's ``config`` model, one store per
account and region. Conformance-pack deployments (config_org.py) write here too, marked with
``CreatedByService`` as AWS does, and then refuse Put from the account like AWS.

The target must exist where the configuration lives: "The target (SSM document) must exist and have
permissions to use the target" (PutRemediationConfigurations API reference), so a configuration
naming a document absent from that account and region is refused, as a pack deploying one fails.

Remediation exceptions (Put/Describe/DeleteRemediationExceptions): AWS Config writes one itself once
auto-remediation of a resource failed `MaximumAutomaticAttempts` times (botocore `config` model,
`RemediationConfiguration.MaximumAutomaticAttempts`); the sandbox runs no Config remediation, so a test
puts it through the API, as Config would. Compliance results (GetComplianceDetailsByConfigRule): the
sandbox evaluates no rule, so a test seeds a result with the control endpoint `config/evaluation`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.core.exceptions import JsonRESTError
from moto.iam.models import iam_backends
from moto.ssm.models import ssm_backends

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

CONFORMS_SERVICE = "config-conforms.amazonaws.com"
# SSM reserves these document-name prefixes for AWS-owned documents (CreateDocument API reference,
# `Name`); the sandbox holds none of them, so it takes such a target on trust (docs/sandbox.md).
AWS_OWNED_DOCUMENT = re.compile(r"^(aws|amazon|amzn)", re.IGNORECASE)
DOCUMENT_ARN = re.compile(r"^arn:aws[\w-]*:ssm:([a-z0-9-]+):(\d{12}):document/(.+)$")
ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")
# AWS documents that the target must exist but not the code it answers with; botocore's model lists
# InsufficientPermissionsException and InvalidParameterValueException for the operation. The sandbox
# uses the latter ("One or more of the specified parameters are not valid"); see docs/sandbox.md.
MISSING_TARGET_CODE = "InvalidParameterValueException"
_LOCK = threading.RLock()
# (account, region) -> config rule name -> RemediationConfiguration (API shape)
STORE: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
# (account, region) -> rule name -> (resource type, resource id) -> RemediationException (API shape)
EXCEPTIONS: dict[tuple[str, str], dict[str, dict[tuple[str, str], dict[str, Any]]]] = {}
# (account, region) -> rule name -> (resource type, resource id) -> EvaluationResult (API shape)
EVALUATIONS: dict[tuple[str, str], dict[str, dict[tuple[str, str], dict[str, Any]]]] = {}
COMPLIANCE_TYPES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA")  # botocore ComplianceType
MAX_LIMIT = 100  # botocore: DescribeRemediationExceptions and GetComplianceDetailsByConfigRule `Limit`, 0-100


class ConfigError(JsonRESTError):
    """An AWS Config error with the code botocore's model names."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def store_for(account_id: str, region: str) -> dict[str, dict[str, Any]]:
    with _LOCK:
        return STORE.setdefault((account_id, region), {})


def _rule_exists(account_id: str, region: str, rule_name: str) -> bool:
    return rule_name in config_backends[account_id][region].config_rules


def _rule_is_service_linked(account_id: str, region: str, rule_name: str) -> bool:
    rule = config_backends[account_id][region].config_rules.get(rule_name)
    return bool(rule is not None and getattr(rule, "created_by", None))


def missing_document(account_id: str, region: str, config: dict[str, Any]) -> str | None:
    """Why the configuration's SSM document cannot be used in that account and region, else None."""
    target = str(config.get("TargetId") or "")
    version = str(config.get("TargetVersion") or "")
    owner, where, name = account_id, region, target
    match = DOCUMENT_ARN.match(target)
    if match:  # a document shared from another account: look it up where it lives
        where, owner, name = match.groups()
    elif AWS_OWNED_DOCUMENT.match(target):
        return None
    documents = ssm_backends[owner][where]._documents.get(name)
    if documents is None:
        return f"The SSM document {target} does not exist in account {account_id}, region {region}."
    if version and version not in ("$DEFAULT", "$LATEST") and documents.find_by_version(version) is None:
        return f"The SSM document {target} has no version {version} in account {account_id}, region {region}."
    return None


def missing_role(account_id: str, config: dict[str, Any]) -> str | None:
    """Why the AutomationAssumeRole the configuration passes does not exist, else None."""
    values = ((config.get("Parameters") or {}).get("AutomationAssumeRole") or {}).get("StaticValue", {}).get("Values")
    for arn in values or []:
        match = ROLE_ARN.match(str(arn))
        if match is None:
            return f"AutomationAssumeRole {arn} is not an IAM role ARN."
        owner, name = match.groups()
        if not any(role.name == name for role in iam_backends[owner]["global"].roles.values()):
            return f"The IAM role {arn} (AutomationAssumeRole) does not exist in account {owner}."
    return None


def validate(config: dict[str, Any]) -> None:
    """The checks AWS makes before it stores a remediation configuration."""
    for key in ("ConfigRuleName", "TargetType", "TargetId"):
        if not config.get(key):
            raise ConfigError("InvalidParameterValueException", f"{key} is required.")
    if config["TargetType"] != "SSM_DOCUMENT":
        raise ConfigError("InvalidParameterValueException", "TargetType must be SSM_DOCUMENT.")
    params = config.get("Parameters") or {}
    if len(params) > 25:
        raise ConfigError("InvalidParameterValueException", "A remediation takes at most 25 parameters.")
    for name, value in params.items():
        kinds = [k for k in ("ResourceValue", "StaticValue") if k in value]
        if len(kinds) != 1:
            raise ConfigError(
                "InvalidParameterValueException",
                f"Parameter {name} must have exactly one of ResourceValue or StaticValue.",
            )
        if "ResourceValue" in value and value["ResourceValue"].get("Value") != "RESOURCE_ID":
            raise ConfigError("InvalidParameterValueException", f"Parameter {name}: only RESOURCE_ID is dynamic.")
    if config.get("Automatic") and "AutomationAssumeRole" not in params:
        raise ConfigError(
            "InvalidParameterValueException",
            "Automatic remediation requires the AutomationAssumeRole parameter.",
        )
    attempts = config.get("MaximumAutomaticAttempts")
    if attempts is not None and not 1 <= int(attempts) <= 25:
        raise ConfigError("InvalidParameterValueException", "MaximumAutomaticAttempts must be 1-25.")


def put(account_id: str, region: str, config: dict[str, Any], *, created_by: str | None = None) -> dict[str, Any]:
    """Store one configuration (validated), keeping its ARN across updates."""
    validate(config)
    rules = store_for(account_id, region)
    name = config["ConfigRuleName"]
    with _LOCK:
        old = rules.get(name)
        arn = (old or {}).get("Arn") or (
            f"arn:aws:config:{region}:{account_id}:remediation-configuration/{name}/{uuid.uuid4()}"
        )
        stored = {k: v for k, v in config.items() if k not in ("Arn", "CreatedByService")}
        stored["Arn"] = arn
        if created_by:
            stored["CreatedByService"] = created_by
        rules[name] = stored
        return stored


def delete(account_id: str, region: str, rule_name: str) -> None:
    with _LOCK:
        store_for(account_id, region).pop(rule_name, None)


class _Api:
    """Methods grafted onto moto's ConfigResponse (its dispatcher calls them by action name)."""

    def put_remediation_configurations(self: Any) -> str:
        account, region = self.current_account, self.region
        configs = self._get_param("RemediationConfigurations") or []
        if not 1 <= len(configs) <= 25:
            raise ConfigError("InvalidParameterValueException", "Give 1-25 RemediationConfigurations.")
        failed = []
        for config in configs:
            name = config.get("ConfigRuleName", "")
            if not _rule_exists(account, region, name):
                failed.append({"FailureMessage": f"The Config rule {name} does not exist.", "FailedItems": [config]})
                continue
            if _rule_is_service_linked(account, region, name):
                raise ConfigError(
                    "InsufficientPermissionsException",
                    f"The rule {name} is a service-linked rule; its remediation is managed by the service.",
                )
            validate(config)
            problem = missing_document(account, region, config)
            if problem:
                raise ConfigError(MISSING_TARGET_CODE, problem)
            put(account, region, config)
        return json.dumps({"FailedBatches": failed})

    def describe_remediation_configurations(self: Any) -> str:
        rules = store_for(self.current_account, self.region)
        names = self._get_param("ConfigRuleNames") or []
        found = [rules[n] for n in names if n in rules]
        return json.dumps({"RemediationConfigurations": found})

    def delete_remediation_configuration(self: Any) -> str:
        account, region = self.current_account, self.region
        name = self._get_param("ConfigRuleName")
        if name not in store_for(account, region):
            raise ConfigError(
                "NoSuchRemediationConfigurationException",
                f"No RemediationConfiguration for rule exists with the name: '{name}'.",
            )
        delete(account, region, name)
        return json.dumps({})


def _page(items: list[dict[str, Any]], limit: Any, token: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Limit/NextToken paging over a stable order; a token this sandbox did not hand out is refused."""
    size = int(limit or MAX_LIMIT) or MAX_LIMIT
    if not 0 <= size <= MAX_LIMIT:
        raise ConfigError("InvalidParameterValueException", f"Limit must be 0-{MAX_LIMIT}.")
    start = 0
    if token:
        if not str(token).isdigit() or int(token) > len(items):
            raise ConfigError("InvalidNextTokenException", "The specified next token is invalid.")
        start = int(token)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def _keys(params: Any) -> list[tuple[str, str]]:
    return [(str(k.get("ResourceType") or ""), str(k.get("ResourceId") or "")) for k in params or []]


def put_evaluation(body: bytes) -> dict[str, Any]:
    """Control endpoint `config/evaluation`: record Config's latest result for one resource of one rule
    (JSON: account_id, region, config_rule_name, resource_type, resource_id, compliance_type, annotation)."""
    req = json.loads(body or b"{}")
    compliance = req.get("compliance_type", "NON_COMPLIANT")
    if compliance not in COMPLIANCE_TYPES:
        return {"error": f"compliance_type must be one of {', '.join(COMPLIANCE_TYPES)}"}
    account, region, rule = str(req["account_id"]), str(req["region"]), str(req["config_rule_name"])
    if not _rule_exists(account, region, rule):
        return {"error": f"no Config rule {rule} in {account} {region}"}
    now = time.time()
    key = (str(req.get("resource_type", "AWS::EC2::SecurityGroup")), str(req["resource_id"]))
    result = {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": rule,
                "ResourceType": key[0],
                "ResourceId": key[1],
                "EvaluationMode": "DETECTIVE",
            },
            "OrderingTimestamp": now,
        },
        "ComplianceType": compliance,
        "ResultRecordedTime": now,
        "ConfigRuleInvokedTime": now,
    }
    if req.get("annotation"):
        result["Annotation"] = str(req["annotation"])[:256]
    with _LOCK:
        EVALUATIONS.setdefault((account, region), {}).setdefault(rule, {})[key] = result
    return {"ok": True}


class _Exceptions:
    """Remediation exceptions and compliance results, grafted onto moto's ConfigResponse like _Api."""

    def put_remediation_exceptions(self: Any) -> str:
        account, region = self.current_account, self.region
        rule = self._get_param("ConfigRuleName") or ""
        keys = _keys(self._get_param("ResourceKeys"))
        if not 1 <= len(keys) <= 100 or not all(t and i for t, i in keys):
            raise ConfigError("InvalidParameterValueException", "Give 1-100 ResourceKeys with type and id.")
        if not _rule_exists(account, region, rule):
            raise ConfigError("InvalidParameterValueException", f"The Config rule {rule} does not exist.")
        expires = self._get_param("ExpirationTime")
        with _LOCK:
            rules = EXCEPTIONS.setdefault((account, region), {}).setdefault(rule, {})
            for resource_type, resource_id in keys:
                item = {"ConfigRuleName": rule, "ResourceType": resource_type, "ResourceId": resource_id}
                if self._get_param("Message"):
                    item["Message"] = str(self._get_param("Message"))[:1024]
                if expires is not None:
                    item["ExpirationTime"] = expires
                rules[(resource_type, resource_id)] = item
        return json.dumps({"FailedBatches": []})

    def describe_remediation_exceptions(self: Any) -> str:
        account, region = self.current_account, self.region
        rule = self._get_param("ConfigRuleName") or ""
        with _LOCK:
            found = dict(EXCEPTIONS.get((account, region), {}).get(rule, {}))
        wanted = _keys(self._get_param("ResourceKeys"))
        if wanted:  # "Limit and next token are not applicable if you request resources in batch"
            return json.dumps({"RemediationExceptions": [found[k] for k in wanted if k in found]})
        items = [found[k] for k in sorted(found)]
        page, token = _page(items, self._get_param("Limit"), self._get_param("NextToken"))
        return json.dumps({"RemediationExceptions": page, **({"NextToken": token} if token else {})})

    def delete_remediation_exceptions(self: Any) -> str:
        account, region = self.current_account, self.region
        rule = self._get_param("ConfigRuleName") or ""
        with _LOCK:
            rules = EXCEPTIONS.get((account, region), {}).get(rule, {})
            for key in _keys(self._get_param("ResourceKeys")):
                rules.pop(key, None)
        return json.dumps({"FailedBatches": []})

    def get_compliance_details_by_config_rule(self: Any) -> str:
        account, region = self.current_account, self.region
        rule = self._get_param("ConfigRuleName") or ""
        if not _rule_exists(account, region, rule):
            raise ConfigError("NoSuchConfigRuleException", f"The ConfigRule '{rule}' provided is invalid.")
        types = self._get_param("ComplianceTypes") or list(COMPLIANCE_TYPES)
        with _LOCK:
            found = dict(EVALUATIONS.get((account, region), {}).get(rule, {}))
        items = [found[k] for k in sorted(found) if found[k]["ComplianceType"] in types]
        page, token = _page(items, self._get_param("Limit"), self._get_param("NextToken"))
        return json.dumps({"EvaluationResults": page, **({"NextToken": token} if token else {})})


def install(ctx: ServerContext) -> None:
    for name in ("put_remediation_configurations", "describe_remediation_configurations",
                 "delete_remediation_configuration"):  # fmt: skip
        setattr(ConfigResponse, name, getattr(_Api, name))
    for name in ("put_remediation_exceptions", "describe_remediation_exceptions", "delete_remediation_exceptions",
                 "get_compliance_details_by_config_rule"):  # fmt: skip
        setattr(ConfigResponse, name, getattr(_Exceptions, name))
    ctx.middleware.register_control("config/evaluation", lambda environ, body: put_evaluation(body))
