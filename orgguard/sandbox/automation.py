"""SSM Automation executions that run the document's ``aws:executeScript`` handler (moto cannot).

StartAutomationExecution reads the document stored in the calling account and region, checks the
parameters, assumes the document's ``assumeRole`` (which must exist and trust ssm.amazonaws.com),
and runs each step's script in a subprocess with that role's credentials and the sandbox endpoint.
Get/DescribeAutomationExecution(s) report status and step outputs, shaped like botocore's model.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from moto.core.exceptions import JsonRESTError
from moto.ssm.models import ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

RUNNER = Path(__file__).with_name("script_runner.py")
MAX_SCRIPT_SECONDS = 600
_PLACEHOLDER = re.compile(r"\{\{\s*([\w.:]+)\s*\}\}")  # parameters and system variables (global:...)
_LOCK = threading.RLock()
_CTX: dict[str, ServerContext] = {}


class _Error(JsonRESTError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


@dataclass
class Execution:
    id: str
    account_id: str
    region: str
    document_name: str
    document_version: str
    parameters: dict[str, list[str]]
    executed_by: str
    status: str = "InProgress"
    start: float = field(default_factory=time.time)
    end: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    failure: str | None = None

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "AutomationExecutionId": self.id,
            "DocumentName": self.document_name,
            "DocumentVersion": self.document_version,
            "ExecutionStartTime": self.start,
            "AutomationExecutionStatus": self.status,
            "StepExecutions": self.steps,
            "StepExecutionsTruncated": False,
            "Parameters": self.parameters,
            "Outputs": self.outputs,
            "Mode": "Auto",
            "ExecutedBy": self.executed_by,
        }
        if self.end is not None:
            data["ExecutionEndTime"] = self.end
        if self.failure:
            data["FailureMessage"] = self.failure
        return data

    def metadata(self) -> dict[str, Any]:
        data = {
            k: v
            for k, v in self.describe().items()
            if k not in ("StepExecutions", "StepExecutionsTruncated", "Parameters")
        }
        data["AutomationType"] = "Local"
        return data


# (account, region) -> execution id -> execution
EXECUTIONS: dict[tuple[str, str], dict[str, Execution]] = {}


# -- parameters -----------------------------------------------------------------------------------
def resolve_parameters(doc: dict[str, Any], given: dict[str, list[str]]) -> dict[str, Any]:
    """Typed parameter values (defaults applied), or InvalidAutomationExecutionParametersException."""
    declared: dict[str, Any] = doc.get("parameters") or {}
    unknown = set(given) - set(declared)
    if unknown:
        raise _Error("InvalidAutomationExecutionParametersException", f"Unknown parameters: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        kind = spec.get("type", "String")
        if name in given:
            raw: Any = given[name] if kind in ("StringList", "MapList") else given[name][0] if given[name] else ""
        elif "default" in spec:
            raw = spec["default"]
        else:
            raise _Error("InvalidAutomationExecutionParametersException", f"Parameter {name} is required.")
        pattern = spec.get("allowedPattern")
        for item in raw if isinstance(raw, list) else [raw]:
            if pattern and isinstance(item, str) and not re.search(pattern, item):
                raise _Error(
                    "InvalidAutomationExecutionParametersException",
                    f"Parameter {name} value {item!r} does not match {pattern}.",
                )
            if spec.get("allowedValues") and item not in spec["allowedValues"]:
                raise _Error(
                    "InvalidAutomationExecutionParametersException", f"Parameter {name}: {item!r} not allowed."
                )
        if kind == "Integer":
            raw = int(raw)
        elif kind == "Boolean" and isinstance(raw, str):
            raw = raw.lower() == "true"
        values[name] = raw
    return values


def substitute(value: Any, params: dict[str, Any]) -> Any:
    """Replace {{ Param }}: a whole-string placeholder keeps the parameter's type, as SSM does."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value.strip())
        if whole and whole.group(1) in params:
            return params[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), value)
    if isinstance(value, list):
        return [substitute(v, params) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, params) for k, v in value.items()}
    return value


