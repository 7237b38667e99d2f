"""Simulated Huzhou hazard sensors: networks, scenarios, readings, and an MQTT publisher."""
