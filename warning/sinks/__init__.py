"""Sinks: warnings, dead letters and stored data to console, JSON Lines, MQTT and InfluxDB."""
