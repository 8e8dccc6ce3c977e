"""Adding jobs: ``enqueue`` (JSON, ``--command`` or ``--file``) and ``add`` (a command typed as
words, as with pueue and tsp)."""

from __future__ import annotations

import functools
import os
import shlex
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

import click

from ..errors import InvalidInput
from ..jobspec.text import is_variable_name
from .autostart import start_worker_if_configured
from .context import Session
from .plain_enqueue import batch_message, enqueued_message
from .render import echo_json, warn_refused
from .scheduling_flags import scheduling_flags

if TYPE_CHECKING:
    from ..models import Job

# The per-job flags of a command line, and the JSON field each one sets.
_JOB_OPTIONS = (
    click.option("--id", "job_id", help="The job's id (default: a generated one)."),
    click.option("--max-retries", type=int, help="Retries after the first run (default: config)."),
    click.option("--timeout", help="Kill the job after this long, e.g. 30s or 5m."),
    click.option("--cwd", help="Directory to run in (default: the current one)."),
    click.option("--env", "env_pairs", multiple=True, metavar="NAME[=VALUE]",
                 help="Set a variable; NAME alone takes this shell's value (repeatable)."),
    click.option("--env-all", is_flag=True,
                 help="Store this shell's whole environment with the job (see README)."),
    click.option("--fatal-exit-code", "fatal_exit_codes", multiple=True, type=int,
                 metavar="CODE",
                 help="An exit code that goes straight to the DLQ, not retried (repeatable)."),
    click.option("--no-retry-on-timeout", is_flag=True, help="A timeout goes straight to the DLQ."),
    click.option("--output-limit", metavar="SIZE", help="Output kept per attempt, e.g. 64k."),
    click.option("--on-finish", metavar="CMD",
                 help="A command run once the job is final (completed, dead or canceled)."),
    click.option("--webhook", metavar="URL", help="POST the finished job's JSON to this URL."),
)


