"""The pipelines file's YAML, read within limits: plain data and the line of every place in it.

Before anything is built, one pass over the parser's events refuses a file nested too deep, an
alias that contains itself, and aliases that multiply into too many values — each of which
would otherwise end in a RecursionError, a crash of the C parser or minutes of work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from release_bot.bot.runtime.pipelines_config import PipelinesFileError, Place
from release_bot.core.quoting import shown

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_VALUES = 100_000


@dataclass(frozen=True)
class YamlDocument:
    """The file's data and, for each place (a path of keys and indexes), its line."""

    data: Any
    lines: dict[Place, int]

    def line(self, place: Place) -> int:
        """The line of the place, else of its nearest enclosing place, else 1."""
        for end in range(len(place), 0, -1):
            if place[:end] in self.lines:
                return self.lines[place[:end]]
        return 1


def read_yaml(text: str, source: str) -> YamlDocument:
    """Parse pipelines YAML; PipelinesFileError naming the file and line on any problem.

    libyaml is used when present (ten times faster); a file it refuses is parsed again in
    Python, whose error messages are the ones shown.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise PipelinesFileError(
            f"{source}: the file is larger than {MAX_BYTES // 1024 // 1024} MiB, far more than "
            "pipelines need; is it the right file?"
        )
    loaders: list[Callable[[str], Any]] = [_PythonLoader]
    if getattr(yaml, "__with_libyaml__", False):
        loaders.insert(0, _CLoader)
    for number, loader_class in enumerate(loaders, start=1):
        try:
            _check_shape(loader_class(text), source)
            return _compose(loader_class(text), source)
        except yaml.YAMLError as error:
            if number == len(loaders):
                raise PipelinesFileError(_not_yaml(error, text, source)) from None
    raise AssertionError("unreachable")


def _compose(loader: Any, source: str) -> YamlDocument:
    """The node tree, checked for keys written twice, and the data built from it."""
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDocument(None, {})
        twice = _duplicate_key(root)
        if twice is not None:
            raise PipelinesFileError(f"{source}:{twice.start_mark.line + 1}: "
                                     f"'{shown(twice.value)}' is given twice in the same place")
        lines: dict[Place, int] = {}
        _lines(root, (), lines, lambda key: _key(loader, key))
        return YamlDocument(loader.construct_document(root), lines)
    finally:
        loader.dispose()


def _not_yaml(error: yaml.YAMLError, text: str, source: str) -> str:
    """One line: where the YAML is broken and how."""
    mark = getattr(error, "problem_mark", None)
    position = getattr(error, "position", None)  # a ReaderError: a character YAML refuses
    if mark is not None:
        where = f"{source}:{mark.line + 1}"
    elif position is not None:
        where = f"{source}:{text.count(chr(10), 0, position) + 1}"
    else:
        where = source
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    if context and problem.startswith("but "):  # "expected a single document…, but found…"
        problem = f"{context}, {problem}"
    return f"{where}: not valid YAML: {shown(problem, 200)}"


class _Readable:
    """A loader whose scalars that cannot be built (a date like 2024-13-45, an integer of
    5,000 digits) are a YAML error at their line rather than a ValueError from deep inside."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Build one node's value, as the base loader does."""
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except (ValueError, OverflowError) as error:
            raise ConstructorError(
                None, None, f"'{shown(str(node.value), 40)}' cannot be read: "
                f"{shown(str(error), 80)}", node.start_mark
            ) from None


class _PythonLoader(_Readable, yaml.SafeLoader):
    """PyYAML's safe loader in Python, with readable scalars."""


class _CLoader(_Readable, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader, with readable scalars."""


@dataclass
class _Open:
    """A collection being read: its anchor, how many values it holds and how deep it goes."""

    anchor: str | None
    values: int = 1
    depth: int = 1


@dataclass
class _Shape:
    """Counts values and depth as events arrive, counting each alias as what it stands for."""

    source: str
    stack: list[_Open] = field(default_factory=list)
    anchors: dict[str, tuple[int, int]] = field(default_factory=dict)
    total: int = 0

    def event(self, event: yaml.Event) -> None:
        """Take one parser event into account; PipelinesFileError past a limit."""
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.CollectionStartEvent):
            self._grow(1, 1, line)
            self.stack.append(_Open(event.anchor))
        elif isinstance(event, yaml.CollectionEndEvent):
            done = self.stack.pop()
            if done.anchor is not None:
                self.anchors[done.anchor] = (done.values, done.depth)
            self._into_parent(done.values, done.depth)
        elif isinstance(event, yaml.ScalarEvent):
            self._grow(1, 0, line)
            self._into_parent(1, 0)
            if event.anchor is not None:
                self.anchors[event.anchor] = (1, 0)
        elif isinstance(event, yaml.AliasEvent) and event.anchor is not None:
            self._alias(event.anchor, line)

    def _alias(self, anchor: str, line: int) -> None:
        if any(open_.anchor == anchor for open_ in self.stack):
            raise PipelinesFileError(
                f"{self.source}:{line}: the alias *{shown(anchor, 40)} is inside the very "
                f"place it names (&{shown(anchor, 40)}), so it would never end: point it at "
                "an anchor outside it"
            )
        if anchor in self.anchors:  # an unknown anchor is the composer's to report
            values, depth = self.anchors[anchor]
            self._grow(values, depth, line)
            self._into_parent(values, depth)

    def _grow(self, values: int, depth: int, line: int) -> None:
        """A node of this many values and depth starts here."""
        self.total += values
        if len(self.stack) + depth > MAX_DEPTH:
            raise PipelinesFileError(
                f"{self.source}:{line}: nested more than {MAX_DEPTH} levels deep; a pipelines "
                "file needs a few levels — flatten it"
            )
        if self.total > MAX_VALUES:
            raise PipelinesFileError(
                f"{self.source}:{line}: the file holds more than {MAX_VALUES:,} values once its "
                "aliases are expanded; write each pipeline out instead of aliases of aliases"
            )

    def _into_parent(self, values: int, depth: int) -> None:
        """A finished node joins the collection it is in."""
        if self.stack:
            self.stack[-1].values += values
            self.stack[-1].depth = max(self.stack[-1].depth, depth + 1)


def _check_shape(loader: Any, source: str) -> None:
    """Read the events once and refuse, early, a file too deep, self-containing or too large."""
    shape = _Shape(source)
    try:
        while loader.check_event():
            shape.event(loader.get_event())
    finally:
        loader.dispose()


def _lines(
    node: yaml.Node, path: Place, out: dict[Place, int], build: Callable[[yaml.Node], Any]
) -> None:
    """The line of each place under node; keys as the data has them (`1:` is the number 1)."""
    out.setdefault(path, node.start_mark.line + 1)  # a mapping value: keep its key's line
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):  # a list or mapping as a key is no place
                place = (*path, build(key))
                out[place] = key.start_mark.line + 1
                _lines(value, place, out, build)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out, build)


def _key(loader: Any, node: yaml.Node) -> Any:
    """A mapping key as the data has it: `1:` is the number 1, `true:` the boolean."""
    if node.tag.rsplit(":", 1)[-1] in ("int", "float", "bool", "null"):
        return loader.construct_object(node)
    return node.value


def _duplicate_key(node: yaml.Node) -> yaml.Node | None:
    """The first key written twice in one mapping (YAML loaders silently keep the last)."""
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    return key
                seen.add(key.value)
            if (found := _duplicate_key(value)) is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if (found := _duplicate_key(item)) is not None:
                return found
    return None
