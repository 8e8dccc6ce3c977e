"""A job's output, and text stored with it, made safe to print on a terminal.

A job may print anything: ``\\x1b[2J`` (clear the screen), ``\\x1b]0;title\\x07`` (retitle the
window), a lone ``\\r`` or backspaces (write over what was printed before it, hiding an error).
Printed as it is by ``show``, or by ``logs`` on a terminal, it would do that to the terminal of
the person reading it. Here every control character is shown as an escape instead
(``\\x1b[2J``), except line feeds, tabs, the ``\\r`` of a ``\\r\\n`` line end and, where asked,
colour sequences (SGR: ``\\x1b[31m``, ``\\x1b[0m``), which only colour text.

    >>> visible("a\\x1b[2Jb\\rc\\x1b[31md\\x1b[0m", colours=True)
    'a\\\\x1b[2Jb\\\\rc\\x1b[31md\\x1b[0m'

``logs`` writes the bytes as they are when its stdout is no terminal (``logs job > out.log``).
"""

from __future__ import annotations

import re

# A colour sequence, a CRLF line end, or any other control character (C0, DEL, C1).
_CONTROL = re.compile(r"\x1b\[[0-9;:]*m|\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The end of a text that may be the start of a colour sequence or of a CRLF, cut by a read.
_CUT = re.compile(r"(?:\x1b(?:\[[0-9;:]{0,32})?|\r)\Z")
_ESCAPES = {"\r": "\\r", "\t": "\\t", "\n": "\\n"}


def visible(text: str, *, colours: bool = False) -> str:
    """``text`` with its control characters shown as escapes (see the module's docstring);
    colour sequences kept if ``colours``."""
    if _CONTROL.search(text) is None:  # the usual case, and the fast one
        return text

    def shown(match: re.Match[str]) -> str:
        found = match.group()
        if found == "\r\n" or (colours and len(found) > 1):
            return found
        return _escape(found[0]) + found[1:]

    return _CONTROL.sub(shown, text)


def _escape(char: str) -> str:
    return _ESCAPES.get(char) or f"\\x{ord(char):02x}"


class VisibleStream:
    """``visible`` over output that arrives in pieces (``logs --follow``): a UTF-8 character,
    a colour sequence or a CRLF cut between two pieces is held back until the rest comes."""

    def __init__(self, *, colours: bool = True) -> None:
        import codecs

        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._held = ""
        self._colours = colours

    def feed(self, data: bytes) -> bytes:
        """What can be printed of ``data`` and whatever was held back before it."""
        text = self._held + self._decoder.decode(data)
        cut = _CUT.search(text)
        self._held = cut.group() if cut else ""
        return visible(text[:len(text) - len(self._held)], colours=self._colours).encode()

    def end(self) -> bytes:
        """What was held back: the output ended."""
        text = self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        return visible(text, colours=self._colours).encode()
