"""What the command line writes to a terminal: only its own colours pass, controls from agent
files are escaped, and a reader that went away does not turn into an error. (The commands
themselves are driven in test_cli.py.)"""

from __future__ import annotations

import io

import pytest

from agentroute._terminal import Paint, PipeSafe, painter


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Gone(io.StringIO):
    """A pipe whose reader has gone: every write and flush is a broken pipe."""

    def write(self, text: str) -> int:
        raise BrokenPipeError

    def flush(self) -> None:
        raise BrokenPipeError

    def fileno(self) -> int:
        raise OSError("no file")  # drop_output then leaves the stream alone


def test_paint_colours_a_known_key_only_when_enabled() -> None:
    assert Paint(True)("routed", "routed") == "\x1b[32mrouted\x1b[0m"
    assert Paint(True)("odd", "no-such-key") == "odd"
    assert Paint(False)("routed", "routed") == "routed"


def test_colour_is_on_for_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert painter(TTY()).enabled and not painter(io.StringIO()).enabled
    monkeypatch.setenv("NO_COLOR", "1")
    assert not painter(TTY()).enabled


@pytest.mark.parametrize("terminal", [True, False])
def test_controls_are_escaped_and_only_own_colours_pass(
    terminal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = TTY() if terminal else io.StringIO()
    out = PipeSafe(stream)
    text = "name\x1b[2J\x1b]0;title\x07 " + Paint(True)("routed", "routed") + "\n"
    assert out.write(text) == len(text)
    written = stream.getvalue()
    assert "\x1b[2J" not in written and "\x1b]0;" not in written and "\x07" not in written
    assert written.endswith("\n")
    assert ("\x1b[32mrouted\x1b[0m" in written) is terminal


def test_a_reader_that_went_away_drops_the_rest_quietly() -> None:
    out = PipeSafe(Gone())
    assert out.write("first\n") == len("first\n")
    assert out.broken
    out.write("more\n")
    out.flush()  # nothing raises once the reader is gone
