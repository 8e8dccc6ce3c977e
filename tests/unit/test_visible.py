"""Job output shown on a terminal (cli/visible.py): control characters as escapes, whole or
in pieces cut anywhere."""

from __future__ import annotations

from queuectl.cli.visible import VisibleStream, visible

OUTPUT = "é\x1b[2J\x1b[1;31mred\x1b[0m\r\nline\rover\b\x9b\x7f\tend\n".encode()


def test_visible_escapes_controls_and_keeps_colours_only_when_asked() -> None:
    text = OUTPUT.decode()
    assert visible(text, colours=True) == (
        "é\\x1b[2J\x1b[1;31mred\x1b[0m\r\nline\\rover\\x08\\x9b\\x7f\tend\n")
    assert visible(text) == (
        "é\\x1b[2J\\x1b[1;31mred\\x1b[0m\r\nline\\rover\\x08\\x9b\\x7f\tend\n")
    assert visible("plain text") == "plain text"


def test_a_stream_cut_anywhere_shows_what_the_whole_shows() -> None:
    whole = visible(OUTPUT.decode(), colours=True).encode()
    for size in range(1, 8):
        stream = VisibleStream(colours=True)
        pieces = [OUTPUT[i:i + size] for i in range(0, len(OUTPUT), size)]
        assert b"".join(stream.feed(piece) for piece in pieces) + stream.end() == whole


def test_a_stream_that_ends_cut_shows_the_rest() -> None:
    stream = VisibleStream()
    assert stream.feed(b"a\x1b[3") == b"a"
    assert stream.end() == b"\\x1b[3"
    stream = VisibleStream()
    assert stream.feed(b"a\r") == b"a"
    assert stream.end() == b"\\r"
