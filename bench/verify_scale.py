"""Benchmark the verifier: N member accounts x R regions against the sandbox with per-request latency.

Runs the same verification with 1, 4 and 16 workers side by side in one run and prints wall time, API
calls per account-region and per check, and the speed-up over one worker. Every run must give the same
results (all PASS), so the speed is never bought with skipped checks.

``--before TREE`` also runs the verifier of another checkout (``git worktree add /tmp/v-before <commit>``) in
a subprocess with ``PYTHONPATH=TREE``, against the same deployment and sandbox, before the current one, for
each worker count; its results must be identical too.

    .venv/bin/python bench/verify_scale.py --accounts 16 --regions 2 --latency-ms 50 [--before TREE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from orgguard.manifest import MANIFEST_FILE  # noqa: E402
from orgguard.sandbox import Sandbox  # noqa: E402
from orgguard.synth.build import synthesize  # noqa: E402
from orgguard.verify import CheckResult, VerifyReport, verify  # noqa: E402
from tests.verify.org_deploy import deploy_org, restore_env, use_sandbox_env  # noqa: E402

EXTRA_REGIONS = ("ap-northeast-1", "us-west-2", "eu-central-1")


def _recorder_on(sb: Sandbox, account: str, region: str) -> None:
    cfg = sb.session(account).client("config", region_name=region)
    if cfg.describe_configuration_recorders()["ConfigurationRecorders"]:
        return
    cfg.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
            "recordingGroup": {"allSupported": True},
        }
    )
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": f"config-{account}-{region}"})
    cfg.start_configuration_recorder(ConfigurationRecorderName="default")


def grow_org(sb: Sandbox, accounts: int, regions: list[str]) -> list[str]:
    """Add member accounts (round-robin over the OUs) until there are ``accounts``; Config on everywhere."""
    orgs = sb.session().client("organizations")
    members = sorted(sb.org.accounts)
    ous = sorted(sb.org.ous.values())
    for i in range(len(members), accounts):
        status = orgs.create_account(Email=f"bench{i}@example.com", AccountName=f"bench-{i}")["CreateAccountStatus"]
        orgs.move_account(
            AccountId=status["AccountId"], SourceParentId=sb.org.root_id, DestinationParentId=ous[i % len(ous)]
        )
        members.append(status["AccountId"])
    for account in members:
        for region in regions:
            _recorder_on(sb, account, region)
    return members


def governance(sb: Sandbox, regions: list[str], work: Path) -> Path:
    data = yaml.safe_load(sb.governance_yaml(ROOT / "governance.yaml"))
    data["organization"]["regions"] = regions
    path = work / "governance.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# Run inside the other tree (PYTHONPATH=TREE): that tree's verifier on the manifest, JSON on stdout.
BEFORE_DRIVER = """
import json, sys
from pathlib import Path
import boto3
from orgguard.manifest import Manifest
from orgguard.verify import verify
out, workers = Path(sys.argv[1]), int(sys.argv[2])
data = json.loads((out / sys.argv[3]).read_text())
# Top-level fields added since that commit (the file hashes, say) are dropped: its verifier never read them.
manifest = Manifest.model_validate({k: v for k, v in data.items() if k in Manifest.model_fields})
report = verify(manifest, session=boto3.Session(), workers=workers, progress=False, manifest_dir=out)
print(json.dumps({
    "results": [[r.check, r.control, r.account_id, r.region, r.status] for r in report.results],
    "api_calls": [[a, r, n] for (a, r), n in report.api_calls.items()],
    "by_check": report.api_calls_by_check,
    "wall_seconds": report.wall_seconds,
}))
"""


def verify_before(tree: Path, out: Path, workers: int) -> VerifyReport:
    """The other tree's verifier against the same sandbox (the environment already points boto3 at it)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", BEFORE_DRIVER, str(out), str(workers), MANIFEST_FILE],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"--before {tree}: the verifier there failed:\n{done.stderr[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return VerifyReport(
        results=[CheckResult(c, k, a, r, s) for c, k, a, r, s in data["results"]],
        api_calls={(a, r): n for a, r, n in data["api_calls"]},
        api_calls_by_check=data["by_check"],
        wall_seconds=data["wall_seconds"],
    )


