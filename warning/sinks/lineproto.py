"""InfluxDB line protocol for readings and warnings (f-strings: ~5x faster than ``Point``)."""

from __future__ import annotations

from warning.records import Forecast, IndicatorRecord, Reading, WarningEvent

_TAG = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\\": "\\\\", "\n": " "})
_STR = str.maketrans({'"': r"\"", "\\": "\\\\", "\n": " "})


def tag(text: str) -> str:
    r"""Escape a tag key or value (or a field key).

    >>> print(tag("a b,c=d"))
    a\ b\,c\=d
    """
    return text.translate(_TAG) or "_"


def string_field(text: str) -> str:
    """Quote and escape a string field value."""
    return '"' + text.translate(_STR) + '"'


def reading_line(r: Reading) -> str:
    """Encode a reading: measurement ``reading``, tags sensor_id/kind/region, ms precision.

    >>> reading_line(Reading("rg-1", "rainfall", "wuxing", 1783231200000, {"rain_mm": 1.5}, 7))
    'reading,sensor_id=rg-1,kind=rainfall,region=wuxing rain_mm=1.5,seq=7i 1783231200000'
    """
    fields = ",".join(f"{tag(k)}={v!r}" for k, v in r.values.items())
    if r.seq is not None:
        fields += f",seq={r.seq}i"
    return (
        f"reading,sensor_id={tag(r.sensor_id)},kind={tag(r.kind)},region={tag(r.region)} "
        f"{fields} {r.ts}"
    )


def forecast_lines(f: Forecast) -> list[str]:
    r"""Encode a forecast: measurement ``forecast``, one point per valid time, ``issued`` field.

    A newer issue overwrites the points of an older one at the same valid times (same series
    and time), so the newest issue wins in the store as in the pipeline.

    >>> line, = forecast_lines(Forecast("rg-1", "rainfall", "wx", "qpf", 1000, 9000, (4000,),
    ...                                 {"rain_mm": (2.5,)}))
    >>> print(*line.split(" "), sep="\n")
    forecast,sensor_id=rg-1,kind=rainfall,region=wx,issuer=qpf
    rain_mm=2.5,issued=1000i,expires=9000i
    4000
    """
    head = (
        f"forecast,sensor_id={tag(f.sensor_id)},kind={tag(f.kind)},region={tag(f.region)},"
        f"issuer={tag(f.issuer)} "
    )
    tail = f",issued={f.issued}i,expires={f.expires}i "
    return [
        head + ",".join(f"{tag(k)}={v[i]!r}" for k, v in f.values.items()) + tail + str(t)
        for i, t in enumerate(f.valid)
    ]


def warning_line(e: WarningEvent) -> str:
    """Encode a warning event: measurement ``warning``; numeric values as ``v_<name>`` fields."""
    level = e.level.colour if e.level else "none"
    fields = [
        f"warning_id={string_field(e.warning_id)}",
        f"level_code={int(e.level or 0)}i",
        f"previous_level_code={int(e.previous_level or 0)}i",
        f"message={string_field(e.message)}",
        f"instruction={string_field(e.instruction)}",
        f"certainty={string_field(e.certainty)}",
    ]
    fields += [
        f"v_{tag(k)}={float(v)!r}"
        for k, v in e.values.items()
        if isinstance(v, int | float) and v == v and abs(v) != float("inf")
    ]
    area = f",area={tag(e.area)}" if e.area else ""  # area warnings: the area as a tag
    return (
        f"warning{area},rule_id={tag(e.rule_id)},hazard={tag(e.hazard)},region={tag(e.region)},"
        f"subject={tag(e.subject)},event={e.event},level={level} {','.join(fields)} {e.ts}"
    )


def indicator_line(i: IndicatorRecord) -> str | None:
    """Encode an indicator record: measurement ``indicator``; None when no value is known."""
    fields = ",".join(
        f"{tag(k)}={float(v)!r}"
        for k, v in i.values.items()
        if isinstance(v, int | float) and v == v and abs(v) != float("inf")
    )
    if not fields:
        return None
    return (
        f"indicator,sensor_id={tag(i.sensor_id)},kind={tag(i.kind)},region={tag(i.region)},"
        f"indicator={tag(i.indicator)} {fields} {i.ts}"
    )
