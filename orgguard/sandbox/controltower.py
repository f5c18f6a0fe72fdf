"""AWS Control Tower control APIs, a service moto does not have at all.

EnableControl / DisableControl / GetControlOperation / ListEnabledControls / GetEnabledControl,
rest-json shaped like botocore's ``controltower`` model, answered by the sandbox middleware. Controls
are enabled on OUs of the fake organization from the management account; operations finish at once.
A control endpoint (``/_orgguard/controltower/drift``) lets tests mark an enabled control DRIFTED.

As in a real landing zone, one control is already enabled when the sandbox starts (PREENABLED: the
landing-zone team turned AWS-GR_RESTRICTED_SSH on for the workloads OU long ago, with its legacy
identifier), and enabling a control that is already enabled on that OU, under either identifier
form, fails with ConflictException, so a plan that blindly enables it fails here as it would there.
Both identifier forms AWS accepts are taken: the Control Catalog ARN
``arn:aws:controlcatalog:::control/<id>`` and the legacy ``arn:aws:controltower:<region>::control/<name>``.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from moto.organizations.models import organizations_backends

if TYPE_CHECKING:
    from orgguard.sandbox.server import ServerContext

CONTROL_ARN = re.compile(r"^arn:aws[0-9a-zA-Z_\-:\/]+$")  # botocore: ControlIdentifier pattern
CATALOG_ARN = re.compile(r"^arn:aws[\w-]*:controlcatalog:::control/([0-9a-z]+)$")
LEGACY_ARN = re.compile(r"^arn:aws[\w-]*:controltower:([a-z0-9-]+)::control/([A-Za-z0-9_-]+)$")
# Legacy control name -> Control Catalog id, so both forms name one control. Taken from public
# Terraform modules that enable controls by either form (not from an AWS page; confirm with
# controlcatalog ListControls before relying on them outside the sandbox). docs/sandbox.md.
CATALOG_IDS = {
    "AWS-GR_RESTRICTED_SSH": "6rilu41n0gb9w6mxrkyewoer4",
    "AWS-GR_RESTRICTED_COMMON_PORTS": "df2ta5ytg2zatj1q7y5e09u32",
}
PREENABLED = ("AWS-GR_RESTRICTED_SSH", "workloads")  # (legacy control name, OU name) at start-up
OU_ARN = re.compile(r"^arn:aws[\w-]*:organizations::(\d{12}):ou/(o-[a-z0-9]+)/(ou-[a-z0-9-]+)$")
_LOCK = threading.RLock()
ENABLED: dict[str, dict[str, Any]] = {}  # enabled control ARN -> details
OPERATIONS: dict[str, dict[str, Any]] = {}  # operation id -> ControlOperation
_CTX: dict[str, ServerContext] = {}


class _Error(Exception):
    def __init__(self, code: str, message: str, status: str = "400 Bad Request") -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _json(status: str, payload: dict[str, Any], code: str | None = None) -> tuple[str, list, bytes]:
    data = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4()))]
    if code:
        headers.append(("x-amzn-ErrorType", code))
    headers.append(("Content-Length", str(len(data))))
    return status, headers, data


def canonical_control(control: str) -> str:
    """One key per control whichever identifier form names it; ValidationException for anything else."""
    match = CATALOG_ARN.match(control)
    if match:
        return match.group(1)
    match = LEGACY_ARN.match(control)
    if match:
        return CATALOG_IDS.get(match.group(2), match.group(2))
    raise _Error(
        "ValidationException",
        f"controlIdentifier {control!r} is neither a Control Catalog ARN (arn:aws:controlcatalog:::control/<id>) "
        "nor a Control Tower control ARN (arn:aws:controltower:<region>::control/<name>).",
    )


def _same_control(a: str, b: str) -> bool:
    try:
        return canonical_control(a) == canonical_control(b)
    except _Error:
        return a == b


def _ou_exists(ou_id: str) -> bool:
    ctx = _CTX["ctx"]
    if ctx.org is None:
        return False
    backend = organizations_backends[ctx.org.management_account_id]["aws"]
    return any(ou.id == ou_id for ou in backend.ou)


def _operation(kind: str, control: str, target: str, enabled_arn: str) -> str:
    op_id = str(uuid.uuid4())
    # SyntheticTimestamp_date_time is timestampFormat iso8601 (botocore controltower model): a string, which
    # the Go SDK in terraform's provider insists on (a JSON number fails its deserializer).
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    OPERATIONS[op_id] = {
        "operationType": kind,
        "startTime": now,
        "endTime": now,
        "status": "SUCCEEDED",
        "statusMessage": "Operation succeeded",
        "operationIdentifier": op_id,
        "controlIdentifier": control,
        "targetIdentifier": target,
        "enabledControlIdentifier": enabled_arn,
    }
    return op_id


def _find(control: str | None, target: str | None, arn: str | None) -> dict[str, Any]:
    for details in ENABLED.values():
        if arn and details["arn"] == arn:
            return details
        if (not arn and control and details["targetIdentifier"] == target
                and _same_control(details["controlIdentifier"], control)):  # fmt: skip
            return details
    raise _Error("ResourceNotFoundException", "The enabled control does not exist.", "404 Not Found")


def _summary(details: dict[str, Any]) -> dict[str, Any]:
    keys = ("arn", "controlIdentifier", "targetIdentifier", "statusSummary", "driftStatusSummary")
    return {k: details[k] for k in keys}


def enable_control(req: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    control, target = req.get("controlIdentifier", ""), req.get("targetIdentifier", "")
    if not CONTROL_ARN.match(control) or not 20 <= len(control) <= 2048:
        raise _Error("ValidationException", f"controlIdentifier {control!r} is not a control ARN.")
    key = canonical_control(control)
    match = OU_ARN.match(target)
    if not match or not _ou_exists(match.group(3)):
        raise _Error(
            "ResourceNotFoundException", f"Target {target} is not an OU of this organization.", "404 Not Found"
        )
    on_target = [d for d in ENABLED.values() if d["targetIdentifier"] == target]
    existing = next((d for d in on_target if _same_control(d["controlIdentifier"], control)), None)
    if existing is not None:
        # botocore's controltower model lists ConflictException (HTTP 409) for EnableControl; AWS does not
        # document which error a duplicate gets. Either way the provider does not retry it: the apply fails.
        raise _Error(
            "ConflictException",
            f"The control {key} is already enabled on the target {target} (as {existing['controlIdentifier']}, "
            f"enabled control {existing['arn']}).",
            "409 Conflict",
        )
    suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    arn = f"arn:aws:controltower:{region}:{account}:enabledcontrol/{suffix}"
    op_id = _operation("ENABLE_CONTROL", control, target, arn)
    ENABLED[arn] = {
        "arn": arn,
        "controlIdentifier": control,
        "targetIdentifier": target,
        "statusSummary": {"status": "SUCCEEDED", "lastOperationIdentifier": op_id},
        "driftStatusSummary": {"driftStatus": "IN_SYNC"},
        "targetRegions": [{"name": r} for r in (_CTX["ctx"].org.regions if _CTX["ctx"].org else (region,))],
        "parameters": req.get("parameters") or [],
    }
    return {"operationIdentifier": op_id, "arn": arn}


def disable_control(req: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    details = _find(req.get("controlIdentifier"), req.get("targetIdentifier"), req.get("enabledControlIdentifier"))
    del ENABLED[details["arn"]]
    return {"operationIdentifier": _operation("DISABLE_CONTROL", details["controlIdentifier"],
                                              details["targetIdentifier"], details["arn"])}  # fmt: skip


def get_control_operation(req: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    op = OPERATIONS.get(req.get("operationIdentifier", ""))
    if op is None:
        raise _Error("ResourceNotFoundException", "The operation does not exist.", "404 Not Found")
    return {"controlOperation": op}


def list_enabled_controls(req: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    target = req.get("targetIdentifier")
    wanted = (req.get("filter") or {}).get("controlIdentifiers")
    rows = [
        _summary(d)
        for d in ENABLED.values()
        if (target is None or d["targetIdentifier"] == target)
        and (not wanted or any(_same_control(d["controlIdentifier"], w) for w in wanted))
    ]
    limit = int(req.get("maxResults") or 100)
    start = int(req.get("nextToken") or 0)
    result: dict[str, Any] = {"enabledControls": rows[start : start + limit]}
    if start + limit < len(rows):
        result["nextToken"] = str(start + limit)
    return result


def get_enabled_control(req: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    return {"enabledControlDetails": _find(None, None, req.get("enabledControlIdentifier", ""))}


ROUTES = {
    "/enable-control": enable_control,
    "/disable-control": disable_control,
    "/get-control-operation": get_control_operation,
    "/list-enabled-controls": list_enabled_controls,
    "/get-enabled-control": get_enabled_control,
}


def handle(environ: dict[str, Any], body: bytes, account: str, region: str) -> tuple[str, list, bytes]:
    route = ROUTES.get(environ.get("PATH_INFO", ""))
    if route is None:
        return _json("404 Not Found", {"message": "Unknown operation"}, "UnknownOperationException")
    try:
        ctx = _CTX["ctx"]
        if ctx.org is not None and account != ctx.org.management_account_id:
            raise _Error(
                "AccessDeniedException", "Control Tower is managed from the management account.", "403 Forbidden"
            )
        with _LOCK:
            return _json("200 OK", route(json.loads(body or b"{}"), account, region))
    except _Error as exc:
        return _json(exc.status, {"message": exc.message}, exc.code)


def _set_drift(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    req = json.loads(body or b"{}")
    with _LOCK:
        details = ENABLED[req["arn"]]
        details["driftStatusSummary"] = {"driftStatus": req.get("driftStatus", "DRIFTED")}
    return {"arn": req["arn"], "driftStatus": details["driftStatusSummary"]["driftStatus"]}


def _enable_preexisting(ctx: ServerContext) -> None:
    """What the landing zone already has before any plan runs (PREENABLED)."""
    org = ctx.org
    if org is None:
        return
    name, ou_name = PREENABLED
    request = {
        "controlIdentifier": f"arn:aws:controltower:{org.home_region}::control/{name}",
        "targetIdentifier": org.ou_arn(org.ous[ou_name]),
    }
    with _LOCK:
        enable_control(request, org.management_account_id, org.home_region)


def install(ctx: ServerContext) -> None:
    _CTX["ctx"] = ctx
    ctx.middleware.services["controltower"] = handle
    ctx.middleware.register_control("controltower/drift", _set_drift)
    ctx.extra.setdefault("after_bootstrap", []).append(_enable_preexisting)
