"""One sandbox per test session for the read-mostly tests (start-up is about a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orgguard.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(tmp_path_factory.mktemp("sandbox")) as sb:
        yield sb
