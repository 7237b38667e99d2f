"""Load rule files: strict YAML, expressions parsed and checked, every error located."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from warning.kinds import BUILTIN_KINDS, Kind
from warning.records import LEVEL_NAMES, Level, parse_duration_ms
from warning.registry import ID_RULE, Registry, is_id
from warning.rules.area_load import AreaRule, area_rule
from warning.rules.compile import Compiled, compile_node
from warning.rules.expr import (
    Ahead,
    ExprError,
    Field,
    Indicator,
    Node,
    Window,
    check,
    looks_ahead,
    parse,
    sensor_keys,
    value_name,
    walk,
)
from warning.rules.functions import FWI_FIELDS, SERIES_FUNCTIONS
from warning.rules.reach import unreachable_reason
from warning.rules.template import Template
from warning.rules.texts import Decisive, Texts, decisive_of, per_language, per_level, value_spec
from warning.yamlfile import (
    Checker,
    ConfigError,
    LineDict,
    LineList,
    Problem,
    describe,
    load_yaml,
)

RULE_KEYS = (
    "id",
    "hazard",
    "for_kind",
    "description",
    "source",
    "regions",
    "sensors",
    "levels",
    "for",
    "hold",
    "clear",
    "no_data",
    "values",
    "message",
    "instruction",
)
NO_DATA_KEYS = ("after", "level", "hazard", "message", "instruction")


@dataclass(frozen=True)
class Condition:
    """A parsed and compiled boolean expression with its source text."""

    text: str
    node: Node
    test: Compiled


@dataclass(frozen=True)
class NoData:
    """Silence handling: a sensor unheard for ``after_ms`` raises a warning of its own."""

    after_ms: int
    level: Level
    hazard: str
    message: Mapping[str, Template]  # language (or "*") -> template
    instruction: Texts


@dataclass(frozen=True)
class Rule:
    """One rule from a rule file, ready to evaluate."""

    id: str
    hazard: str
    kinds: tuple[str, ...]
    levels: tuple[tuple[Level, Condition], ...]  # highest level first
    for_ms: int = 0
    hold_ms: int = 0
    clear: Condition | None = None
    no_data: NoData | None = None
    values: tuple[tuple[str, Compiled], ...] = ()
    message: Mapping[Level, Mapping[str, Template]] = field(default_factory=dict)
    instruction: Mapping[Level, Texts] = field(default_factory=dict)
    labels: Mapping[str, Texts] = field(default_factory=dict)  # value name -> label per language
    units: Mapping[str, Texts] = field(default_factory=dict)
    decisive: Mapping[Level, tuple[Decisive, ...]] = field(default_factory=dict)
    regions: frozenset[str] | None = None
    sensors: frozenset[str] | None = None
    file: str = ""
    line: int = 0
    horizons: Mapping[str, int] = field(default_factory=dict)  # field -> longest window, ms
    sensor_keys: frozenset[str] = frozenset()  # the registry keys it reads (``sensor.KEY``)

    def applies_to(self, sensor_id: str, kind: str, region: str) -> bool:
        """Return True if this rule watches the given sensor."""
        return (
            kind in self.kinds
            and (self.regions is None or region in self.regions)
            and (self.sensors is None or sensor_id in self.sensors)
        )

    @cached_property
    def looks_ahead(self) -> bool:
        """Return True if a level condition reads a forecast or nowcast (asked per reading)."""
        return any(looks_ahead(cond.node) for _, cond in self.levels)

    @property
    def silence_id(self) -> str:
        """The rule id under which this rule's silence warnings are raised."""
        return f"{self.id}.no_data"


@dataclass(frozen=True)
class IndicatorSpec:
    """Named values computed and stored on every reading of the sensors it watches."""

    id: str
    kinds: tuple[str, ...]
    values: tuple[tuple[str, Compiled], ...]
    regions: frozenset[str] | None = None
    sensors: frozenset[str] | None = None
    horizons: Mapping[str, int] = field(default_factory=dict)
    #: A value keeps work in its series between readings (``Function.prepare``): computed on
    #: every reading even when no sink takes the records, so later values stay the same.
    keeps_memo: bool = False

    def applies_to(self, sensor_id: str, kind: str, region: str) -> bool:
        """Return True if this spec watches the given sensor."""
        return (
            kind in self.kinds
            and (self.regions is None or region in self.regions)
            and (self.sensors is None or sensor_id in self.sensors)
        )


