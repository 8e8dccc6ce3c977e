"""Enqueue in every form, run with a real worker, and read the result back through the CLI."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.helpers import Cli, as_json

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
SEED_FIELDS = {"id", "command", "state", "attempts", "max_retries", "created_at", "updated_at",
               "run_at", "exit_code", "last_error"}


def assert_seed_fields(job: dict[str, object]) -> None:
    assert SEED_FIELDS <= job.keys()
    for field in ("created_at", "updated_at", "run_at"):
        assert ISO_Z.match(str(job[field])), (field, job[field])


def drain(cli: Cli) -> None:
    """Run every ready job to its end in a burst worker (exits when nothing is left)."""
    cli("worker", "start", "--burst", "--quiet")


def test_json_form_runs_to_completion(cli: Cli) -> None:
    out = cli("enqueue", '{"id":"job1","command":"echo hello","max_retries":3}').stdout
    assert "job1" in out

    pending = as_json(cli("show", "job1", "--json"))
    assert_seed_fields(pending)
    assert (pending["state"], pending["attempts"], pending["max_retries"]) == ("pending", 0, 3)

    drain(cli)
    job = as_json(cli("show", "job1", "--json"))
    assert_seed_fields(job)
    assert (job["state"], job["attempts"], job["exit_code"], job["last_error"]) == (
        "completed", 1, 0, None)
    [attempt] = job["attempts_history"]
    assert attempt["exit_code"] == 0 and attempt["error"] is None
    assert attempt["output"] == "hello\n"
    assert ISO_Z.match(attempt["started_at"]) and ISO_Z.match(attempt["finished_at"])

    text = cli("show", "job1").stdout
    assert "completed" in text and "| hello" in text


def test_command_form_prints_the_generated_id(cli: Cli) -> None:
    out = cli("enqueue", "--command", "echo hi").stdout
    match = re.fullmatch(r"Enqueued job (\S+): echo hi\n", out)
    assert match, out
    job_id = match.group(1)

    as_dict = as_json(cli("enqueue", "--command", "echo again", "--json"))
    assert_seed_fields(as_dict)
    assert as_dict["id"] != job_id and as_dict["state"] == "pending"

    named = as_json(cli("enqueue", "-c", "exit 0", "--id", "build-42", "--max-retries", "1",
                        "--json"))
    assert (named["id"], named["max_retries"]) == ("build-42", 1)

    drain(cli)
    listed = as_json(cli("list", "--json"))
    assert {job["id"] for job in listed} == {job_id, as_dict["id"], "build-42"}
    assert all(job["state"] == "completed" for job in listed)
    for job in listed:
        assert_seed_fields(job)


def test_max_retries_defaults_to_the_configured_value(cli: Cli) -> None:
    cli("config", "set", "backoff_base", "2")  # creates the queue
    assert cli("config", "get", "max_retries").stdout.strip() == "3"
    cli("config", "set", "default_max_retries", "5")  # the original tool's spelling
    assert cli("config", "get", "max-retries").stdout.strip() == "5"
    job = as_json(cli("enqueue", '{"command":"true"}', "--json"))
    assert job["max_retries"] == 5


def test_file_form_enqueues_every_line(cli: Cli, tmp_path: Path) -> None:
    lines = ['{"id":"a","command":"echo a"}', "", '{"id":"b","command":"echo b","max_retries":0}',
             '{"command":"echo c"}']
    (tmp_path / "jobs.jsonl").write_text("\n".join(lines) + "\n")
    assert cli("enqueue", "--file", "jobs.jsonl").stdout.strip() == "Enqueued 3 jobs."

    jobs = as_json(cli("list", "--json"))
    assert len(jobs) == 3
    by_command = {job["command"]: job for job in jobs}
    assert by_command["echo a"]["id"] == "a" and by_command["echo b"]["max_retries"] == 0
    assert [job["command"] for job in jobs] == ["echo c", "echo b", "echo a"]  # newest first

    drain(cli)
    assert {job["state"] for job in as_json(cli("list", "--json"))} == {"completed"}


def test_file_form_reads_stdin(cli: Cli) -> None:
    jobs = "".join(f'{{"id":"s{n}","command":"echo {n}"}}\n' for n in range(5))
    listed = as_json(cli("enqueue", "--file", "-", "--json", input=jobs))
    assert [job["id"] for job in listed] == [f"s{n}" for n in range(5)]
    for job in listed:
        assert_seed_fields(job)
    assert as_json(cli("status", "--json"))["jobs"]["pending"] == 5


def test_an_id_given_twice_in_a_file_names_both_lines(cli: Cli) -> None:
    # It said "a job with id 'y' already exists", of a job that was nowhere to be found.
    lines = '{"id":"y","command":"true"}\n\n{"command":"true"}\n{"id":"y","command":"false"}\n'
    refused = cli("enqueue", "--file", "-", input=lines, check=1)
    assert refused.stderr == "error: line 4: id 'y' is given twice (line 1 too)\n"
    assert cli("list").stdout.strip() == "No jobs."


def test_what_the_database_refuses_in_a_file_names_the_line(either_cli: Cli) -> None:
    # They said "a job with id 'x' already exists" or "depends_on: no job with id 'd'" alone,
    # leaving the reader to search the file.
    cli = either_cli
    cli("add", "--id", "x", "true")
    head = '{"id":"a","command":"true"}\n\n{"command":"true"}\n'
    cases = [
        ('{"id":"x","command":"false"}\n', 1,
         "error: line 4: a job with id 'x' already exists\n"),
        ('{"id":"e","command":"true","depends_on":["a","d"]}\n', 2,
         "error: line 4: depends_on: no job with id 'd'\n"),
        ('{"id":"e","command":"true","depends_on":["z"]}\n{"id":"z","command":"true"}\n', 2,
         "error: line 4: depends_on: no job with id 'z' (line 5 gives it: a job can depend"
         " only on the jobs before it)\n"),
    ]
    for tail, code, message in cases:
        refused = cli("enqueue", "--file", "-", input=head + tail, check=code)
        assert refused.stderr == message
    assert [job["id"] for job in as_json(cli("list", "--json"))] == ["x"]  # nothing written
    # One job is no batch: its error needs no line.
    alone = cli("enqueue", '{"command":"true","depends_on":["d"]}', check=2)
    assert alone.stderr == "error: depends_on: no job with id 'd'\n"


def test_jobs_run_in_the_directory_enqueue_ran_in(cli: Cli, tmp_path: Path) -> None:
    here = tmp_path / "project"
    here.mkdir()
    # enqueue from `project`; the worker runs from tmp_path, as if started elsewhere
    subprocess.run(cli.argv("enqueue", "--command", "pwd > where.txt"), env=cli.env, cwd=here,
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(cli.argv("enqueue", "--command", "pwd > where.txt", "--cwd", "../elsewhere"),
                   env=cli.env, cwd=here, check=True, capture_output=True)
    drain(cli)
    assert (here / "where.txt").read_text().strip() == str(here)
    assert (elsewhere / "where.txt").read_text().strip() == str(elsewhere)
    assert not (tmp_path / "where.txt").exists()


def test_output_is_kept_up_to_the_limit(cli: Cli) -> None:
    cli("config", "set", "output_limit", "1k")
    cli("enqueue", "--command", "head -c 5000 /dev/zero | tr '\\0' x; echo; echo tail",
        "--id", "chatty")
    drain(cli)
    [attempt] = as_json(cli("show", "chatty", "--json"))["attempts_history"]
    assert attempt["output"] == "x" * 1024
    assert attempt["output_dropped"] == 5000 + len("\ntail\n") - 1024
    assert f"[{attempt['output_dropped']} more bytes not kept" in cli("show", "chatty").stdout


def test_list_filters_by_state_and_shows_errors(cli: Cli) -> None:
    cli("enqueue", '{"id":"good","command":"true"}')
    cli("enqueue", '{"id":"bad","command":"exit 3","max_retries":0}')
    cli("enqueue", '{"id":"later","command":"true"}')
    cli("worker", "start", "--burst", "--quiet")
    cli("enqueue", '{"id":"new","command":"true"}')

    assert [j["id"] for j in as_json(cli("list", "--state", "completed", "--json"))] == [
        "later", "good"]
    assert [j["id"] for j in as_json(cli("list", "--state", "PENDING", "--json"))] == ["new"]
    assert [j["id"] for j in as_json(cli("list", "--limit", "2", "--json"))] == ["new", "later"]

    table = cli("list").stdout.splitlines()
    assert table[0].split()[:4] == ["ID", "STATE", "ATTEMPTS", "COMMAND"]
    [bad_row] = [line for line in table if line.startswith("bad ")]
    assert "dead" in bad_row and "1/0" in bad_row and "exit code 3" in bad_row
    assert cli("list", "--state", "canceled").stdout.strip() == "No jobs in state canceled."
