"""docs/runbook-coverage.md is exactly what bench/runbook_coverage.py produces now."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("runbook_coverage", ROOT / "bench" / "runbook_coverage.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_page_is_current_and_orgguard_closes_every_shape_it_must(tmp_path: Path) -> None:
    bench = _bench()
    out = tmp_path / "coverage.md"

    assert bench.main(["--out", str(out)]) == 0, "orgguard missed or over-revoked a shape"
    assert out.read_text() == (ROOT / "docs" / "runbook-coverage.md").read_text(), (
        "regenerate: .venv/bin/python bench/runbook_coverage.py"
    )
