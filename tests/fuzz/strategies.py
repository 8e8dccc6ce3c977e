"""Hypothesis strategies for job input: every field drawn from valid values, values at and
past their bounds (jobspec.limits), wrong types, and the strings that broke workers before
(NUL, lone surrogates, newlines, huge numbers, NaN, deep nesting).

Commands are safe to run: a few fixed ones, or ``echo`` of a quoted random text; a random
text is never run as a command (it is still checked, inside the quotes).
"""

from __future__ import annotations

import shlex
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

SPECIAL = ["\0", "\udcff", "\udc80", "\ud800", "\n", "\t", " ", "=", ",", "é", "✓", "\x7f",
           "\u2028", "\x1f", "/", "~", "$", "'", '"', "\\"]
texts = st.one_of(
    st.text(alphabet=st.one_of(st.characters(), st.sampled_from(SPECIAL)), max_size=30),
    st.sampled_from(["", " ", "\t\n", "x" * 300, "a" * 128, "a" * 129, "job1\n", "default"]),
)
names = st.one_of(texts, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True))
numbers = st.one_of(
    st.integers(),
    st.sampled_from([0, 1, -1, 255, 256, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 10**9,
                     10**9 + 1, 2**63, 2**64, 10**30]),
    st.floats(),
    st.booleans(),
)
durations = st.one_of(
    numbers,
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(0, 10**16),
              st.sampled_from(["", "ms", "s", "m", "h", "d", " s", "w"])),
    st.sampled_from(["30d", "24d", "24d1s", "99999999999999d", "1e300", "nan", "inf", "0",
                     "0s", "250ms", "1.5h", "-1", "36500d", "36501d", "0.001"]),
    texts,
)
sizes = st.one_of(numbers, texts,
                  st.sampled_from(["1MiB", "256MiB", "257MiB", "1k", "0", "lots", "9" * 40]))
times = st.one_of(
    st.builds(
        lambda moment, offset: moment.replace(tzinfo=timezone(offset)).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                      max_value=timedelta(hours=23, minutes=59)).map(
            lambda delta: timedelta(minutes=round(delta.total_seconds() / 60))),
    ),
    st.sampled_from(["9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59Z",
                     "0001-01-01T00:00:00+05:00", "2020-01-01T00:00:00", "yesterday"]),
    texts,
    numbers,
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)
commands = st.one_of(
    st.sampled_from(["true", "false", "exit 3", "exit 255", "echo hi", ":", "printf x",
                     "", "   ", "\t\n", "echo a\0b"]),
    texts.map(lambda text: "echo " + shlex.quote(text)),
    st.sampled_from([None, 7, ["echo"], True]),
)
# Variable names: portable ones (prefixed, so that none replaces PATH or HOME), names some
# tools allow and sh drops (dots, dashes, spaces, a leading digit, bash's exported functions),
# and any text.
env_names = st.one_of(
    st.from_regex(r"QF_[A-Za-z0-9_]{0,8}", fullmatch=True),
    st.sampled_from(["QF_a.b", "QF-A", "QF A", "1QF", "QF_\n", "BASH_FUNC_qf%%", "QF_É", "",
                     "QF=", "=QF", "_", "QF_\0"]),
    texts.map(lambda key: "QF_" + key),
    texts,
)
environments = st.one_of(
    st.dictionaries(env_names, st.one_of(texts, numbers), max_size=4),
    st.lists(texts, max_size=2), texts, numbers,
)
directories = st.one_of(
    st.sampled_from(["/tmp", "/", "/nonexistent/dir", "~", "relative/dir", ".", "/dev/null"]),
    texts.map(lambda text: "/tmp/" + text),
    texts, numbers,
)

job_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,30}", fullmatch=True)
queue_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)
plain_texts = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=20)


def mostly(valid: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid value three times in four: enough jobs are accepted to be run."""
    return st.one_of(valid, valid, valid, odd)


OPTIONAL_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": mostly(job_ids, names),
    "max_retries": mostly(st.integers(0, 3), numbers),
    "cwd": mostly(st.sampled_from(["/tmp", "/", "/nonexistent/dir", "~"]), directories),
    "env": mostly(st.dictionaries(st.from_regex(r"QF_[A-Z0-9_]{0,8}", fullmatch=True),
                                  plain_texts, max_size=3), environments),
    "timeout": mostly(st.sampled_from(["1s", "30s", "5m", "0.5", 10, "24d", 1e-9]), durations),
    "fatal_exit_codes": mostly(st.lists(st.integers(1, 255), max_size=3),
                               st.one_of(st.lists(numbers, max_size=3), numbers)),
    "retry_on_timeout": mostly(st.booleans(), st.one_of(numbers, texts)),
    "output_limit": mostly(st.sampled_from(["1k", "1MiB", 0, 4096, "256MiB"]), sizes),
    "priority": mostly(st.integers(-10, 10), numbers),
    "run_at": mostly(st.sampled_from(["2020-01-01T00:00:00Z", "2020-01-01T05:00:00+05:00",
                                      "2999-01-01T00:00:00-08:00"]), times),
    "delay": mostly(st.sampled_from([0, "0s", "1h", 0.001]), durations),
    "queue": mostly(queue_names, names),
    "depends_on": mostly(st.lists(job_ids, max_size=2), st.one_of(st.lists(names, max_size=3),
                                                                  texts)),
    "unique_key": mostly(plain_texts.filter(str.strip), texts),
    "tags": mostly(st.lists(queue_names, max_size=3),
                   st.one_of(st.lists(st.one_of(names, numbers), max_size=4), texts)),
    "backoff_base": mostly(st.floats(1, 10), numbers),
    "backoff_max": mostly(st.sampled_from(["1s", "1h", 1e-9]), durations),
    "jitter": mostly(st.floats(0, 1), numbers),
    # fields that are refused whatever their value
    "state": st.just("completed"),
    "colour": json_values,
}


def _some_fields(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(sorted(OPTIONAL_FIELDS)), max_size=5, unique=True))
    # Unknown and read-only fields are refused at once: draw them seldom.
    # (Hypothesis draws small numbers most: the usual case is 0.)
    if {"state", "colour"} & set(chosen) and draw(st.integers(0, 9)) != 9:
        chosen = [name for name in chosen if name not in ("state", "colour")]
    spec = {name: draw(OPTIONAL_FIELDS[name]) for name in chosen}
    if draw(st.integers(0, 19)) != 19:  # a command, nearly always
        spec = {"command": draw(mostly(st.sampled_from(["true", "false", "exit 3", "echo hi"]),
                                       commands)), **spec}
    return spec


job_specs: st.SearchStrategy[dict[str, Any]] = st.composite(_some_fields)()
# What a line or an argument may hold: mostly a job, sometimes any JSON value.
any_specs: st.SearchStrategy[Any] = st.one_of(job_specs, job_specs, job_specs, json_values)
