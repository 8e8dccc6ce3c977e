"""``Queue`` is made of parts (queue/__init__.py): each defines its own verbs, and reads on its
own because it uses nothing of ``Queue`` but what ``QueueCore`` holds."""

from __future__ import annotations

import ast
import inspect
import sys

import queuectl
from queuectl.queue import Queue, QueueCore

PARTS = [part for part in Queue.__mro__[1:] if issubclass(part, QueueCore)
         and part is not QueueCore]


def test_queue_is_its_parts_and_is_the_public_queue() -> None:
    assert queuectl.Queue is Queue
    assert [part.__module__.rpartition(".")[2] for part in PARTS] == [
        "reads", "changes", "workers", "history", "admin"]
    assert vars(Queue).keys() <= {"__module__", "__doc__", "__qualname__"}


def test_no_two_parts_define_the_same_name() -> None:
    # The method resolution order would silently pick one of them.
    seen: dict[str, str] = {name: "QueueCore" for name in vars(QueueCore)
                            if not name.startswith("__")}
    for part in PARTS:
        for name in vars(part):
            if not name.startswith("__"):
                assert name not in seen, f"{part.__name__}.{name} hides {seen[name]}.{name}"
                seen[name] = part.__name__


def test_each_part_uses_only_itself_and_the_core() -> None:
    core = set(dir(QueueCore)) | {"storage", "clock", "_environ", "_given_clock", "_enqueuer"}
    for part in PARTS:
        tree = ast.parse(inspect.getsource(sys.modules[part.__module__]))
        used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name) and node.value.id == "self"}
        beyond = used - core - set(vars(part))
        assert not beyond, f"{part.__name__} uses {sorted(beyond)} of another part"
