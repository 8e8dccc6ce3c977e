"""What import reads: an export with a UTF-8 BOM (as Windows editors save it) is taken;
``queuectl import`` with no file and stdin on a terminal says what it wants instead of
waiting silently for a paste."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli_terminal_output import _on_a_terminal
from tests.helpers import Cli, as_json

from queuectl import Queue


def _export(cli: Cli, tmp_path: Path) -> str:
    source = tmp_path / "source.db"
    cli("--db", str(source), "enqueue", "-c", "echo 1", "--id", "one")
    return cli("--db", str(source), "export").stdout


def test_an_export_starting_with_a_bom_is_imported(cli: Cli, tmp_path: Path) -> None:
    exported = _export(cli, tmp_path)
    with_bom = tmp_path / "bom.jsonl"
    with_bom.write_bytes(b"\xef\xbb\xbf" + exported.encode())
    for name, args, given in (("file.db", [str(with_bom)], None),
                              ("stdin.db", [], "\ufeff" + exported)):
        target = tmp_path / name
        result = cli("--db", str(target), "import", *args, input=given)
        assert result.stdout.startswith("Imported 1 job(s)"), result
        with Queue(target, create=False) as queue:
            assert [job.id for job in queue.jobs()] == ["one"]


def test_import_without_a_file_on_a_terminal_says_what_it_wants(
    cli: Cli, tmp_path: Path,
) -> None:
    target = tmp_path / "new.db"
    output, code = _on_a_terminal(cli, "--db", str(target), "import", timeout=20)
    assert code == 2
    assert output == (b"error: give the export to import: queuectl import queue.jsonl, or "
                      b"pipe it in: queuectl export | queuectl --db ... import\r\n")
    assert not target.exists()


def test_a_unique_key_held_by_a_live_job_here_is_named(either_cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    either_cli("--db", str(source), "enqueue", "-c", "echo s", "--unique-key", "nightly",
               "--id", "theirs")
    exported = either_cli("--db", str(source), "export").stdout
    either_cli("enqueue", "-c", "echo here", "--unique-key", "nightly", "--id", "ours")
    refused = either_cli("import", input=exported, check=1)
    assert refused.stderr == ("error: job 'theirs' has unique key 'nightly', which live job "
                              "'ours' holds already: nothing imported\n")
    assert [job["id"] for job in as_json(either_cli("list", "--json"))] == ["ours"]
