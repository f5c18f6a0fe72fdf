"""Progress: a redrawn bar on a terminal, at most one plain line per 10 % in CI logs, silence when off."""

from __future__ import annotations

import io

from orgguard.verify.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_one_redrawn_bar_ending_in_a_newline() -> None:
    stream = _Tty()
    bar = Progress(3, stream=stream)
    for i in range(3):
        bar.step(f"target {i}")
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "3/3" in text and "#" * 30 in text


def test_ci_log_gets_at_most_one_plain_line_per_ten_percent() -> None:
    stream = io.StringIO()
    bar = Progress(1000, stream=stream)
    for i in range(1000):
        bar.step(f"target {i}")
    lines = stream.getvalue().splitlines()
    assert 10 <= len(lines) <= 11
    assert "\r" not in stream.getvalue()
    assert lines[-1].startswith("verify: 1000/1000 targets done (100%)")


def test_disabled_progress_writes_nothing() -> None:
    stream = _Tty()
    bar = Progress(5, enabled=False, stream=stream)
    bar.step("x")
    assert stream.getvalue() == ""
