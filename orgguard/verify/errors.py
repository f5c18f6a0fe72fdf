"""Turn an AWS error into the reason a check could not be verified.

A check only PASSes on what it read; every exception ends here and becomes UNVERIFIED with a reason a
human can act on (grant the permission, enable the region, lower the workers).
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AuthorizationErrorException",
    "Forbidden",
    "403",
}
REGION_DISABLED = {"InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure", "OptInRequired"}
THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
}
NOT_FOUND_API = {"InvalidAction", "UnknownOperationException", "UnsupportedOperation", "NotImplemented", "404"}


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def describe(exc: BaseException) -> str:
    """One line: the category first (what the user can fix), then AWS's own words."""
    code = error_code(exc)
    if isinstance(exc, ClientError):
        op = exc.operation_name
        message = str(exc.response.get("Error", {}).get("Message", "")).splitlines()[0:1]
        detail = f"{op}: {code}{': ' + message[0] if message and message[0] else ''}"
        if code in ACCESS_DENIED:
            return f"access denied ({detail})"
        if code in REGION_DISABLED:
            return f"region not enabled / opt-in, or credentials not valid there ({detail})"
        if code in THROTTLED:
            return f"throttled past retries ({detail}); lower --workers"
        if code in NOT_FOUND_API:
            return f"API not found ({detail})"
        return f"error ({detail})"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return f"endpoint not reachable, region not enabled or no network ({exc})"
    if isinstance(exc, ReadTimeoutError):
        return f"read timed out ({exc})"
    if isinstance(exc, NoCredentialsError):
        return "no credentials: configure the management or delegated-admin credentials the usual boto3 way"
    if isinstance(exc, NotImplementedError):  # in-process emulators raise this for missing operations
        return f"API not found ({exc})"
    if isinstance(exc, BotoCoreError):
        return f"error ({type(exc).__name__}: {exc})"
    return f"internal error ({type(exc).__name__}: {exc})"
