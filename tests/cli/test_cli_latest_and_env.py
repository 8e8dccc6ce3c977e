"""``show``, ``logs``, ``wait`` and ``cancel`` without an id act on the job enqueued last (as
``tsp -t`` and ``tsp -w`` do); ``--env NAME`` and ``--env-all`` take the caller's environment."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Cli, as_json, dump

from queuectl import Queue


def _run_all(db_path: Path) -> None:
    with Queue(db_path, environ={}) as queue, queue.worker() as worker:
        while worker.run_once():
            pass


def test_without_an_id_the_job_enqueued_last_is_meant(cli: Cli, db_path: Path) -> None:
    cli("add", "--id", "first", "echo one")
    cli("add", "--id", "second", "--max-retries", "0", "echo two; exit 4")
    assert as_json(cli("show", "--json"))["id"] == "second"
    assert cli("show").stdout.startswith("id:          second\n")
    _run_all(db_path)
    assert cli("logs").stdout == "two\n"
    waited = cli("wait", check=1)  # exit 1: it did not complete
    assert waited.stdout == "second: dead\n"
    cli("add", "--id", "third", "--delay", "1h", "true")
    assert cli("cancel").stdout == "Canceled third\n"
    assert as_json(cli("show", "first", "--json"))["state"] == "completed"


def test_without_an_id_on_an_empty_queue_is_exit_1(cli: Cli, db_path: Path) -> None:
    Queue(db_path).close()
    before = dump(db_path)
    for command in ("show", "logs", "wait", "cancel"):
        result = cli(command, check=1)
        assert result.stderr == "error: no jobs yet: give a job id\n", command
    assert dump(db_path) == before


def test_env_name_takes_the_value_from_the_enqueuing_shell(cli: Cli, db_path: Path) -> None:
    cli.env = {**cli.env, "GREETING": "hello there"}
    cli("add", "--id", "greet", "--env", "GREETING", "--env", "PLAIN=1",
        'printf "%s|%s" "$GREETING" "$PLAIN"')
    assert as_json(cli("show", "greet", "--json"))["env"] == {"GREETING": "hello there",
                                                              "PLAIN": "1"}
    _run_all(db_path)
    assert cli("logs", "greet").stdout == "hello there|1"


def test_env_name_that_is_not_set_is_refused(cli: Cli, db_path: Path) -> None:
    cli("add", "true")
    before = dump(db_path)
    result = cli("add", "--env", "NOT_SET_ANYWHERE", "true", check=2)
    assert result.stderr == ("error: --env NOT_SET_ANYWHERE: no such variable in this shell; "
                             "give KEY=VALUE, or export NOT_SET_ANYWHERE first\n")
    assert dump(db_path) == before


def test_env_all_stores_the_whole_environment(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    cli.env = {**cli.env, "ONLY_HERE": "from the caller", "OVERRIDDEN": "old", "PWD": "/elsewhere"}
    cli("add", "--id", "all", "--env-all", "--env", "OVERRIDDEN=new",
        'printf "%s|%s|%s" "$ONLY_HERE" "$OVERRIDDEN" "$PWD"')
    env = as_json(cli("show", "all", "--json"))["env"]
    assert env["ONLY_HERE"] == "from the caller" and env["OVERRIDDEN"] == "new"
    assert "PWD" not in env and env["QUEUECTL_DB"] == str(db_path)
    _run_all(db_path)  # a worker whose own environment has none of these
    assert cli("logs", "all").stdout == f"from the caller|new|{tmp_path}"


def test_wait_json_prints_the_jobs_it_waited_for(cli: Cli, db_path: Path) -> None:
    cli("add", "--id", "ok", "true")
    cli("add", "--id", "bad", "--max-retries", "0", "exit 4")
    _run_all(db_path)
    waited = as_json(cli("wait", "ok", "bad", "--json", check=1))  # exit 1: bad did not complete
    assert [(job["id"], job["state"], job["exit_code"]) for job in waited] == [
        ("ok", "completed", 0), ("bad", "dead", 4)]
    [last] = as_json(cli("wait", "--json", check=1))  # without an id: the job enqueued last
    assert (last["id"], last["state"]) == ("bad", "dead")


def test_wait_given_an_id_twice_prints_the_job_once(cli: Cli, db_path: Path) -> None:
    # `wait 3 3` printed "3: completed" twice.
    cli("add", "true")
    cli("add", "--id", "b", "true")
    _run_all(db_path)
    assert cli("wait", "1", "b", "1", "b").stdout == "1: completed\nb: completed\n"
    assert [job["id"] for job in as_json(cli("wait", "b", "b", "--json"))] == ["b"]


def test_an_env_name_that_is_not_portable_is_refused(cli: Cli, db_path: Path) -> None:
    """A name the job's sh would not pass on (dash drops it) is refused at the door, by
    ``add``, ``enqueue --command`` and JSON alike: one line, exit 2, nothing stored."""
    cli("add", "true")
    before = dump(db_path)
    for name, args in (("BAD NAME", ["add", "--env", "BAD NAME=1", "true"]),
                       ("a.b", ["enqueue", "-c", "true", "--env", "a.b=1"]),
                       ("1A", ["enqueue", '{"command": "true", "env": {"1A": "x"}}'])):
        result = cli(*args, check=2)
        assert result.stderr == (f"error: env: {name!r} is not a variable name (letters,"
                                 " digits and _, not starting with a digit)\n"), args
    assert dump(db_path) == before


def test_env_all_leaves_out_names_the_job_could_not_see(cli: Cli, db_path: Path) -> None:
    """bash exports functions as ``BASH_FUNC_name%%`` and lets odd names through; the job's
    sh would drop them, so ``--env-all`` does not store them (nor refuse the job)."""
    cli.env = {**cli.env, "BASH_FUNC_greet%%": "() {  echo hi\n}", "dotted.name": "1",
               "KEPT_HERE": "yes"}
    cli("add", "--id", "all", "--env-all", 'printf "%s" "$KEPT_HERE"')
    env = as_json(cli("show", "all", "--json"))["env"]
    assert env["KEPT_HERE"] == "yes"
    assert "BASH_FUNC_greet%%" not in env and "dotted.name" not in env
    _run_all(db_path)
    assert cli("logs", "all").stdout == "yes"
