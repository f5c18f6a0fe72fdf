"""The `Sandbox` handle: start and stop the server process, hand out sessions, env and org ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import botocore.session
import yaml

# The product's public interfaces only: its error hierarchy and the governance file's own YAML reader.
from orgguard.config.load import read_yaml
from orgguard.errors import ConfigError, SandboxError
from orgguard.sandbox import extra
from orgguard.sandbox.org import (
    MANAGEMENT_ACCESS_KEY,
    MANAGEMENT_SECRET_KEY,
    MEMBER_ROLE,
    FakeOrg,
)
from orgguard.sandbox.terraform import apply_stacks

START_TIMEOUT_S = 60.0
__all__ = ["Sandbox", "SandboxError"]


class Sandbox:
    """A moto server subprocess with the fake organization, usable as a context manager."""

    def __init__(self, workdir: Path, *, port: int = 0, latency_ms: int = 0, throttle_every: int = 0) -> None:
        if throttle_every == 1:
            raise SandboxError("throttle_every=1 would throttle every request; use 0 (off) or >= 2")
        if latency_ms < 0 or throttle_every < 0 or port < 0:
            raise SandboxError("port, latency_ms and throttle_every must be >= 0")
        self.workdir = Path(workdir)
        self.port = port
        self.latency_ms = latency_ms
        self.throttle_every = throttle_every
        self.endpoint_url = ""
        self._org: FakeOrg | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._config_file = self.workdir / "aws-config"

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if extra.missing():  # the server needs moto and waitress, which only `orgguard[sandbox]` installs
            raise SandboxError(extra.install_hint())
        self.workdir.mkdir(parents=True, exist_ok=True)
        ready = self.workdir / "sandbox-ready.json"
        ready.unlink(missing_ok=True)
        log = (self.workdir / "sandbox.log").open("wb")
        cmd = [
            sys.executable,
            "-m",
            "orgguard.sandbox.server",
            "--port",
            str(self.port),
            "--latency-ms",
            str(self.latency_ms),
            "--throttle-every",
            str(self.throttle_every),
            "--ready-file",
            str(ready),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
        root = str(Path(__file__).resolve().parents[2])  # so `-m orgguard...` works from any cwd
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready.exists():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.workdir / "sandbox.log").read_text(errors="replace")[-2000:]
                raise SandboxError(f"sandbox server did not start; log tail:\n{tail}")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        self.endpoint_url = info["endpoint_url"]
        self._org = FakeOrg.from_json(json.dumps(info["org"]))
        self._config_file.write_text(f"[default]\nendpoint_url = {self.endpoint_url}\n")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    # -- the organization ------------------------------------------------------------------------
    @property
    def org(self) -> FakeOrg:
        if self._org is None:
            raise SandboxError("the sandbox is not running; use it as a context manager")
        return self._org

    def env(self) -> dict[str, str]:
        """Variables for boto3 and terraform subprocesses: endpoint, management credentials, region."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": MANAGEMENT_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": MANAGEMENT_SECRET_KEY,
            "AWS_DEFAULT_REGION": self.org.home_region,
            "AWS_REGION": self.org.home_region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def _session(self, credentials: dict[str, str], region: str | None) -> boto3.Session:
        core = botocore.session.Session()
        core.set_config_variable("config_file", str(self._config_file))
        core.set_config_variable("credentials_file", os.devnull)
        core.set_config_variable("profile", "default")
        return boto3.Session(botocore_session=core, region_name=region or self.org.home_region, **credentials)

    def session(self, account_id: str | None = None, region: str | None = None) -> boto3.Session:
        """A session whose clients reach the sandbox with that account's credentials.

        None (or the management id) gives the management account; any other account is reached via
        sts:AssumeRole of OrganizationAccountAccessRole, so a locked account fails here as in AWS.
        """
        mgmt = self._session(
            {"aws_access_key_id": MANAGEMENT_ACCESS_KEY, "aws_secret_access_key": MANAGEMENT_SECRET_KEY},
            region,
        )
        if account_id is None or account_id == self.org.management_account_id:
            return mgmt
        creds = mgmt.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE}", RoleSessionName="orgguard-sandbox"
        )["Credentials"]
        return self._session(
            {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            },
            region,
        )

    # -- control endpoints ----------------------------------------------------------------------
    def _control(self, name: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload or {}).encode()
        request = urllib.request.Request(f"{self.endpoint_url}/_orgguard/{name}", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def lock_account(self, account_id: str) -> None:
        """Make sts:AssumeRole into that account fail with AccessDenied (unreachable account)."""
        self._control("lock", {"account_id": account_id})

    def unlock_account(self, account_id: str) -> None:
        self._control("unlock", {"account_id": account_id})

    def set_control_drift(self, enabled_control_arn: str, drift_status: str = "DRIFTED") -> None:
        """Mark a Control Tower enabled control as drifted (drift tests); IN_SYNC puts it back."""
        self._control("controltower/drift", {"arn": enabled_control_arn, "driftStatus": drift_status})

    def stats(self) -> dict[str, Any]:
        """API calls served since the last reset: total, throttled, and per account/region/action."""
        return self._control("stats")

    def reset_stats(self) -> None:
        self._control("stats/reset")

    # -- the loop --------------------------------------------------------------------------------
    def governance_yaml(self, base: Path) -> str:
        """The base governance file with its `organization:` section describing this sandbox's org.

        Targets the workload OUs only, as a landing-zone team would: the Security OU (audit and log
        archive) is not a target, so a plan that forgets the accounts outside its OUs fails here.
        """
        try:  # the governance file's own reader: duplicate keys, unquoted `off` and aliases as synth reads them
            data = read_yaml(Path(base).read_text(), str(base))
        except OSError as exc:
            raise SandboxError(f"cannot read governance file {base}: {exc}") from exc
        except ConfigError as exc:
            raise SandboxError(f"cannot read governance file {base}: {'; '.join(exc.problems)}") from exc
        if not isinstance(data, dict):
            raise SandboxError(f"governance file {base} is not a YAML mapping")
        org = self.org
        data["organization"] = {
            "organization_id": org.organization_id,
            "management_account_id": org.management_account_id,
            "delegated_admin_account_id": org.delegated_admin_account_id,
            "home_region": org.home_region,
            "regions": list(org.regions),
            "target_ous": list(org.target_ous),
            "excluded_accounts": [],
        }
        return yaml.safe_dump(data, sort_keys=False)

    def apply(self, synth_out: Path, *, stacks: list[str] | None = None) -> None:
        """Real terraform init + apply of the synthesized stacks against this sandbox."""
        apply_stacks(self, Path(synth_out), stacks=stacks)