@dataclass(frozen=True)
class RuleSet:
    """All loaded rules and indicator specs, indexed by sensor kind."""

    rules: tuple[Rule, ...]
    indicators: tuple[IndicatorSpec, ...] = ()
    areas: tuple[AreaRule, ...] = ()  # rules whose subject is an area (rules/area_load.py)

    def for_kind(self, kind: str) -> tuple[Rule, ...]:
        """Return the rules that may apply to sensors of ``kind``."""
        return tuple(r for r in self.rules if kind in r.kinds)

    def horizons(self, kind: str) -> dict[str, int]:
        """Return, per field of ``kind``, the longest look-back of any rule or indicator."""
        out: dict[str, int] = {}
        watchers: list[Any] = [
            *self.for_kind(kind),
            *(s for s in self.indicators if kind in s.kinds),
            *(i for a in self.areas for i in a.inputs if kind in i.kinds),
        ]
        for w in watchers:
            for name, ms in w.horizons.items():
                out[name] = max(out.get(name, 0), ms)
        return out


def horizons_of(tree: Node) -> dict[str, int]:
    """Return how far back each field must be kept for an expression, in ms."""
    out: dict[str, int] = {}

    def need(name: str, ms: int) -> None:
        out[name] = max(out.get(name, 0), ms)

    for sub in walk(tree):
        if isinstance(sub, Window):
            need(sub.field, sub.duration_ms or 0)
        elif isinstance(sub, Field):
            need(sub.name, 0)
        elif isinstance(sub, Indicator) and sub.field is None:
            for name, ms in FWI_FIELDS.items():
                need(name, ms)
        elif isinstance(sub, Indicator) and sub.field is not None:
            need(sub.field, sub.duration_ms or SERIES_FUNCTIONS[sub.func].horizon_ms)
    return out


def rule_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and directories into rule files (``*.yaml``, not ``*.test.yaml``)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                f
                for f in sorted(p.glob("*.y*ml"))
                if not f.name.endswith((".test.yaml", ".test.yml"))
            )
        else:
            out.append(p)
    return out


