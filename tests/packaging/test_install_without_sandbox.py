"""`pip install .` without extras: a working synth, report and verify, and a clear word from `orgguard demo`.

Built once per module (about 15 s): the wheel is built by pip from a copy of the sources (so the build never
writes into the working tree), installed with pip into a fresh venv, and that venv reaches the runtime
dependencies through a .pth line to the project venv's site-packages, behind a finder that refuses every
module of the sandbox extra (moto, waitress, flask, werkzeug). A command that so much as tried to import one
would fail, so these tests prove the product runs without the extra rather than assume it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCKED = ("moto", "waitress", "flask", "werkzeug")
BLOCKER = f'''
import sys

BLOCKED = {BLOCKED!r}


class _NoSandboxExtra:
    """Refuse the sandbox extra's modules, as if `orgguard[sandbox]` were not installed."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)", name=name)
        return None


sys.meta_path.insert(0, _NoSandboxExtra())
'''


def _copy_sources(dest: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", dest)
    shutil.copy(ROOT / "README.md", dest)
    shutil.copy(ROOT / "LICENSE", dest)
    shutil.copytree(ROOT / "orgguard", dest / "orgguard", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("product-only")
    src, wheels, env_dir = base / "src", base / "wheels", base / "venv"
    src.mkdir()
    _copy_sources(src)
    pip = [sys.executable, "-m", "pip"]
    built = subprocess.run([*pip, "wheel", "-v", "--no-deps", "-w", str(wheels), str(src)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("orgguard-*.whl")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-2000:]
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.check_output([str(python), "-c", where],
                                        text=True).strip())
    (site / "_no_sandbox_extra.py").write_text(BLOCKER)
    # Runtime dependencies from the project venv (after the fresh venv's own site-packages, so the wheel's
    # orgguard wins); .pth files there, the editable install's finder among them, are not processed.
    (site / "zz_runtime_deps.pth").write_text(f"import _no_sandbox_extra\n{sysconfig.get_paths()['purelib']}\n")
    (base / "build.log").write_text(built.stdout + built.stderr)
    return {"bin": env_dir / "bin", "wheel": wheel, "work": base, "build_log": base / "build.log"}


def _run(product: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(product["bin"] / args[0]), *args[1:]], cwd=product["work"], env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_wheel_installs_one_package_and_its_license(product: dict[str, Path]) -> None:
    """No top-level `stacks` / `modules` packages (they shadowed any other distribution's); SPDX license."""
    with zipfile.ZipFile(product["wheel"]) as whl:
        names = whl.namelist()
        metadata = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"orgguard", "orgguard-0.1.0.dist-info"}, tops
    assert {"orgguard/stacks/organization.py", "orgguard/constructs/base.py"} <= set(names)
    assert "License-Expression: Apache-2.0" in metadata
    assert "License-File: LICENSE" in metadata


def test_building_prints_no_warning_of_ours(product: dict[str, Path]) -> None:
    """The license table setuptools deprecated printed a warning on every install."""
    log = product["build_log"].read_text()
    assert "Deprecat" not in log, [line for line in log.splitlines() if "Deprecat" in line][:3]
    assert "license" not in "\n".join(line for line in log.splitlines() if "warning" in line.lower()).lower()


def test_synth_report_and_verify_work_without_the_sandbox(product: dict[str, Path]) -> None:
    imported = _run(product, "python", "-c", "import orgguard; print(orgguard.__file__)")
    assert imported.returncode == 0, imported.stderr
    assert str(product["work"] / "venv") in imported.stdout  # the wheel's copy, not the working tree
    moto = _run(product, "python", "-c", "import moto")
    assert moto.returncode != 0 and "blocked by the test" in moto.stderr  # the block holds
    out = product["work"] / "out"
    synth = _run(product, "orgguard", "synth", "--config", str(ROOT / "governance.yaml"), "--out", str(out))
    assert synth.returncode == 0, synth.stderr
    report = _run(product, "orgguard", "report", "--manifest", str(out / "orgguard-manifest.json"))
    assert report.returncode == 0, report.stderr
    assert "restricted-ssh" in report.stdout
    verify = _run(product, "orgguard", "verify", "--help")
    assert verify.returncode == 0, verify.stderr


@pytest.mark.parametrize("command", [["demo"], ["sandbox", "serve", "--port", "0"], ["demo", "--help"]])
def test_demo_and_sandbox_say_what_to_install(product: dict[str, Path], command: list[str]) -> None:
    done = _run(product, "orgguard", *command)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "pip install 'orgguard[sandbox]'" in lines[0]
    assert "Traceback" not in done.stderr


def test_the_sandbox_library_refuses_to_start_with_the_install_line(product: dict[str, Path]) -> None:
    code = ("from pathlib import Path; from orgguard.sandbox import Sandbox, SandboxError\n"
            "try:\n    Sandbox(Path('sb')).start()\nexcept SandboxError as exc:\n    print(exc)\n")
    done = _run(product, "python", "-c", code)
    assert done.returncode == 0, done.stderr
    assert "pip install 'orgguard[sandbox]'" in done.stdout
