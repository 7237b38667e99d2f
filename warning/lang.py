"""Languages of officer-facing text: codes, per-language texts and the words for units."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Languages the shipped texts are written in; the first is the officers' own.
LANGUAGES = ("zh-CN", "en")
#: Language of the ``message`` and ``instruction`` fields kept for logs and older readers.
DEFAULT = "en"
#: Key of a text given as a single string: it stands for every language.
ANY = "*"
_ALIASES = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN", "en-us": "en", "en-gb": "en"}

#: The colours of the four levels, as each language says them.
LEVEL_WORDS = {
    "zh-CN": {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"},
    "en": {"blue": "blue", "yellow": "yellow", "orange": "orange", "red": "red"},
}

#: Units as written in rule files, and how each language says them.
UNIT_WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "mm": "毫米",
        "m": "米",
        "m/h": "米/小时",
        "mm/h": "毫米/小时",
        "h": "小时",
        "deg": "度",
        "°": "度",
        "%LEL": "%LEL",
        "ppm": "ppm",
        "%vol": "%",
        "%": "%",
        "x": "倍",
        "": "",
    },
    "en": {"x": "times"},
}


def normalize(code: str) -> str:
    """Return the canonical code of a language, e.g. ``zh`` -> ``zh-CN``.

    >>> normalize("zh"), normalize("en"), normalize("fr")
    ('zh-CN', 'en', 'fr')
    """
    return _ALIASES.get(code.lower(), code)


def pick(texts: Mapping[str, Any], language: str, fallback: bool = True) -> Any:
    """Return the text (or template) in ``language``, else one for any language, else any.

    Without ``fallback``, a text in no matching language is "".

    >>> pick({"zh-CN": "暴雨", "en": "Rainstorm"}, "zh"), pick({"*": "x"}, "en")
    ('暴雨', 'x')
    """
    lang = normalize(language)
    if lang in texts:
        return texts[lang]
    if ANY in texts:
        return texts[ANY]
    if not fallback or not texts:
        return ""
    return texts.get(DEFAULT) or next(iter(texts.values()))


def unit_word(unit: str, language: str) -> str:
    """Return how ``language`` writes a unit given in a rule file.

    >>> unit_word("mm", "zh-CN"), unit_word("mm", "en"), unit_word("deg", "zh-CN")
    ('毫米', 'mm', '度')
    """
    return UNIT_WORDS.get(normalize(language), {}).get(unit, unit)