def load_rules(paths: Iterable[str | Path], kinds: Mapping[str, Kind] = BUILTIN_KINDS) -> RuleSet:
    """Load and check every rule file; raise ConfigError listing every problem found."""
    problems = []
    rules: list[Rule] = []
    areas: list[AreaRule] = []
    specs: list[IndicatorSpec] = []
    seen: dict[str, str] = {}
    files = rule_files(paths)
    if not files:
        raise ConfigError(
            [_problem(str(p), "expected rule files (*.yaml), found none") for p in paths]
        )
    for path in files:
        checker = Checker(str(path))
        try:
            doc = load_yaml(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        for rule in _rules_of(doc, checker, kinds):
            if rule.id in seen:
                checker.add(
                    rule.line,
                    f"rule {rule.id!r}",
                    "id",
                    f"expected a unique id, found one already used in {seen[rule.id]}",
                )
            seen.setdefault(rule.id, f"{path}:{rule.line}")
            if isinstance(rule, AreaRule):
                areas.append(rule)
            else:
                rules.append(rule)
        specs.extend(_indicators_of(doc, checker, kinds))
        problems.extend(checker.problems)
    if problems:
        raise ConfigError(problems)
    return RuleSet(tuple(rules), tuple(specs), tuple(areas))


def _problem(file: str, message: str) -> Problem:
    return Problem(file, 1, "", "", message)


def _kind_fields(
    node: LineDict, where: str, c: Checker, kinds: Mapping[str, Kind]
) -> tuple[tuple[str, ...], frozenset[str] | None]:
    """Return the kinds named by ``for_kind`` and the union of their fields."""
    kind_names = _names(node, "for_kind", where, c) or ()
    fields: set[str] = set()
    for k in kind_names:
        if k not in kinds:
            c.add(
                node.line_of("for_kind"),
                where,
                "for_kind",
                f"expected a kind among {', '.join(sorted(kinds))}, found {k!r}",
            )
        else:
            fields |= kinds[k].field_names
    return kind_names, frozenset(fields) if fields else None


def _named_values(
    node: LineDict, where: str, c: Checker, fields: frozenset[str] | None
) -> list[tuple[str, Node, Texts, Texts]] | None:
    """Parse ``values:``: name to expression, or to {expr, label, unit} (None when absent)."""
    raw = node.get("values")
    if raw is None:
        return None
    if not isinstance(raw, LineDict) or not raw:
        c.expect(node, "values", where, "a mapping of name to expression", raw)
        return []
    out = []
    for name, item in raw.items():
        spec = value_spec(str(name), item, where, raw, c)
        try:
            tree = _expression(spec.expr, fields, boolean=False)
        except ExprError as exc:
            c.add(raw.line_of(str(name)), where, f"values.{name}", str(exc))
            continue
        out.append((str(name), tree, spec.label, spec.unit))
    return out


def _expression(text: Any, fields: frozenset[str] | None, boolean: bool) -> Node:
    """Parse and check one expression from a rule file; raise ExprError saying what is wrong."""
    if not isinstance(text, str):
        raise ExprError(f"expected an expression string, found {describe(text)}")
    tree = parse(text)
    check(tree, fields, boolean=boolean)
    return tree


def _indicators_of(doc: Any, c: Checker, kinds: Mapping[str, Kind]) -> list[IndicatorSpec]:
    items = doc.get("indicators") if isinstance(doc, LineDict) else None
    if items is None:
        return []
    if not isinstance(items, LineList):
        c.expect(doc, "indicators", "", "a list of indicators", items)
        return []
    out = []
    for i, item in enumerate(items):
        node = c.mapping(item, f"indicator #{i + 1}", "", items.item_lines[i])
        if node is None:
            continue
        iid = node.get("id")
        where = f"indicator {iid!r}" if isinstance(iid, str) else f"indicator #{i + 1}"
        before = len(c.problems)
        c.known_keys(
            node,
            ("id", "for_kind", "regions", "sensors", "values", "description"),
            where,
            required=("id", "for_kind", "values"),
        )
        kind_names, fields = _kind_fields(node, where, c, kinds)
        values: list[tuple[str, Compiled]] = []
        horizons: dict[str, int] = {}
        keeps_memo = False
        for name, tree, _, _ in _named_values(node, where, c, fields) or ():
            values.append((name, compile_node(tree)))
            for f, ms in horizons_of(tree).items():
                horizons[f] = max(horizons.get(f, 0), ms)
            keeps_memo = keeps_memo or any(
                isinstance(sub, Indicator)
                and getattr(SERIES_FUNCTIONS.get(sub.func), "prepare", None) is not None
                for sub in walk(tree)
            )
        regions = _names(node, "regions", where, c)
        sensors = _names(node, "sensors", where, c)
        if len(c.problems) == before:
            out.append(
                IndicatorSpec(
                    str(iid),
                    kind_names,
                    tuple(values),
                    frozenset(regions) if regions else None,
                    frozenset(sensors) if sensors else None,
                    horizons,
                    keeps_memo,
                )
            )
    return out


def _rules_of(doc: Any, c: Checker, kinds: Mapping[str, Kind]) -> list[Rule | AreaRule]:
    if not isinstance(doc, LineDict) or ("rules" not in doc and "indicators" not in doc):
        found = describe(doc)
        if isinstance(doc, LineDict):
            keys = ", ".join(map(str, list(doc)[:5]))
            found = f"a mapping of {keys}" if keys else "an empty mapping"
            if "cases" in doc:
                found += " (a rule test file: run it with `hazard-warning rules test`)"
        c.add(
            getattr(doc, "line", 1),
            "",
            "rules",
            f"expected a mapping with a 'rules' list, found {found}",
        )
        return []
    c.known_keys(doc, ["rules", "indicators"], "")
    if "rules" not in doc:
        return []
    items = doc["rules"]
    if not isinstance(items, LineList):
        c.expect(doc, "rules", "", "a list of rules", items)
        return []
    out: list[Rule | AreaRule] = []
    for i, item in enumerate(items):
        node = c.mapping(item, f"rule #{i + 1}", "", items.item_lines[i])
        if node is not None:
            rule = area_rule(node, c, kinds, i) if "area" in node else _rule(node, c, kinds, i)
            if rule is not None:
                out.append(rule)
    return out


def _duration(node: LineDict, key: str, where: str, c: Checker, default: int = 0) -> int:
    value = node.get(key)
    if value is None:
        return default
    try:
        if not isinstance(value, str):
            raise ValueError
        return parse_duration_ms(value)
    except ValueError:
        c.expect(node, key, where, "a duration like 30s, 10m, 3h or 1d", value)
        return default


def _names(node: LineDict, key: str, where: str, c: Checker) -> tuple[str, ...] | None:
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    c.expect(node, key, where, "a name or a list of names", value)
    return None


def _condition(
    text: Any,
    fields: frozenset[str] | None,
    node: LineDict,
    key: str,
    where: str,
    c: Checker,
    line: int | None = None,
) -> Condition | None:
    try:
        tree = _expression(text, fields, boolean=True)
    except ExprError as exc:
        c.add(line or node.line_of(key), where, key, str(exc))
        return None
    return Condition(text, tree, compile_node(tree))


def _rule(node: LineDict, c: Checker, kinds: Mapping[str, Kind], index: int) -> Rule | None:
    rid = node.get("id")
    where = f"rule {rid!r}" if isinstance(rid, str) else f"rule #{index + 1}"
    before = len(c.problems)
    c.known_keys(node, RULE_KEYS, where, required=("id", "hazard", "for_kind"))
    if "id" in node and (
        not isinstance(rid, str) or not rid.replace("_", "").replace("-", "").isalnum()
    ):
        c.expect(node, "id", where, "an id of letters, digits, - and _", rid)
    hazard = node.get("hazard")
    if "hazard" in node and not is_id(hazard):  # a level of the warnings topic
        c.expect(node, "hazard", where, f"a hazard name of {ID_RULE}", hazard)
    kind_names, field_set = _kind_fields(node, where, c, kinds)

    raw_levels = node.get("levels")
    levels = _levels(raw_levels, node, where, c, field_set)

    clear = None
    if "clear" in node:
        clear = _condition(node["clear"], field_set, node, "clear", where, c)

    no_data = _no_data(node, where, c, hazard)
    if raw_levels is None and "no_data" not in node:
        c.add(node.line, where, "levels", "expected levels, no_data or both, found neither")

    looked_at: list[Node] = [cond.node for _, cond in levels] + ([clear.node] if clear else [])
    values, trees, labels, units = _values(node, where, c, field_set, levels)
    looked_at.extend(trees[name] for name in labels)  # the named values' own expressions
    decisive = {level: decisive_of(cond.node, trees) for level, cond in levels}
    messages, instructions = _texts(node, where, c, field_set, set(trees))
    _instructions_cover(node, where, c, [level for level, _ in levels], instructions)
    looked_at.extend(n for by_lang in messages.values() for t in by_lang.values() for n in t.nodes)

    horizons: dict[str, int] = {}
    for tree in looked_at:
        for name, ms in horizons_of(tree).items():
            horizons[name] = max(horizons.get(name, 0), ms)
    for_ms = _duration(node, "for", where, c)
    hold_ms = _duration(node, "hold", where, c)
    regions = _names(node, "regions", where, c)
    sensors = _names(node, "sensors", where, c)
    if len(c.problems) > before:
        return None
    return Rule(
        id=str(rid),
        hazard=str(hazard),
        kinds=kind_names,
        levels=tuple(levels),
        for_ms=for_ms,
        hold_ms=hold_ms,
        clear=clear,
        no_data=no_data,
        values=tuple(values),
        message=messages,
        instruction=instructions,
        labels=labels,
        units=units,
        decisive=decisive,
        regions=frozenset(regions) if regions else None,
        sensors=frozenset(sensors) if sensors else None,
        file=c.file,
        line=node.line,
        horizons=horizons,
        sensor_keys=_sensor_keys(
            [*(cond.node for _, cond in levels), *([clear.node] if clear else []), *trees.values()],
            [
                *(t for by_lang in messages.values() for t in by_lang.values()),
                *(no_data.message.values() if no_data else ()),
            ],
        ),
    )


def _sensor_keys(trees: list[Node], templates: list[Template]) -> frozenset[str]:
    """The registry keys read by expressions and message templates."""
    return frozenset(sensor_keys(trees).union(*(t.sensor_keys for t in templates)))


def check_sensor_keys(rules: Sequence[Rule], registry: Registry) -> list[Problem]:
    """Return a problem for each ``sensor.KEY`` that no sensor a rule watches has.

    A key a station lacks is unknown there and its condition does not hold, as meant; a key
    no watched sensor has is a misspelling, and its level can never be raised.
    """
    problems = []
    for rule in rules:
        watched = [
            attrs
            for sid, attrs in registry.sensors.items()
            if rule.applies_to(sid, str(attrs.get("kind")), str(attrs.get("region", "")))
        ]
        if not watched:
            continue
        have = set().union(*watched) | {"name"}
        for key in sorted(rule.sensor_keys - have):
            problems.append(
                Problem(
                    rule.file,
                    rule.line,
                    f"rule {rule.id!r}",
                    f"sensor.{key}",
                    f"expected a key of the {len(watched)} sensor(s) it watches in the "
                    f"registry ({', '.join(sorted(have - {'kind', 'region'}))}), found "
                    f"{key!r} in none",
                )
            )
    return problems


def _levels(
    raw_levels: Any, node: LineDict, where: str, c: Checker, field_set: frozenset[str] | None
) -> list[tuple[Level, Condition]]:
    """The level conditions, highest first; each must be able to be the highest to hold."""
    levels: list[tuple[Level, Condition]] = []
    if raw_levels is None:
        return levels
    if not isinstance(raw_levels, LineDict) or not raw_levels:
        c.expect(node, "levels", where, "a mapping of level to condition", raw_levels)
        return levels
    for name, text in raw_levels.items():
        key = f"levels.{name}"
        if name not in LEVEL_NAMES:
            c.add(
                raw_levels.line_of(str(name)),
                where,
                key,
                f"expected a level among {', '.join(LEVEL_NAMES)}, found {name!r}",
            )
            continue
        cond = _condition(text, field_set, raw_levels, key, where, c, raw_levels.line_of(str(name)))
        if cond is not None:
            levels.append((Level.parse(name), cond))
    levels.sort(key=lambda lc: lc[0], reverse=True)
    for i, (level, cond) in enumerate(levels):
        higher = {h.colour: hc.node for h, hc in levels[:i]}
        reason = unreachable_reason(cond.node, higher)
        if reason:
            c.add(
                raw_levels.line_of(level.colour),
                where,
                f"levels.{level.colour}",
                f"expected a condition that can be the highest to hold, found one "
                f"that never is: {reason}",
            )
    return levels


def _values(
    node: LineDict,
    where: str,
    c: Checker,
    field_set: frozenset[str] | None,
    levels: list[tuple[Level, Condition]],
) -> tuple[list[tuple[str, Compiled]], dict[str, Node], dict[str, Texts], dict[str, Texts]]:
    """The values an event carries: the named ones (labels, units), else the conditions' terms."""
    values: list[tuple[str, Compiled]] = []
    trees: dict[str, Node] = {}
    labels: dict[str, Texts] = {}
    units: dict[str, Texts] = {}
    named = _named_values(node, where, c, field_set)
    if named is not None:
        for name, tree, label, unit in named:
            values.append((name, compile_node(tree)))
            trees[name] = tree
            labels[name], units[name] = label, unit
        return values, trees, labels, units
    for _, cond in levels:
        for sub in walk(cond.node):
            if isinstance(sub, Window | Field | Indicator | Ahead):
                name = value_name(sub)
                if name not in trees:
                    trees[name] = sub
                    values.append((name, compile_node(sub)))
    return values, trees, labels, units


def _texts(
    node: LineDict, where: str, c: Checker, field_set: frozenset[str] | None, names: set[str]
) -> tuple[dict[Level, dict[str, Template]], dict[Level, Texts]]:
    """Messages (templates) and instructions, per level and language."""
    messages: dict[Level, dict[str, Template]] = {}
    for only, texts in per_level(node, "message", where, c).items():
        for lang, text in texts.items():
            try:
                template = Template.parse(text, field_set, names)
            except ExprError as exc:
                key, line = _text_at(node, "message", only, lang)
                c.add(line, where, key, str(exc))
                continue
            for lv in [only] if only is not None else list(Level):
                messages.setdefault(lv, {})[lang] = template
    instructions: dict[Level, Texts] = {}
    for only, texts in per_level(node, "instruction", where, c).items():
        for lv in [only] if only is not None else list(Level):
            instructions.setdefault(lv, {}).update(texts)
    return messages, instructions


def _text_at(node: LineDict, key: str, level: Level | None, lang: str) -> tuple[str, int]:
    """The key and line of one text: ``message.en`` or ``message.red.en``, where written."""
    value, line, path = node.get(key), node.line_of(key), [key]
    for part in ([level.colour] if level is not None else []) + [lang]:
        if isinstance(value, LineDict) and part in value:
            line, value = value.line_of(part) or line, value[part]
            path.append(part)
    return ".".join(path), line


def _instructions_cover(
    node: LineDict, where: str, c: Checker, levels: list[Level], given: dict[Level, Texts]
) -> None:
    """Instructions given per level must cover every level, in the same languages.

    Else an orange warning goes out with no action, or an English one with the Chinese text.
    """
    if not given or not levels:
        return
    raw = node.get("instruction")
    per_level = raw if isinstance(raw, LineDict) and all(k in LEVEL_NAMES for k in raw) else None
    languages = sorted({lang for texts in given.values() for lang in texts})
    for level in levels:
        texts = given.get(level)
        if texts is None:
            c.add(
                node.line_of("instruction"),
                where,
                f"instruction.{level.colour}",
                f"expected an instruction for {level.colour} (the other levels have one), "
                "found none",
            )
        elif len(languages) > 1 and (missing := [x for x in languages if x not in texts]):
            line = (
                per_level.line_of(level.colour) if per_level and level.colour in per_level else None
            )
            c.add(
                line or node.line_of("instruction"),
                where,
                f"instruction.{level.colour}",
                f"expected a text in {', '.join(missing)} as the other levels have, found "
                f"{', '.join(sorted(texts)) or 'none'}",
            )


def _no_data(node: LineDict, where: str, c: Checker, hazard: Any) -> NoData | None:
    raw = node.get("no_data")
    if raw is None:
        return None
    if isinstance(raw, str):
        raw_map = LineDict(after=raw)
        raw_map.line, raw_map.key_lines = node.line_of("no_data"), {}
        raw = raw_map
    if not isinstance(raw, LineDict):
        c.expect(node, "no_data", where, "a duration, or a mapping with after and level", raw)
        return None
    c.known_keys(raw, NO_DATA_KEYS, where, required=("after",))
    after = _duration(raw, "after", where, c)
    if "after" in raw and after <= 0:
        c.expect(raw, "after", where, "a positive duration", raw.get("after"))
    level_name = raw.get("level", "yellow")
    if level_name not in LEVEL_NAMES:
        c.expect(raw, "level", where, f"a level among {', '.join(LEVEL_NAMES)}", level_name)
        return None
    if "hazard" in raw and not is_id(raw["hazard"]):
        c.expect(raw, "hazard", where, f"a hazard name of {ID_RULE}", raw["hazard"])
        return None
    after_text = str(raw.get("after"))
    default_message = {
        "zh-CN": "{sensor.name}已" + _duration_zh(after) + "未发送数据",
        "en": "{sensor.name} has sent nothing for " + after_text,
    }
    texts = (
        per_language(raw["message"], where, "no_data.message", raw, c)
        if "message" in raw
        else default_message
    )
    instruction = (
        per_language(raw["instruction"], where, "no_data.instruction", raw, c)
        if "instruction" in raw
        else dict(SILENCE_INSTRUCTION)
    )
    if texts is None or instruction is None:
        return None
    message = {}
    for lang, text in texts.items():
        try:
            message[lang] = Template.parse(text, set(), set())
        except ExprError as exc:
            c.add(raw.line_of("message"), where, "no_data.message", str(exc))
            return None
    return NoData(
        after,
        Level.parse(level_name),
        str(raw.get("hazard", "sensor_silence")),
        message,
        instruction,
    )


#: What an officer does about a silent sensor, unless the rule says otherwise.
SILENCE_INSTRUCTION = {
    "zh-CN": "检查传感器电源和通信链路；恢复前请以人工巡查等方式监视该区域。",
    "en": "Check the sensor, its power and its link; until it reports again, watch the area "
    "by other means.",
}


def _duration_zh(ms: int) -> str:
    """Say a duration in Chinese, e.g. ``30分钟`` or ``2小时``."""
    minutes = ms // 60_000
    if minutes % 60 == 0 and minutes:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟" if minutes else f"{ms // 1000}秒"
