"""Benchmark the verifier: N member accounts x R regions against the sandbox with per-request latency.

Runs the same verification with 1, 4 and 16 workers side by side in one run and prints wall time, API
calls per account-region and per check, and the speed-up over one worker. Every run must give the same
results (all PASS), so the speed is never bought with skipped checks.

    .venv/bin/python bench/verify_scale.py --accounts 16 --regions 2 --latency-ms 50
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from orgguard.sandbox import Sandbox  # noqa: E402
from orgguard.synth.build import synthesize  # noqa: E402
from orgguard.verify import VerifyReport, verify  # noqa: E402
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
            reports: dict[int, VerifyReport] = {}
            for w in workers:
                sb.reset_stats()
                report = verify(
                    manifest, session=sb.session(), workers=w, progress=False, manifest_dir=Path(tmp) / "out"
                )
                served = sb.stats().get("total", 0)
                reports[w] = report
                targets = len({k for k in report.api_calls if k[1] != "-"})
                rows.append(_row(w, report, reports[workers[0]].wall_seconds, targets))
                rows[-1]["served by sandbox"] = str(served)
            statuses = {w: {r.key: r.status for r in rep.results} for w, rep in reports.items()}
            same = all(s == statuses[workers[0]] for s in statuses.values())
            by_check = reports[workers[0]].api_calls_by_check
        finally:
            restore_env(previous)
    text = [
        f"verifier benchmark: {len(members)} member accounts x {len(regions)} regions "
        f"({', '.join(regions)}), {args.latency_ms} ms injected latency per request, setup {setup:.1f} s",
        "",
        _table(rows),
        "",
        f"identical results across worker counts: {'yes' if same else 'NO'}",
        "",
        "API calls per check kind (one run):",
        "",
        _table([{"check": k, "API calls": str(v)} for k, v in sorted(by_check.items(), key=lambda kv: -kv[1])]),
    ]
    output = "\n".join(text) + "\n"
    print(output)
    if args.markdown:
        args.markdown.write_text(output)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
