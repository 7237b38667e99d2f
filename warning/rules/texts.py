"""Texts of rule files: per-level and per-language messages, value labels, decisive values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from warning.lang import ANY, LANGUAGES, normalize
from warning.records import LEVEL_NAMES, Level
from warning.rules.compile import Compiled, compile_node
from warning.rules.expr import (
    Compare,
    Field,
    Indicator,
    Node,
    Window,
    value_name,
    walk,
)
from warning.yamlfile import Checker, LineDict, Problem, describe

#: Texts of one level: language (or ANY) -> text.
Texts = dict[str, str]
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
VALUE_KEYS = ("expr", "label", "unit")


@dataclass(frozen=True)
class Decisive:
    """A value the level condition compares with a threshold, e.g. rain in 3 h >= 100."""

    name: str
    op: str
    threshold: Compiled
    test: Compiled


def is_language(key: object) -> bool:
    """Tell whether a mapping key names a language (``zh-CN``, ``en``, ``zh``...).

    >>> is_language("zh-CN"), is_language("en"), is_language("red")
    (True, True, False)
    """
    return isinstance(key, str) and (
        normalize(key) in LANGUAGES
        or (
            len(key) in (2, 5)
            and key[:2].isalpha()
            and key[:2].islower()
            and key not in LEVEL_NAMES
            and (len(key) == 2 or key[2] == "-")
        )
    )


def per_language(
    value: Any, where: str, key: str, node: LineDict, c: Checker, line: int | None = None
) -> Texts | None:
    """Read a text, or a mapping of language to text; report anything else."""
    if isinstance(value, str):
        return {ANY: value}
    if isinstance(value, LineDict) and value and all(is_language(k) for k in value):
        out: Texts = {}
        for lang, text in value.items():
            if not isinstance(text, str):
                c.add(
                    value.line_of(str(lang)),
                    where,
                    f"{key}.{lang}",
                    f"expected a text, found {describe(text)}",
                )
                continue
            out[normalize(str(lang))] = text
        return out
    c.add(
        line or node.line_of(key),
        where,
        key,
        f"expected a text or texts per language ({', '.join(LANGUAGES)}), found {describe(value)}",
    )
    return None


def per_level(node: LineDict, key: str, where: str, c: Checker) -> dict[Level | None, Texts]:
    """Read ``key`` as one text, texts per language, or per level (each one or per language)."""
    value = node.get(key)
    if value is None:
        return {}
    if isinstance(value, LineDict) and value and all(k in LEVEL_NAMES for k in value):
        out: dict[Level | None, Texts] = {}
        for name, text in value.items():
            texts = per_language(text, where, f"{key}.{name}", value, c, value.line_of(str(name)))
            if texts is not None:
                out[Level.parse(name)] = texts
        return out
    if isinstance(value, LineDict) and not all(is_language(k) for k in value):
        for name, text in value.items():
            if name not in LEVEL_NAMES and not is_language(name):
                c.add(
                    value.line_of(str(name)),
                    where,
                    f"{key}.{name}",
                    f"expected a level ({', '.join(LEVEL_NAMES)}) or a language "
                    f"({', '.join(LANGUAGES)}) with a text, found {describe(name)}: "
                    f"{describe(text)}",
                )
        if any(k in LEVEL_NAMES for k in value) and any(is_language(k) for k in value):
            c.add(
                node.line_of(key),
                where,
                key,
                "expected levels or languages as keys, "
                "found both (give each level its texts per language)",
            )
        return {}
    texts = per_language(value, where, key, node, c)
    return {None: texts} if texts is not None else {}


@dataclass(frozen=True)
class ValueSpec:
    """A named value: its expression text, and its label and unit per language."""

    expr: Any
    label: Texts
    unit: Texts


def value_spec(name: str, raw: Any, where: str, values: LineDict, c: Checker) -> ValueSpec:
    """Read ``name: EXPR`` or ``name: {expr, label, unit}`` of a ``values`` mapping."""
    if not isinstance(raw, LineDict):
        return ValueSpec(raw, {}, {})
    key = f"values.{name}"
    c.known_keys(raw, VALUE_KEYS, f"{where}: {key}", required=("expr",))
    label = per_language(raw["label"], where, f"{key}.label", raw, c) if "label" in raw else {}
    unit = per_language(raw["unit"], where, f"{key}.unit", raw, c) if "unit" in raw else {}
    return ValueSpec(raw.get("expr"), label or {}, unit or {})


def missing_languages(texts: Mapping[str, str], languages: tuple[str, ...]) -> list[str]:
    """Return the languages of ``languages`` that ``texts`` has no text for.

    >>> missing_languages({"*": "x"}, ("zh-CN", "en")), missing_languages({"en": "x"}, ("en",))
    (['zh-CN', 'en'], [])
    """
    return [lang for lang in languages if lang not in texts]


def decisive_of(condition: Node, values: Mapping[str, Node]) -> tuple[Decisive, ...]:
    """Return the comparisons of named values with thresholds in a level condition.

    A comparison counts when one side is a named value (or a field or function that names
    one) and the other side reads no measurement (a number or sensor attribute).
    """
    out = []
    for sub in walk(condition):
        if not isinstance(sub, Compare) or sub.op not in _FLIP:
            continue
        for side, other, op in (
            (sub.left, sub.right, sub.op),
            (sub.right, sub.left, _FLIP[sub.op]),
        ):
            name = _named(side, values)
            if name and not any(isinstance(n, Field | Window | Indicator) for n in walk(other)):
                out.append(Decisive(name, op, compile_node(other), compile_node(sub)))
                break
    return tuple(out)


def _named(node: Node, values: Mapping[str, Node]) -> str | None:
    for name, tree in values.items():
        if tree == node:
            return name
    if isinstance(node, Field | Window | Indicator) and value_name(node) in values:
        return value_name(node)
    return None


def language_problems(rules: Any, languages: tuple[str, ...]) -> list[Problem]:
    """Return what the rules lack to speak ``languages``: texts, and labels of their values.

    ``rules`` are loaded rules (``warning.rules.load.Rule``); a text given as a single string
    is in no particular language, so it is reported too.
    """
    out = []
    for rule in rules:
        where = f"rule {rule.id!r}"
        for key, per_level in (("message", rule.message), ("instruction", rule.instruction)):
            missing = sorted(
                {
                    lang
                    for texts in per_level.values()
                    for lang in missing_languages(texts, languages)
                },
                key=languages.index,
            )
            if missing:
                out.append(
                    Problem(
                        rule.file,
                        rule.line,
                        where,
                        key,
                        f"expected a text in {', '.join(missing)} (the routing file "
                        f"sends them), found none",
                    )
                )
        nd = rule.no_data
        if nd is not None and (
            missing_languages(nd.message, languages) or missing_languages(nd.instruction, languages)
        ):
            out.append(
                Problem(
                    rule.file,
                    rule.line,
                    where,
                    "no_data.message",
                    f"expected texts in {', '.join(languages)}, found "
                    f"{', '.join(sorted(nd.message)) or 'none'}",
                )
            )
        if not rule.levels:
            continue
        for name, _ in rule.values:
            missing = missing_languages(rule.labels.get(name) or {}, languages)
            if missing:
                out.append(
                    Problem(
                        rule.file,
                        rule.line,
                        where,
                        f"values.{name}",
                        f"expected a label in {', '.join(missing)} (messages show "
                        f"it to officers), found none",
                    )
                )
    return out
