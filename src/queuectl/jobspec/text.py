"""Strings that reach the OS or the database, and the names that identify things.

A string is stored and handed to ``exec``, ``chdir`` or the environment only if it has no
NUL character (the OS cuts a string there, and PostgreSQL refuses it) and is valid UTF-8: a
lone surrogate, which is what Python makes of undecodable bytes in argv or a file name, can
be neither encoded for the database nor passed to the OS.

The name checks compare characters with a set instead of a regular expression: a pattern
ending in ``$`` let a trailing newline through, and ``re`` costs more to import than
``queuectl enqueue`` spends on the checks.
"""

from __future__ import annotations

from ..errors import InvalidInput
from .limits import MAX_ID_LENGTH, MAX_QUEUE_NAME_LENGTH, MAX_TAG_LENGTH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_ID_CHARACTERS = frozenset(_ALNUM + "._:@+-")
_QUEUE_CHARACTERS = frozenset(_ALNUM + "._:-")
_VARIABLE_CHARACTERS = frozenset(_ALNUM + "_")
_SHOWN = 60  # characters of a refused value quoted in an error


def shown(value: object) -> str:
    """``repr(value)``, cut to fit in a one-line error."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def utf8_size(value: str, field: str) -> int:
    """The size of ``value`` in UTF-8; ``InvalidInput`` if it cannot be encoded."""
    if value.isascii():
        return len(value)
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{field}: {shown(value)} is not valid UTF-8 text (undecodable bytes or a lone"
            " surrogate)"
        ) from None


def os_text(value: str, field: str, max_bytes: int) -> str:
    """``value`` if it can be stored and passed to the OS: no NUL, valid UTF-8, at most
    ``max_bytes`` bytes in UTF-8."""
    if "\0" in value:
        raise InvalidInput(f"{field}: must not contain a NUL character")
    size = utf8_size(value, field)
    if size > max_bytes:
        raise InvalidInput(f"{field}: too long ({size} bytes; at most {max_bytes})")
    return value


def job_id(value: object, field: str = "id") -> str:
    """A job id: 1-128 letters, digits or ``._:@+-``, starting with a letter or digit."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: expected a string, got {type(value).__name__}")
    if not _is_name(value, _ID_CHARACTERS, MAX_ID_LENGTH):
        raise InvalidInput(
            f"{field}: {shown(value)} must be 1-{MAX_ID_LENGTH} letters, digits or ._:@+-, and"
            " start with a letter or digit"
        )
    return value


def queue_name(value: object, field: str = "queue") -> str:
    """A queue name: 1-64 letters, digits or ``._:-``, starting with a letter or digit."""
    if not isinstance(value, str) or not _is_name(value, _QUEUE_CHARACTERS,
                                                  MAX_QUEUE_NAME_LENGTH):
        raise InvalidInput(
            f"{field}: {shown(value)} must be 1-{MAX_QUEUE_NAME_LENGTH} letters, digits or ._:-"
            " and start with a letter or digit"
        )
    return value


def tag(value: object, field: str = "tags") -> str:
    """A tag: 1-64 characters, none of them a space, a control character or a comma."""
    if (not isinstance(value, str) or not 0 < len(value) <= MAX_TAG_LENGTH
            or any(char.isspace() or char < " " or char == "," for char in value)):
        raise InvalidInput(
            f"{field}: {shown(value)} is not a tag (1-{MAX_TAG_LENGTH} characters, no spaces"
            " or commas)"
        )
    utf8_size(value, field)
    return value


def is_variable_name(value: str) -> bool:
    """Whether ``value`` is a portable environment variable name: letters, digits and ``_``,
    not starting with a digit (POSIX, XBD 8.1). The job's ``/bin/sh`` drops other names from
    what it passes on (dash does; bash keeps them), so a job could not count on seeing one."""
    return (value.isascii() and value != "" and not value[0].isdigit()
            and _VARIABLE_CHARACTERS.issuperset(value))


def _is_name(value: str, allowed: frozenset[str], longest: int) -> bool:
    # isascii first: str.isalnum accepts letters and digits of every script.
    return (0 < len(value) <= longest and value.isascii() and value[0].isalnum()
            and allowed.issuperset(value))


def lookup_ids(values: Iterable[str] | str, field: str = "id") -> list[str]:
    """Ids given to find jobs (show, cancel, retry, ...): text that a database can be asked
    for. Not held to ``job_id``'s pattern: a job stored before today's checks may have any
    id, and an id that matches nothing is ``JobNotFound``, not bad input."""
    if isinstance(values, str):
        ids = [values]
    elif isinstance(values, (bytes, bytearray)) or not hasattr(values, "__iter__"):
        # bytes would be read as a list of ints, and an int is not iterable at all.
        raise InvalidInput(
            f"{field}: expected a string or a list of strings, got {type(values).__name__}")
    else:
        ids = list(values)  # once: a generator read twice would be empty the second time
    for value in ids:
        if not isinstance(value, str):
            raise InvalidInput(f"{field}: expected a string, got {type(value).__name__}")
        if "\0" in value:
            raise InvalidInput(f"{field}: {shown(value)} must not contain a NUL character")
        utf8_size(value, field)
    return ids


def lookup_id(value: object, field: str = "id") -> str:
    """One id given to find a job (``get``, ``follow``), checked as ``lookup_ids`` checks
    each: a list is not one id (get([]) failed in the database, follow(["a", "b"]) took
    "a")."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: expected a string, got {type(value).__name__}")
    return lookup_ids(value, field)[0]