# -- running --------------------------------------------------------------------------------------
def _role_credentials(role_arn: str, region: str) -> dict[str, str]:
    """Assume the automation role as SSM would; the role must exist and trust ssm.amazonaws.com."""
    from moto.iam.models import iam_backends

    match = re.match(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$", role_arn)
    if not match:
        raise RuntimeError(f"The assume role {role_arn!r} is not a role ARN.")
    account, name = match.groups()
    role = next((r for r in iam_backends[account]["global"].roles.values() if r.name == name), None)
    if role is None:
        raise RuntimeError(f"The defined assume role is unable to be assumed: {role_arn} does not exist.")
    if "ssm.amazonaws.com" not in json.dumps(json.loads(role.assume_role_policy_document or "{}")):
        raise RuntimeError(f"The defined assume role is unable to be assumed: {role_arn} does not trust ssm.")
    endpoint = _CTX["ctx"].endpoint_url
    sts = boto3.client(
        "sts", region_name=region, endpoint_url=endpoint, aws_access_key_id="ssm-service", aws_secret_access_key="x"
    )
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="Automation")["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


def _select(payload: Any, selector: str) -> Any:
    """The value at a JSONPath-like selector such as ``$.Payload.revoked``."""
    value: Any = {"Payload": payload}
    for part in selector.lstrip("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _run_script(step: dict[str, Any], params: dict[str, Any], env: dict[str, str]) -> tuple[dict[str, list[str]], Any]:
    inputs = step.get("inputs") or {}
    payload = substitute(inputs.get("InputPayload") or {}, params)
    job = json.dumps(
        {"script": inputs.get("Script", ""), "handler": inputs.get("Handler", "handler"), "payload": payload}
    )
    timeout = min(int(step.get("timeoutSeconds") or MAX_SCRIPT_SECONDS), MAX_SCRIPT_SECONDS)
    done = subprocess.run(
        [sys.executable, str(RUNNER)], input=job, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"Step fails when it is Executing. Fail reason: {tail}")
    result = json.loads(done.stdout or "null")
    outputs = {"OutputPayload": [json.dumps({"Payload": result})]}
    for out in step.get("outputs") or []:
        selected = _select(result, out.get("Selector", ""))
        if selected is not None:
            values = selected if isinstance(selected, list) else [selected]
            outputs[out["Name"]] = [v if isinstance(v, str) else json.dumps(v) for v in values]
    return outputs, result


def system_variables(execution: Execution) -> dict[str, str]:
    """SSM's Automation system variables, which a document may reference like parameters.

    https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-variables.html
    """
    return {
        "global:ACCOUNT_ID": execution.account_id,
        "global:REGION": execution.region,
        "global:AWS_PARTITION": "aws",
        "global:DATE": time.strftime("%Y-%m-%d", time.gmtime(execution.start)),
        "global:DATE_TIME": time.strftime("%Y-%m-%d_%H.%M.%S", time.gmtime(execution.start)),
        "automation:EXECUTION_ID": execution.id,
    }


def _execute(execution: Execution, doc: dict[str, Any], params: dict[str, Any]) -> None:
    params = {**params, **system_variables(execution)}
    try:
        role = substitute(doc.get("assumeRole", ""), params)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_ENDPOINT_URL": _CTX["ctx"].endpoint_url,
            "AWS_DEFAULT_REGION": execution.region,
            "AWS_REGION": execution.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if not role:
            raise RuntimeError("The document has no assumeRole; the sandbox runs automations only with a role.")
        env.update(_role_credentials(role, execution.region))
        for index, step in enumerate(doc.get("mainSteps") or []):
            record: dict[str, Any] = {
                "StepName": step.get("name", f"step{index}"),
                "Action": step.get("action", ""),
                "TimeoutSeconds": int(step.get("timeoutSeconds") or MAX_SCRIPT_SECONDS),
                "OnFailure": step.get("onFailure", "Abort"),
                "MaxAttempts": int(step.get("maxAttempts") or 1),
                "ExecutionStartTime": time.time(),
                "StepStatus": "InProgress",
                "StepExecutionId": str(uuid.uuid4()),
                "IsEnd": bool(step.get("isEnd", False)),
                "Inputs": {
                    k: json.dumps(substitute(v, params)) for k, v in (step.get("inputs") or {}).items() if k != "Script"
                },
            }
            with _LOCK:
                execution.steps.append(record)
            try:
                if record["Action"] != "aws:executeScript":
                    raise RuntimeError(f"The sandbox runs only aws:executeScript steps, not {record['Action']}.")
                record["Outputs"], _ = _run_script(step, params, env)
                record["StepStatus"] = "Success"
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
                record["StepStatus"] = "TimedOut" if isinstance(exc, subprocess.TimeoutExpired) else "Failed"
                record["FailureMessage"] = str(exc)
            record["ExecutionEndTime"] = time.time()
            if record["StepStatus"] != "Success" and record["OnFailure"] != "Continue":
                raise RuntimeError(f"Step {record['StepName']} failed: {record.get('FailureMessage', '')}")
            if record["IsEnd"]:
                break
        for ref in doc.get("outputs") or []:
            step_name, _, name = ref.partition(".")
            step = next((s for s in execution.steps if s["StepName"] == step_name), None)
            if step and name in step.get("Outputs", {}):
                execution.outputs[ref] = step["Outputs"][name]
        execution.status = "Success"
    except Exception as exc:  # any failure of the run is the execution's failure, never the server's
        execution.status, execution.failure = "Failed", str(exc)
    execution.end = time.time()


def _document(account: str, region: str, name: str, version: str | None) -> tuple[dict[str, Any], str]:
    docs = ssm_backends[account][region]._documents.get(name)
    if docs is None:
        raise _Error("AutomationDefinitionNotFoundException", f"Document {name} does not exist in {account}.")
    document = docs.find(None if version in (None, "$DEFAULT") else version, strict=False)
    if document is None:
        raise _Error("AutomationDefinitionVersionNotFoundException", f"Version {version} of {name} does not exist.")
    if document.document_type != "Automation":
        raise _Error("InvalidAutomationExecutionParametersException", f"{name} is not an Automation document.")
    return json.loads(document.content), document.document_version


class _Api:
    """Methods grafted onto moto's SSM response class."""

    def start_automation_execution(self: Any) -> str:
        account, region = self.current_account, self.region
        name = self._get_param("DocumentName")
        doc, version = _document(account, region, name, self._get_param("DocumentVersion"))
        given = self._get_param("Parameters") or {}
        params = resolve_parameters(doc, given)
        execution = Execution(
            id=str(uuid.uuid4()),
            account_id=account,
            region=region,
            document_name=name,
            document_version=version,
            parameters={k: v if isinstance(v, list) else [str(v)] for k, v in given.items()},
            executed_by=f"arn:aws:sts::{account}:assumed-role/caller",
        )
        with _LOCK:
            EXECUTIONS.setdefault((account, region), {})[execution.id] = execution
        threading.Thread(target=_execute, args=(execution, doc, params), daemon=True).start()
        return json.dumps({"AutomationExecutionId": execution.id})

    def get_automation_execution(self: Any) -> str:
        execution_id = self._get_param("AutomationExecutionId")
        execution = EXECUTIONS.get((self.current_account, self.region), {}).get(execution_id)
        if execution is None:
            raise _Error("AutomationExecutionNotFoundException", f"Execution {execution_id} not found.")
        with _LOCK:
            return json.dumps({"AutomationExecution": execution.describe()})

    def describe_automation_executions(self: Any) -> str:
        filters = {f["Key"]: f["Values"] for f in self._get_param("Filters") or []}
        rows = []
        for execution in sorted(
            EXECUTIONS.get((self.current_account, self.region), {}).values(), key=lambda e: e.start
        ):
            if "ExecutionId" in filters and execution.id not in filters["ExecutionId"]:
                continue
            if "ExecutionStatus" in filters and execution.status not in filters["ExecutionStatus"]:
                continue
            prefixes = filters.get("DocumentNamePrefix")
            if prefixes and not any(execution.document_name.startswith(p) for p in prefixes):
                continue
            rows.append(execution.metadata())
        return json.dumps({"AutomationExecutionMetadataList": rows})


def install(ctx: ServerContext) -> None:
    _CTX["ctx"] = ctx
    for name in ("start_automation_execution", "get_automation_execution", "describe_automation_executions"):
        setattr(SimpleSystemManagerResponse, name, getattr(_Api, name))
