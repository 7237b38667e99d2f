"""The words of notification messages, in Chinese and English."""

from __future__ import annotations

from warning.records import Level

TEXTS: dict[str, dict] = {
    "zh": {
        "colours": {Level.BLUE: "蓝色", Level.YELLOW: "黄色", Level.ORANGE: "橙色",
                    Level.RED: "红色"},
        "level": "{colour}预警({response}级)",
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
        "more": " 等{n}处",
        "more_line": "……另有{n}处",
        "previous": "上一级值班人员",
        "escalated": "第{step}级升级：{who}未确认",
        "escalated_after": "第{step}级升级：{who} {minutes}分钟内未确认",
        "suspect": "注意：数据存疑（{c}）",
        "ack": "确认:{url}",
        "time": "时间",
        "instruction": "响应措施",
        "f_level": "预警等级",
        "f_hazard": "灾种",
        "f_region": "区域",
        "f_count": "监测点数",
        "f_list": "明细",
        "events": {"raised": "发布", "escalated": "升级", "deescalated": "降级",
                   "confirmed": "确认", "cleared": "解除"},
        "footer": "通知编号 {id} · 接收方 {receiver} · 分组 {group}",
    },
    "en": {
        "colours": {Level.BLUE: "BLUE", Level.YELLOW: "YELLOW", Level.ORANGE: "ORANGE",
                    Level.RED: "RED"},
        "level": "{colour} ({response})",
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
        "ack": "Ack: {url}",
        "time": "Time",
        "instruction": "Action",
        "f_level": "Level",
        "f_hazard": "Hazard",
        "f_region": "Region",
        "f_count": "Sites",
        "f_list": "Details",
        "events": {},
        "footer": "Notification {id} · receiver {receiver} · group {group}",
    },
}

#: Hazard names of the shipped rule files; other hazards show their id.
HAZARDS = {
    "zh": {"rainstorm": "暴雨", "flood": "水位", "reservoir": "水库", "landslide": "地质灾害",
           "debris_flow": "泥石流", "forest_fire": "森林火险", "gas_leak": "可燃气体泄漏",
           "gas_toxic": "有毒气体", "gas_oxygen": "氧含量异常", "gas": "气体泄漏",
           "sensor_silence": "传感器静默", "pest": "病虫害"},
    "en": {"rainstorm": "Rainstorm", "flood": "Water level", "reservoir": "Reservoir",
           "landslide": "Geological hazard", "debris_flow": "Debris flow",
           "forest_fire": "Forest fire danger", "gas_leak": "Combustible gas",
           "gas_toxic": "Toxic gas", "gas_oxygen": "Oxygen level", "gas": "Gas leak",
           "sensor_silence": "Sensor silent", "pest": "Pests"},
}

#: Huzhou's districts and counties (the simulator's regions); others show their id.
REGIONS = {
    "zh": {"wuxing": "吴兴区", "nanxun": "南浔区", "deqing": "德清县", "changxing": "长兴县",
           "anji": "安吉县"},
    "en": {"wuxing": "Wuxing", "nanxun": "Nanxun", "deqing": "Deqing", "changxing": "Changxing",
           "anji": "Anji"},
}

#: Short labels of the rule files' value names; others show their name.
UNITS = {
    "zh": {"rain_mm": "雨量mm", "rain_1h_mm": "1h雨量mm", "rain_3h_mm": "3h雨量mm",
           "rain_6h_mm": "6h雨量mm", "rain_12h_mm": "12h雨量mm", "rain_24h_mm": "24h雨量mm",
           "level_m": "水位m", "rise_m_per_h": "涨率m/h", "to_warning_m": "距警戒m",
           "hours_to_warning": "距警戒h", "hours_to_guaranteed": "距保证h",
           "displacement_mm": "位移mm", "velocity_mm_h": "速率mm/h",
           "hours_to_failure": "距失稳h", "tangent_angle_deg": "切线角°", "fwi": "FWI",
           "lel_pct": "%LEL", "h2s_twa_ppm": "H2S TWA ppm", "co_twa_ppm": "CO TWA ppm",
           "h2s_stel_ppm": "H2S STEL ppm", "co_stel_ppm": "CO STEL ppm", "o2_pct": "O2%"},
    "en": {"rain_mm": "rain mm", "rain_1h_mm": "rain 1h mm", "rain_3h_mm": "rain 3h mm",
           "rain_6h_mm": "rain 6h mm", "rain_12h_mm": "rain 12h mm",
           "rain_24h_mm": "rain 24h mm", "level_m": "level m", "rise_m_per_h": "rise m/h",
           "to_warning_m": "to warning m", "displacement_mm": "displ. mm",
           "velocity_mm_h": "v mm/h", "fwi": "FWI", "lel_pct": "%LEL", "o2_pct": "O2 %"},
}
