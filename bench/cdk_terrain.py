"""`orgguard synth` on CDK Terrain (cdktn, the product's dependency) against cdktf 0.21.0, side by side (bench only).

Why: issue 10 moved the product from the archived cdktf to cdktn on two promises: the synthesized Terraform
stays the same, and synth is no slower. This runs the same synth, from the same tree, once per library and
N times each (interleaved, so a load spike on the shared machine hits both sides alike), and reports the wall
time median and minimum and the ratio, then compares the two outputs file by file.

- cdktn: the project venv (.venv), as installed by `pip install -e '.[dev]'`;
- cdktf: bench/.venv-cdktf with cdktf==0.21.0 and the same versions of everything else. The product imports
  `cdktn`, so that side puts cdktf in `sys.modules["cdktn"]` before the product is imported: same code, same API,
  only the library differs.

Set up the cdktf venv once (it is gitignored):

    python3 -m venv bench/.venv-cdktf
    bench/.venv-cdktf/bin/pip install cdktf==0.21.0 constructs==10.8.1 jsii==1.142.0 typeguard==2.13.3 \\
        boto3 pydantic jinja2 pyyaml

Run from the repository root (`--runs`, default 7; `--tree` runs another checkout's code):

    .venv/bin/python bench/cdk_terrain.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = ("governance.yaml", "examples/account-vending.yaml")
PYTHONS = {"cdktn": REPO / ".venv" / "bin" / "python", "cdktf": REPO / "bench" / ".venv-cdktf" / "bin" / "python"}
# Each side's entry point: `orgguard synth`, with the library it runs on named and checked.
RUNNER = {
    "cdktn": "import sys, cdktn; assert 'cdktn' in cdktn.__file__\n"
    "from orgguard.cli import main; sys.exit(main(sys.argv[1:]))",
    "cdktf": "import sys, cdktf; sys.modules['cdktn'] = cdktf\n"
    "from orgguard.cli import main; sys.exit(main(sys.argv[1:]))",
}


def accounts_scenario(tree: Path, out: Path, accounts: int) -> str:
    """A larger account-mode file (N accounts x 2 regions), derived from the tree's governance.yaml the way
    bench/synth_speed.py derives its `accounts` scenario, so the libraries' per-resource cost shows."""
    import yaml

    cfg = yaml.safe_load((tree / "governance.yaml").read_text())
    cfg["mode"] = "account"
    cfg["accounts"] = [f"{500000000000 + i * 7:012d}" for i in range(accounts)]
    cfg["organization"]["regions"] = ["us-east-1", "eu-west-1"]
    cfg["control_tower"] = {"enable_detective_controls": False}
    cfg["scp"] = {"protect_governance_resources": False}
    for exemption in (cfg.get("exemptions") or {}).get("known") or []:
        exemption["account_id"] = cfg["accounts"][0]
    path = out / f"accounts-{accounts}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return str(path)


