"""Sinks: where warning events and dead letters go (console, JSON Lines, MQTT)."""
