"""Strict YAML loading that remembers line numbers, so every error can name its file and line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class LineDict(dict):
    """A mapping from YAML that knows the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """Return the line where ``key`` stands, or the mapping's own line."""
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence from YAML that knows the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


#: Nodes a document may have with its aliases expanded: refuses "billion laughs" alias bombs,
#: whose few lines expand to more nodes than memory or any walk over them could take.
MAX_NODES = 200_000


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    key = id(node)
    if key in sizes:
        if sizes[key] < 0:
            raise yaml.composer.ComposerError(
                None,
                None,
                "expected no alias inside its own anchor, found a recursive one",
                node.start_mark,
            )
        return sizes[key]
    sizes[key] = -1
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded_size(child, sizes)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _expanded_size(k, sizes) + _expanded_size(v, sizes)
    if total > MAX_NODES:
        raise yaml.composer.ComposerError(
            None,
            None,
            f"expected at most {MAX_NODES} nodes with aliases expanded, found "
            f"more (an alias bomb?)",
            node.start_mark,
        )
    sizes[key] = total
    return total


class _Loader(yaml.SafeLoader):
    """A safe loader (no Python tags) that records lines and rejects duplicate keys."""

    def get_single_data(self) -> Any:
        """Compose the document, refuse it if aliases expand it too far, then construct it."""
        node = self.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {})
        return self.construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, "expected a scalar key", key_node.start_mark
                )
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            out[key] = self.construct_object(value_node, deep=True)
            out.key_lines[str(key)] = key_node.start_mark.line + 1
        return out

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        out = LineList(self.construct_object(child, deep=True) for child in node.value)
        out.line = node.start_mark.line + 1
        out.item_lines = [child.start_mark.line + 1 for child in node.value]
        return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _Loader.construct_sequence)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a configuration file."""

    file: str
    line: int
    where: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        key = f" {self.key}:" if self.key else ""
        return f"{self.file}:{self.line}:{where}{key} {self.message}"


class ConfigError(Exception):
    """One or more problems found in configuration files."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


#: PyYAML's scanner takes time quadratic in the nesting of flow collections (a 6 kB file of
#: brackets took seconds), so deeper nesting is refused before parsing.
MAX_FLOW_DEPTH = 64


def _too_deep_line(text: str) -> int:
    r"""Return the line where ``[``/``{`` nest deeper than allowed, or 0 (quotes not parsed).

    >>> _too_deep_line("a: [1, {b: 2}]"), _too_deep_line("a:\n" + "[" * 65)
    (0, 2)
    """
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return 0
    depth, line = 0, 1
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return line
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch == "\n":
            line += 1
    return 0


def load_yaml(path: str | Path, max_bytes: int = 4 << 20) -> Any:
    """Load one YAML document with a safe loader, raising ConfigError naming file and line."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ConfigError(
                [
                    Problem(
                        str(path),
                        1,
                        "",
                        "",
                        f"expected a file of at most {max_bytes} bytes, found {size}",
                    )
                ]
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), 1, "", "", f"cannot read: {exc}")]) from None
    deep = _too_deep_line(text)
    if deep:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    deep,
                    "",
                    "",
                    f"expected [ ] and {{ }} nested at most {MAX_FLOW_DEPTH} deep, found deeper",
                )
            ]
        )
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or str(exc)
        raise ConfigError([Problem(str(path), line, "", "", f"invalid YAML: {what}")]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError([Problem(str(path), 1, "", "", f"invalid YAML: {exc}")]) from None


def describe(value: Any) -> str:
    """Describe a found value briefly for an error message.

    >>> describe([1, 2])
    'a list'
    >>> describe("3x")
    "'3x'"
    """
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Checker:
    """Collects problems while walking one YAML file; keeps error messages uniform."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, line: int, where: str, key: str, message: str) -> None:
        """Record a problem."""
        self.problems.append(Problem(self.file, line, where, key, message))

    def expect(self, node: LineDict, key: str, where: str, expected: str, found: Any) -> None:
        """Record an ``expected ..., found ...`` problem at ``key`` of ``node``."""
        self.add(node.line_of(key), where, key, f"expected {expected}, found {describe(found)}")

    def mapping(self, node: Any, where: str, key: str, line: int) -> LineDict | None:
        """Return ``node`` if it is a mapping, else record a problem."""
        if isinstance(node, LineDict):
            return node
        self.add(line, where, key, f"expected a mapping, found {describe(node)}")
        return None

    def known_keys(
        self, node: LineDict, allowed: Iterable[str], where: str, required: Iterable[str] = ()
    ) -> None:
        """Record unknown and missing keys of ``node``."""
        allowed = list(allowed)
        for key in node:
            if key not in allowed:
                self.add(
                    node.line_of(str(key)),
                    where,
                    str(key),
                    f"expected one of {', '.join(allowed)}, found unknown key {key!r}",
                )
        for key in required:
            if key not in node:
                self.add(node.line, where, key, "expected this key, found it missing")

    def raise_if_any(self) -> None:
        """Raise ConfigError if any problem was recorded."""
        if self.problems:
            raise ConfigError(self.problems)
