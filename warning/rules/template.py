"""Message templates: ``{placeholder[:format]}`` with names, ``sensor.KEY`` or expressions."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from warning.indicators.trend import format_eta
from warning.lang import DEFAULT, LEVEL_WORDS, normalize, pick
from warning.rules.compile import Context, compile_node
from warning.rules.expr import ExprError, Node, check, parse, sensor_keys

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
#: Names a template may use besides values and expressions.
EVENT_NAMES = frozenset({"level", "hazard", "subject", "region", "rule_id", "event"})


def _split_spec(text: str) -> tuple[str, str]:
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            depth -= 1
        elif ch == ":" and depth == 0:
            return text[:i].strip(), text[i + 1 :]
    return text.strip(), ""


@dataclass(frozen=True)
class Template:
    """A compiled message template; the format spec ``eta`` says hours as "about 2 h 10 min".

    >>> t = Template.parse("{sensor.name}: {sum(rain_mm, 3h):.0f} mm", {"rain_mm"}, set())
    >>> from warning.rules.windows import Series
    >>> s = Series(); s.add(0, 57.46)
    >>> t.render(Context({"rain_mm": s}, {"name": "Gauge 1"}, 0), {}, {})
    'Gauge 1: 57 mm'
    """

    parts: tuple[str | Template | tuple[str, str, Callable[..., Any]], ...]
    nodes: tuple[Node, ...] = ()

    @property
    def sensor_keys(self) -> frozenset[str]:
        """The registry keys it reads: ``{sensor.KEY}`` placeholders and those in expressions."""
        keys = sensor_keys(self.nodes)
        for part in self.parts:
            if isinstance(part, Template):
                keys |= part.sensor_keys
            elif isinstance(part, tuple) and part[0].startswith("sensor."):
                keys.add(part[0][7:])
        return frozenset(keys)

    @classmethod
    def parse(
        cls, text: str, fields: frozenset[str] | set[str] | None, value_names: set[str]
    ) -> Template:
        """Compile a template, raising ExprError for a bad placeholder or clause.

        A clause in double brackets is left out when a placeholder in it is unknown (other
        than an ``eta``, which says "not approaching"): ``[[; warning level
        {sensor.warning_level_m} m]]`` says nothing at a station without a warning level.
        """
        _check_braces(text)
        if "[[" not in text and "]]" not in text:
            return cls._parse_plain(text, fields, value_names)
        parts: list[str | Template | tuple[str, str, Callable[..., Any]]] = []
        nodes: list[Node] = []
        for i, piece in enumerate(_clauses(text)):
            inner = cls._parse_plain(piece, fields, value_names)
            parts.extend([inner] if i % 2 else inner.parts)
            nodes.extend(inner.nodes)
        return cls(tuple(parts), tuple(nodes))

    @classmethod
    def _parse_plain(
        cls, text: str, fields: frozenset[str] | set[str] | None, value_names: set[str]
    ) -> Template:
        parts: list[str | Template | tuple[str, str, Callable[..., Any]]] = []
        nodes: list[Node] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(text):
            parts.append(text[pos : m.start()])
            key, spec = _split_spec(m.group(1))
            try:
                if spec != "eta":
                    format(1.5, spec)
            except ValueError:
                msg = f"expected a format spec such as .1f in {{{m.group(1)}}}, found {spec!r}"
                raise ExprError(msg) from None
            parts.append((key, spec, cls._getter(key, fields, value_names, nodes)))
            pos = m.end()
        parts.append(text[pos:])
        return cls(tuple(p for p in parts if p != ""), tuple(nodes))

    @staticmethod
    def _getter(
        key: str, fields: Any, value_names: set[str], nodes: list[Node]
    ) -> Callable[..., Any]:
        if key.startswith("sensor."):
            attr = key[7:]
            return lambda ctx, values, event: _sensor_attr(ctx.sensor, attr, event)
        if key in EVENT_NAMES:
            return lambda ctx, values, event: event.get(key)
        if key in value_names:
            return lambda ctx, values, event: values.get(key)
        node = parse(key)
        try:
            check(node, frozenset(fields) if fields is not None else None, boolean=False)
        except ExprError:
            if not key.isidentifier() or fields is None:
                raise
            named = sorted(value_names) + sorted(EVENT_NAMES)
            msg = (
                f"expected a value name ({', '.join(named)}), a field ({', '.join(sorted(fields))}) "
                f"or sensor.KEY, found unknown name {key!r}"
            )
            raise ExprError(msg) from None
        nodes.append(node)
        compiled = compile_node(node)
        return lambda ctx, values, event: compiled(ctx)

    def render(self, ctx: Context, values: Mapping[str, Any], event: Mapping[str, Any]) -> str:
        """Render with the evaluation context, the warning's values and event fields.

        ``event["language"]`` picks the sensor's name (``sensor.names``) and the words of
        ``eta`` in that language.
        """
        return self._render(ctx, values, event, clause=False) or ""

    def _render(
        self, ctx: Context, values: Mapping[str, Any], event: Mapping[str, Any], clause: bool
    ) -> str | None:
        """Render; ``None`` for a clause with an unknown placeholder (it is left out)."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            if isinstance(part, Template):
                out.append(part._render(ctx, values, event, clause=True) or "")
                continue
            name, spec, get = part
            value = get(ctx, values, event)
            if clause and value is None and spec != "eta":
                return None
            if name == "level" and isinstance(value, str):  # the colour, in the text's words
                value = LEVEL_WORDS.get(normalize(str(event.get("language") or DEFAULT)), {}).get(
                    value, value
                )
            if spec == "eta":  # hours until a threshold, said as a duty officer would
                out.append(
                    format_eta(
                        value if isinstance(value, int | float) else None,
                        str(event.get("language") or DEFAULT),
                    )
                )
            elif value is None:  # said in the text's language
                out.append("—" if str(event.get("language", "")).startswith("zh") else "n/a")
            else:
                try:
                    out.append(format(value, spec))
                except (ValueError, TypeError):
                    out.append(str(value))
        return "".join(out)