def _synth(impl: str, tree: Path, config: str, out: Path) -> tuple[float, float]:
    """One `orgguard synth --hcl` in a fresh process: wall seconds (start to exit) and CPU seconds of the
    whole process tree (user + system; jsii waits for its node process, so node's CPU is counted), which
    a busy shared machine disturbs much less than wall time."""
    env = {**os.environ, "PYTHONPATH": str(tree), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(PYTHONS[impl]), "-c", RUNNER[impl], "synth", "--config", str(tree / config), "--out", str(out)]
    cmd += ["--hcl"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{impl} synth of {config} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return elapsed, cpu


def _without_version(doc: object) -> object:
    """The document without the library's version string (cdk.tf.json `//.metadata.version`, manifest.json)."""
    if isinstance(doc, dict):
        doc = dict(doc)
        if isinstance(doc.get("//"), dict) and isinstance(doc["//"].get("metadata"), dict):
            doc["//"] = {**doc["//"], "metadata": {k: v for k, v in doc["//"]["metadata"].items() if k != "version"}}
        if set(doc) >= {"version", "stacks"} and isinstance(doc.get("stacks"), dict):
            doc.pop("version")
    return doc


def compare(a: Path, b: Path) -> list[str]:
    """Every difference between two outputs, one line each, classified: identical bytes, the same JSON but for
    the library's version string and whitespace, or a real difference (named)."""
    lines: list[str] = []
    names_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    lines += [f"only in cdktf: {n}" for n in sorted(names_a - names_b)]
    lines += [f"only in cdktn: {n}" for n in sorted(names_b - names_a)]
    same = other = 0
    for name in sorted(names_a & names_b):
        raw_a, raw_b = (a / name).read_bytes(), (b / name).read_bytes()
        if raw_a == raw_b:
            same += 1
            continue
        other += 1
        if name.suffix == ".json":
            doc_a, doc_b = json.loads(raw_a), json.loads(raw_b)
            if doc_a == doc_b:
                lines.append(f"{name}: same JSON, whitespace differs")
            elif _without_version(doc_a) == _without_version(doc_b):
                lines.append(f"{name}: same JSON but for the library version string (and whitespace)")
            else:
                lines.append(f"{name}: DIFFERENT JSON")
        else:
            lines.append(f"{name}: DIFFERENT bytes")
    lines.insert(0, f"{same} file(s) byte-identical, {other} differ")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="synths per library and scenario (default 7)")
    parser.add_argument("--tree", type=Path, default=REPO, help="the checkout whose code both sides run")
    parser.add_argument("--accounts", type=int, default=100, help="accounts in the larger scenario (0: none)")
    args = parser.parse_args(argv)
    for impl, python in PYTHONS.items():
        if not python.exists():
            print(f"bench: {impl} venv missing ({python}); see this script's docstring", file=sys.stderr)
            return 2
    tree = args.tree.resolve()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cdk-terrain-") as tmp:
        scenarios = list(SCENARIOS)
        if args.accounts:
            scenarios.append(accounts_scenario(tree, Path(tmp), args.accounts))
        for config in scenarios:
            times: dict[str, list[float]] = {"cdktf": [], "cdktn": []}
            cpus: dict[str, list[float]] = {"cdktf": [], "cdktn": []}
            for _ in range(args.runs):
                for impl in times:  # interleaved: each pair of runs sees the same machine load
                    wall, cpu = _synth(impl, tree, config, Path(tmp) / impl / Path(config).stem)
                    times[impl].append(wall)
                    cpus[impl].append(cpu)
            label = Path(config).name if Path(config).is_absolute() else config
            rows.append((label, {i: statistics.median(t) for i, t in times.items()},
                         {i: min(t) for i, t in times.items()}, {i: statistics.median(t) for i, t in cpus.items()}))
            print(f"\n{label}: outputs compared (cdktf -> cdktn)")
            lines = compare(Path(tmp) / "cdktf" / Path(config).stem, Path(tmp) / "cdktn" / Path(config).stem)
            for line in lines[:8]:
                print(f"  {line}")
            kinds = sorted({line.split(": ", 1)[-1] for line in lines[8:]})
            if kinds:
                print(f"  ... {len(lines) - 8} more: {'; '.join(kinds)}")
    print(f"\n{args.runs} runs each, `orgguard synth --hcl` in a fresh process\n")
    print("| scenario | wall: cdktf 0.21.0 median (min) | wall: cdktn 0.24.0 median (min) | wall cdktn / cdktf "
          "| CPU: cdktf median | CPU: cdktn median | CPU cdktn / cdktf |")
    print("|---|---|---|---|---|---|---|")
    for config, med, low, cpu in rows:
        print(f"| {config} | {med['cdktf']:.2f} s ({low['cdktf']:.2f}) | {med['cdktn']:.2f} s ({low['cdktn']:.2f}) "
              f"| {med['cdktn'] / med['cdktf']:.2f} | {cpu['cdktf']:.2f} s | {cpu['cdktn']:.2f} s "
              f"| {cpu['cdktn'] / cpu['cdktf']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