def job_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the per-job flags to ``command``, which receives the ones given as one ``options``
    dict of ``Queue.enqueue`` keywords."""

    @functools.wraps(command)
    def wrapper(*args: Any, job_id: str | None, max_retries: int | None, timeout: str | None,
                cwd: str | None, env_pairs: tuple[str, ...], env_all: bool,
                fatal_exit_codes: tuple[int, ...], no_retry_on_timeout: bool,
                output_limit: str | None, on_finish: str | None, webhook: str | None,
                **kwargs: Any) -> Any:
        fields = {
            "id": job_id, "max_retries": max_retries, "timeout": timeout, "cwd": cwd,
            "env": job_environment(env_pairs, env_all, os.environ), "output_limit": output_limit,
            "fatal_exit_codes": list(fatal_exit_codes) or None,
            "retry_on_timeout": False if no_retry_on_timeout else None,
            "on_finish": on_finish, "webhook": webhook,
        }
        options = {key: value for key, value in fields.items() if value is not None}
        return command(*args, options=options, **kwargs)

    for option in reversed(_JOB_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


# What a shell keeps about itself, not about the job: the job's shell sets its own.
_SHELL_STATE = frozenset({"PWD", "OLDPWD", "SHLVL", "_"})


def job_environment(pairs: tuple[str, ...], everything: bool,
                    environ: Mapping[str, str]) -> dict[str, str] | None:
    """The variables to store with a job: with ``everything``, the whole of ``environ``
    (but the shell's own state, and names that are not portable, which the job's ``sh``
    would not pass on: bash's exported functions, say), then each ``--env NAME=VALUE``, or
    ``--env NAME`` with ``environ``'s value."""
    env = {key: value for key, value in environ.items()
           if key not in _SHELL_STATE and is_variable_name(key)} if everything else {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            if key not in environ:
                raise InvalidInput(f"--env {key}: no such variable in this shell; give "
                                   f"KEY=VALUE, or export {key} first")
            value = environ[key]
        env[key] = value
    return env or None


@click.command()
@click.argument("words", metavar="JSON", nargs=-1)
@click.option("-c", "--command", help="The shell command, instead of JSON.")
@job_options
@click.option("-f", "--file", "jobs_file", type=click.File("r"),
              help="A JSON object per line ('-' for stdin), enqueued all or nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the job(s) as JSON.")
@click.pass_obj
@scheduling_flags
def enqueue(
    session: Session, words: tuple[str, ...], command: str | None, options: dict[str, Any],
    jobs_file: IO[str] | None, as_json: bool, scheduling: dict[str, Any],
) -> None:
    """Add a job (JSON), a command (--command) or many jobs (--file).

    \b
    Examples:
      queuectl enqueue '{"id":"job1","command":"echo hello","max_retries":3}'
      queuectl enqueue --command 'make test' --id build-42 --max-retries 1
      queuectl enqueue --file jobs.jsonl
      queuectl enqueue -c 'make deploy' --after build-42 --queue deploy --priority 5
      queuectl enqueue -c 'report.sh' --delay 1h --unique-key daily-report --tag reports
    """
    job_json = _one_json_argument(words, command)
    given = [job_json is not None, command is not None, jobs_file is not None]
    if sum(given) != 1:
        raise click.UsageError("give exactly one of JSON, --command or --file")
    if options and command is None:
        raise click.UsageError("job options such as --id or --timeout go with --command")
    if scheduling and jobs_file is not None:
        raise click.UsageError("--priority, --delay, --after and such go with --command or JSON")
    queue = session.queue
    warn_refused(queue.enqueue_settings()[1])  # one it reads is refused (nothing stored)
    if jobs_file is not None:
        if as_json:
            jobs = queue.enqueue_many(jobs_file)
            echo_json([{**job.to_dict(), "created": not job.unique_conflict} for job in jobs])
        else:
            added = queue.enqueue_many(jobs_file, ids_only=True)
            click.echo(batch_message(added.created, added.existing))
        start_worker_if_configured(queue)
        return
    if command is not None:
        job = queue.enqueue(command, **options, **scheduling)
    else:
        assert job_json is not None
        try:
            job = queue.enqueue(queue.load_json(job_json), **scheduling)
        except InvalidInput as exc:
            if job_json.lstrip().startswith("{"):
                raise
            # Most likely a command where JSON was expected: say how a command is given.
            raise InvalidInput(f"{exc}; to enqueue a shell command, give it with -c: "
                               f"queuectl enqueue -c {shlex.quote(job_json)}") from None
    _print_added(job, as_json)
    start_worker_if_configured(queue)


def _one_json_argument(words: tuple[str, ...], command: str | None) -> str | None:
    """The JSON argument; several words are a command typed unquoted, and the error says how
    to give it (`enqueue -c echo hello` would otherwise enqueue `echo` and choke on `hello`)."""
    typed_words = len(words) > 1 or (
        command is not None and bool(words) and not words[0].lstrip().startswith("{"))
    if not typed_words:
        return words[0] if words else None
    if command is not None:
        typed = shlex.join([command, *words])
        raise click.UsageError(
            f"-c takes the whole command as one argument: quote it, as in "
            f"queuectl enqueue -c {shlex.quote(typed)} (or queuectl add {typed})")
    raise click.UsageError(f"enqueue takes one JSON argument; to enqueue a command typed as "
                           f"words: queuectl add {shlex.join(words)}")


@click.command(context_settings={"allow_interspersed_args": False})
@click.argument("words", metavar="CMD [ARGS]...", nargs=-1, required=True)
@job_options
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.pass_obj
@scheduling_flags
def add(session: Session, words: tuple[str, ...], options: dict[str, Any], as_json: bool,
        scheduling: dict[str, Any]) -> None:
    """Add a command typed as words, with enqueue's flags before it.

    One word is a shell line as it is; several are quoted so that each reaches the command
    as one argument. Everything after the command (or after `--`) belongs to the command.

    \b
    Examples:
      queuectl add make test
      queuectl add --after build --queue deploy -- make -C site deploy
      queuectl add 'tar czf logs.tgz logs/ && rm -r logs/'
      queuectl add --id grep1 grep -r 'two words' src/
    """
    command = words[0] if len(words) == 1 else shlex.join(words)
    warn_refused(session.queue.enqueue_settings()[1])  # as enqueue
    job = session.queue.enqueue(command, **options, **scheduling)
    _print_added(job, as_json)
    start_worker_if_configured(session.queue)


def _print_added(job: Job, as_json: bool) -> None:
    if as_json:
        echo_json({**job.to_dict(), "created": not job.unique_conflict})
    else:
        click.echo(enqueued_message(job))
