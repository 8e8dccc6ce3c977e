"""``typing.NamedTuple`` without importing ``typing``.

Every ``queuectl enqueue`` makes its settings and its jobs as named tuples, and importing
``typing`` (with the ``re``, ``contextlib`` and ``functools`` it brings) costs more than the
enqueue's own work. Modules write ``class NewJob(NamedTuple)`` as usual; mypy sees
``typing.NamedTuple``, and at run time this module builds the same class with
``collections.namedtuple``: the fields in the order annotated, the defaults given, and the
methods and docstring of the class body.

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from typing import NamedTuple
    else:
        from .named_tuple import NamedTuple
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_NOT_COPIED = frozenset({"__module__", "__qualname__", "__annotations__", "__dict__",
                         "__weakref__", "_is_base"})


class _NamedTupleMeta(type):
    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        if namespace.get("_is_base"):
            return super().__new__(mcls, name, bases, namespace)
        fields = list(namespace.get("__annotations__", {}))
        defaults = [namespace[field] for field in fields if field in namespace]
        if fields[len(fields) - len(defaults):] != [f for f in fields if f in namespace]:
            raise TypeError(f"{name}: a field without a default follows one with a default")
        made = namedtuple(name, fields, defaults=defaults,  # type: ignore[misc]
                          module=namespace.get("__module__"))
        made.__qualname__ = namespace.get("__qualname__", name)
        for key, value in namespace.items():
            if key not in _NOT_COPIED and key not in fields:
                setattr(made, key, value)
        return made


class NamedTuple(metaclass=_NamedTupleMeta):
    """Base of a named tuple class: ``class Point(NamedTuple): x: int; y: int = 0``."""

    _is_base = True
