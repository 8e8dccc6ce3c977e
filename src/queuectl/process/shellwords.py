"""When a command may be exec'd without ``/bin/sh``: only when that cannot change its meaning.

``sh -c 'sleep 10'`` costs a whole shell process (55-70 us of CPU, and one more process for
the job's lifetime) to do what ``execvp("sleep", ["sleep", "10"])`` does. It is the same only
for a command of plain words: no quoting, expansion, globbing, redirection, operator,
assignment or comment can be in it, so that the shell would split it on blanks and nothing
else; and its first word must name no shell builtin or keyword, whose behaviour differs from
the program of that name (``echo -e``, ``kill``, ``test``) or that is no program at all.

What remains is the search of ``PATH`` and the exec itself, which ``launcher`` does exactly as
the shell does, handing the command to ``sh`` after all when the exec fails (not found, not
executable, no ``#!``): the shell then reports the failure in its own words and exit code.
"""

from __future__ import annotations

import re

# Letters, digits and punctuation that no POSIX shell (nor bash in sh mode) treats specially
# anywhere in a word; blanks (space, tab) separate words. '=' is allowed after the first word
# only: before the command name it would make an assignment.
_PLAIN = re.compile(r"[A-Za-z0-9_./+,:@%= \t-]*")
_FIRST = re.compile(r"[A-Za-z0-9_./+,:@%-]+")

# Keywords and builtins of dash, bash and the POSIX shell: a command naming one runs through sh.
SHELL_WORDS = frozenset("""
    ! { } [[ ]] case do done elif else esac fi for function if in select then time until while
    coproc . : [ alias bg bind break builtin caller cd chdir command compgen complete compopt
    continue declare dirs disown echo enable eval exec exit export false fc fg getopts hash
    help history jobs kill let local logout mapfile popd printf pushd pwd read readarray
    readonly return set shift shopt source suspend test times trap true type typeset ulimit
    umask unalias unset wait
""".split())


def plain_argv(command: str) -> list[str] | None:
    """The words of ``command`` if exec'ing them directly means what ``sh -c`` would, else None.

    ``plain_argv("sleep 10") == ["sleep", "10"]``; ``plain_argv("sleep $T") is None``.
    """
    if _PLAIN.fullmatch(command) is None:
        return None
    words = command.split()
    if not words or words[0] in SHELL_WORDS or _FIRST.fullmatch(words[0]) is None:
        return None
    return words