def _check_braces(text: str) -> None:
    """Raise ExprError for a ``{`` or ``}`` outside a placeholder (it would reach officers)."""
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        _stray(text, pos, m.start())
        pos = m.end()
    _stray(text, pos, len(text))


def _stray(text: str, start: int, end: int) -> None:
    piece = text[start:end]
    if "{" in piece:
        at = start + piece.index("{") + 1
        msg = f"expected }} to close the {{ at character {at} (braces only enclose placeholders)"
        raise ExprError(msg)
    if "}" in piece:
        at = start + piece.index("}") + 1
        msg = f"}} at character {at} closes no {{ (braces only enclose placeholders)"
        raise ExprError(msg)


def _clauses(text: str) -> list[str]:
    """Split ``text`` at its ``[[``/``]]`` pairs: plain, clause, plain, ... (never nested)."""
    pieces, pos = [], 0
    while (start := text.find("[[", pos)) >= 0:
        end = text.find("]]", start + 2)
        if end < 0 or "[[" in text[start + 2 : end]:
            msg = f"a clause opened by [[ at character {start + 1} is not closed by ]]"
            raise ExprError(msg)
        pieces += [text[pos:start], text[start + 2 : end]]
        pos = end + 2
    if "]]" in text[pos:]:
        msg = f"]] at character {text.index(']]', pos) + 1} closes no clause"
        raise ExprError(msg)
    return [*pieces, text[pos:]]


def _sensor_attr(sensor: Mapping[str, Any], attr: str, event: Mapping[str, Any]) -> Any:
    """Return a registry attribute; ``name`` in the event's language when names are given."""
    names = sensor.get("names") if attr == "name" else None
    if isinstance(names, Mapping) and names:
        return pick(names, str(event.get("language") or DEFAULT))
    return sensor.get(attr)
