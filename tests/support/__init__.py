"""Helpers the tests share: servers on free ports, MQTT clients, the storm case, corpora."""
