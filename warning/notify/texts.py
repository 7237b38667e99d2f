"""The words of notification messages, in Chinese and English."""

from __future__ import annotations

from warning.records import Level

TEXTS: dict[str, dict] = {
    "zh-CN": {
        "colours": {Level.BLUE: "蓝色", Level.YELLOW: "黄色", Level.ORANGE: "橙色",
                    Level.RED: "红色"},
        "colours_short": {Level.BLUE: "蓝色", Level.YELLOW: "黄色", Level.ORANGE: "橙色",
                          Level.RED: "红色"},
        "level": "{colour}预警({response}级)",
        "where": "{region}{place}",
        "quantity": "{label}{value}{unit}",
        "against": "({colour}标准{op}{threshold})",
        "list_sep": "，",
        "no_level": "已解除",
        "bracket": "【{}】",
        "dot": "·",
        "tag_firing": "",
        "tag_reminder": "提醒",
        "tag_escalation": "升级{step}",
        "tag_resolved": "【解除】",
        "title_resolved": "{hazard}{colour}预警解除",
        "sep": "、",
        "count": "{n}处",
        "more": " 另{n}处",
        "more_line": "……另有{n}处",
        "previous": "上一级值班人员",
        "escalated": "第{step}级升级：{who}未确认",
        "escalated_after": "第{step}级升级：{who} {minutes}分钟内未确认",
        "suspect": "注意：数据存疑（{c}）",
        "certainty": {"Possible": "可能有误", "Likely": "很可能", "Unlikely": "不太可能",
                      "Unknown": "未知"},
        "ack": "确认:{url}",
        "reply": "回复{n}确认",
        "time": "时间",
        "instruction": "响应措施",
        "f_level": "预警等级",
        "f_hazard": "灾种",
        "f_region": "区域",
        "f_count": "监测点数",
        "f_list": "明细",
        "events": {"raised": "发布", "escalated": "升级", "deescalated": "降级",
                   "confirmed": "确认", "cleared": "解除"},
        "footer": "通知编号 {id}",
    },
    "en": {
        "colours": {Level.BLUE: "BLUE", Level.YELLOW: "YELLOW", Level.ORANGE: "ORANGE",
                    Level.RED: "RED"},
        "colours_short": {Level.BLUE: "blue", Level.YELLOW: "yellow", Level.ORANGE: "orange",
                          Level.RED: "red"},
        "level": "{colour} ({response})",
        "where": "{place}, {region}",
        "quantity": "{label} {value} {unit}",
        "against": " ({colour} at {op}{threshold})",
        "list_sep": ", ",
        "no_level": "cleared",
        "bracket": "[{}] ",
        "dot": " ",
        "tag_firing": "",
        "tag_reminder": "REMINDER",
        "tag_escalation": "ESCALATION {step}",
        "tag_resolved": "[CLEARED] ",
        "title_resolved": "{hazard} {colour} warning cleared",
        "sep": ", ",
        "count": "{n} sites",
        "more": " +{n} more",
        "more_line": "... and {n} more",
        "previous": "the previous officer",
        "escalated": "Escalation step {step}: not acknowledged by {who}",
        "escalated_after": "Escalation step {step}: not acknowledged by {who} after {minutes} min",
        "suspect": "Note: data suspect ({c})",
        "certainty": {},
        "ack": "Ack: {url}",
        "reply": "Reply {n} to ack",
        "time": "Time",
        "instruction": "Action",
        "f_level": "Level",
        "f_hazard": "Hazard",
        "f_region": "Region",
        "f_count": "Sites",
        "f_list": "Details",
        "events": {},
        "footer": "Notification {id}",
    },
}

#: Hazard names of the shipped rule files; other hazards show their id.
HAZARDS = {
    "zh-CN": {"rainstorm": "暴雨", "flood": "水位", "reservoir": "水库", "landslide": "地质灾害",
           "debris_flow": "泥石流", "forest_fire": "森林火险", "gas_leak": "可燃气体泄漏",
           "gas_toxic": "有毒气体", "gas_oxygen": "氧含量异常", "gas": "气体泄漏",
           "sensor_silence": "传感器静默", "sensor_fault": "传感器故障", "pest": "病虫害",
           "flash_flood": "山洪", "integrated_risk": "综合风险", "gas_leak_unit": "装置气体泄漏",
           "area_silence": "区域监测中断"},
    "en": {"rainstorm": "Rainstorm", "flood": "Water level", "reservoir": "Reservoir",
           "landslide": "Geological hazard", "debris_flow": "Debris flow",
           "forest_fire": "Forest fire danger", "gas_leak": "Combustible gas",
           "gas_toxic": "Toxic gas", "gas_oxygen": "Oxygen level", "gas": "Gas leak",
           "sensor_silence": "Sensor silent", "sensor_fault": "Sensor fault", "pest": "Pests",
           "flash_flood": "Flash flood", "integrated_risk": "Integrated risk",
           "gas_leak_unit": "Plant-unit gas leak", "area_silence": "Area silent"},
}

#: Huzhou's districts and counties (the simulator's regions) and the other regions a shipped
#: rule names (Puget Sound's landslide thresholds); others show their id unless the registry
#: names them (``regions:``).
REGIONS = {
    "zh-CN": {"wuxing": "吴兴区", "nanxun": "南浔区", "deqing": "德清县", "changxing": "长兴县",
              "anji": "安吉县", "puget_sound": "普吉特海湾"},
    "en": {"wuxing": "Wuxing", "nanxun": "Nanxun", "deqing": "Deqing", "changxing": "Changxing",
           "anji": "Anji", "puget_sound": "Puget Sound"},
}

#: How a threshold's comparison is said before it (nothing for "at or above").
OPS = {"zh-CN": {">=": "", ">": "高于", "<": "低于", "<=": "≤"},
       "en": {">=": "", ">": "over ", "<": "under ", "<=": "max "}}
