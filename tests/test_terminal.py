"""The command line's terminal side: agent text never drives the terminal."""

from __future__ import annotations

import io

import pytest

from agentroute._terminal import Paint, PipeSafe, use_color


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_controls_from_agent_files_are_escaped_and_only_our_colours_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = _Tty()
    out = PipeSafe(tty)
    assert out.colors
    forged = "name\x1b]0;owned\x07\x1b[2J"
    out.write(Paint(True)("routed", "routed") + " " + forged)
    text = tty.getvalue()
    assert text.startswith("\x1b[32mrouted\x1b[0m ")  # our colour, raw
    assert "\x1b]" not in text and "\x1b[2J" not in text  # theirs, escaped


def test_no_colour_off_a_terminal_or_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert not use_color(io.StringIO())
    assert use_color(_Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(_Tty())
    assert Paint(False)("routed", "routed") == "routed"


def test_a_reader_that_left_does_not_fail_the_command() -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

        def fileno(self) -> int:
            raise OSError("no descriptor")

    out = PipeSafe(Gone())
    assert out.write("answer\n") == len("answer\n")
    assert out.broken
    out.flush()  # still no error