def _row(workers: int, report: VerifyReport, base: float, targets: int) -> dict[str, str]:
    calls = sum(report.api_calls.values())
    per_target = [n for (acct, region), n in report.api_calls.items() if region not in {"-", "global"}]
    c = report.counts()
    return {
        "workers": str(workers),
        "wall s": f"{report.wall_seconds:.2f}",
        "speed-up": f"{base / report.wall_seconds:.1f}x",
        "checks": str(len(report.results)),
        "PASS/FAIL/UNVERIFIED": f"{c['PASS']}/{c['FAIL']}/{c['UNVERIFIED']}",
        "API calls": str(calls),
        "calls per account-region": f"{statistics.mean(per_target):.1f}" if per_target else "-",
        "calls per target (all)": f"{calls / targets:.1f}",
    }


def _table(rows: list[dict[str, str]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=16, help="member accounts (>= 4)")
    parser.add_argument("--regions", type=int, default=2, help="regions (1-5)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", default="1,4,16")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the results table here")
    parser.add_argument("--before", type=Path, default=None, metavar="TREE",
                        help="also run the verifier of this checkout (an earlier commit) side by side")
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    with (
        tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp,
        Sandbox(Path(tmp) / "sb", latency_ms=args.latency_ms) as sb,
    ):
        regions = [*sb.org.regions, *EXTRA_REGIONS][: args.regions]
        previous = use_sandbox_env(sb)
        try:
            t0 = time.perf_counter()
            members = grow_org(sb, args.accounts, regions)
            manifest = synthesize(governance(sb, regions, Path(tmp)), Path(tmp) / "out")
            deploy_org(sb, manifest, Path(tmp) / "out")
            setup = time.perf_counter() - t0
            rows: list[dict[str, str]] = []
            reports: dict[tuple[str, int], VerifyReport] = {}
            sides = (["before"] if args.before else []) + ["now"]
            for w in workers:
                for side in sides:
                    sb.reset_stats()
                    if side == "before":
                        report = verify_before(args.before.resolve(), Path(tmp) / "out", w)
                    else:
                        report = verify(
                            manifest, session=sb.session(), workers=w, progress=False, manifest_dir=Path(tmp) / "out"
                        )
                    served = sb.stats().get("total", 0)
                    reports[(side, w)] = report
                    targets = len({k for k in report.api_calls if k[1] != "-"})
                    rows.append(_row(w, report, reports[(side, workers[0])].wall_seconds, targets))
                    rows[-1] = {"code": side, **rows[-1], "served by sandbox": str(served)}
                    if args.before:
                        before = reports[("before", w)].wall_seconds
                        rows[-1]["now vs before"] = f"{before / report.wall_seconds:.2f}x" if side == "now" else "-"
            statuses = {k: {r.key: r.status for r in rep.results} for k, rep in reports.items()}
            first = statuses[("now", workers[0])]
            same = all(s == first for s in statuses.values())
            by_check = {side: reports[(side, workers[0])].api_calls_by_check for side in sides}
        finally:
            restore_env(previous)
    text = [
        f"verifier benchmark: {len(members)} member accounts x {len(regions)} regions "
        f"({', '.join(regions)}), {args.latency_ms} ms injected latency per request, setup {setup:.1f} s",
        "",
        _table(rows),
        "",
        f"identical results across worker counts{' and code versions' if args.before else ''}: "
        f"{'yes' if same else 'NO'}",
        "",
        "API calls per check kind (one run each):",
        "",
        _table([
            {"check": k, **{f"API calls ({side})": str(by_check[side].get(k, 0)) for side in by_check}}
            for k in sorted(by_check["now"].keys() | by_check.get("before", {}).keys(),
                            key=lambda k: -max(c.get(k, 0) for c in by_check.values()))
        ]),
    ]
    output = "\n".join(text) + "\n"
    print(output)
    if args.markdown:
        args.markdown.write_text(output)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
