"""Words of a CAP alert: hazard and level names in Chinese and English, categories, responses."""

from __future__ import annotations

from dataclasses import dataclass

from warning.records import Level


@dataclass(frozen=True, slots=True)
class Hazard:
    """How a hazard is named and classified in CAP."""

    zh: str
    en: str
    categories: tuple[str, ...]


#: Hazards of the shipped rules (and their usual aliases). Flood is "Met" as CAP 1.2 lists
#: flood under Met; leaks of chemical-plant gas are "Safety" and "Env" (not CBRNE, which CAP
#: reserves for threats and attacks); a silent or faulty sensor is "Infra".
HAZARDS: dict[str, Hazard] = {
    "rainstorm": Hazard("暴雨", "Rainstorm", ("Met",)),
    "flood": Hazard("洪水", "Flood", ("Met",)),
    "water_level": Hazard("水位", "Water level", ("Met",)),
    "landslide": Hazard("地质灾害", "Geological hazard", ("Geo",)),
    "slope": Hazard("地质灾害", "Geological hazard", ("Geo",)),
    "debris_flow": Hazard("地质灾害", "Geological hazard", ("Geo",)),
    "forest_fire": Hazard("森林火险", "Forest fire danger", ("Fire",)),
    "fire_weather": Hazard("森林火险", "Forest fire danger", ("Fire",)),
    "gas": Hazard("危化品气体泄漏", "Hazardous gas leak", ("Safety", "Env")),
    "gas_leak": Hazard("危化品气体泄漏", "Hazardous gas leak", ("Safety", "Env")),
    "gas_toxic": Hazard("有毒气体超标", "Toxic gas exposure", ("Safety", "Env")),
    "gas_oxygen": Hazard("氧含量异常", "Abnormal oxygen level", ("Safety",)),
    "sensor_silence": Hazard("传感器静默", "Sensor silence", ("Infra",)),
    "silence": Hazard("传感器静默", "Sensor silence", ("Infra",)),
    "sensor_fault": Hazard("传感器故障", "Sensor fault", ("Infra",)),
    # Area rules (rules/compound.yaml): the subject is an area, not a sensor.
    "flash_flood": Hazard("山洪", "Flash flood", ("Met", "Geo")),
    "integrated_risk": Hazard("综合风险", "Integrated risk", ("Met", "Geo", "Safety")),
    "gas_leak_unit": Hazard(
        "装置气体泄漏（多探头确认）", "Gas leak confirmed in a plant unit", ("Safety", "Env")
    ),
    "area_silence": Hazard("区域监测中断", "Area monitoring silent", ("Infra",)),
}

LEVEL_ZH = {Level.BLUE: "蓝色", Level.YELLOW: "黄色", Level.ORANGE: "橙色", Level.RED: "红色"}

#: Response level per warning level (DOMAIN.md): blue IV ... red I.
RESPONSE = {Level.BLUE: "IV", Level.YELLOW: "III", Level.ORANGE: "II", Level.RED: "I"}

#: CAP responseType per level while a warning is active; "Execute" means "carry out the
#: response plan named in the instruction" (预案数字化).
RESPONSE_TYPE = {
    Level.BLUE: "Monitor",
    Level.YELLOW: "Prepare",
    Level.ORANGE: "Execute",
    Level.RED: "Execute",
}

CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

#: Names of the shipped Huzhou regions, used when no regions file names them.
REGION_NAMES = {
    "wuxing": ("吴兴区", "Wuxing District"),
    "nanxun": ("南浔区", "Nanxun District"),
    "deqing": ("德清县", "Deqing County"),
    "changxing": ("长兴县", "Changxing County"),
    "anji": ("安吉县", "Anji County"),
}


def hazard(name: str) -> Hazard:
    """Return the CAP terms of a hazard; an unknown one is named after its id, category Other.

    >>> hazard("rainstorm").zh, hazard("mud_slide").en
    ('暴雨', 'Mud slide')
    """
    known = HAZARDS.get(name)
    if known is not None:
        return known
    words = name.replace("_", " ").strip() or "hazard"
    return Hazard(words, words[0].upper() + words[1:], ("Other",))


def headline_zh(
    event: str, hz: Hazard, level: Level | None, previous: Level | None, place: str
) -> str:
    """Return the Chinese headline of a lifecycle event.

    >>> headline_zh("escalated", hazard("rainstorm"), Level.RED, Level.ORANGE, "吴兴区")
    '吴兴区暴雨预警升级为红色'
    """
    if event == "withdrawn":  # cleared: it rested on a sensor fault
        colour = LEVEL_ZH[previous] if previous is not None else ""
        return f"{place}{hz.zh}{colour}预警撤销"
    if event == "cleared" or level is None:
        colour = LEVEL_ZH[previous] if previous is not None else ""
        return f"{place}{hz.zh}{colour}预警解除"
    if event == "escalated":
        return f"{place}{hz.zh}预警升级为{LEVEL_ZH[level]}"
    if event == "deescalated":
        return f"{place}{hz.zh}预警降级为{LEVEL_ZH[level]}"
    if event == "confirmed":
        return f"{place}{hz.zh}{LEVEL_ZH[level]}预警经实测确认"
    return f"{place}发布{hz.zh}{LEVEL_ZH[level]}预警"


def headline_en(
    event: str, hz: Hazard, level: Level | None, previous: Level | None, place: str
) -> str:
    """Return the English headline of a lifecycle event.

    >>> headline_en("raised", hazard("rainstorm"), Level.YELLOW, None, "Wuxing District")
    'Yellow rainstorm warning for Wuxing District'
    """
    what = hz.en.lower()
    if event == "withdrawn":  # cleared: it rested on a sensor fault
        colour = f"{previous.colour} " if previous is not None else ""
        return f"{hz.en} {colour}warning for {place} withdrawn"
    if event == "cleared" or level is None:
        colour = f"{previous.colour} " if previous is not None else ""
        return f"{hz.en} {colour}warning for {place} lifted"
    if event == "escalated":
        return f"{hz.en} warning for {place} raised to {level.colour}"
    if event == "deescalated":
        return f"{hz.en} warning for {place} lowered to {level.colour}"
    if event == "confirmed":
        return f"{hz.en} {level.colour} warning for {place} confirmed by observations"
    return f"{level.colour.capitalize()} {what} warning for {place}"
