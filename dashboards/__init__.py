"""Grafana dashboards and Prometheus alerts for hazard-warning, kept as code.

``python -m dashboards.generate`` writes ``dashboards/json/*.json`` and the sensor gazetteer;
``python -m dashboards.preview`` draws a PNG of the situation overview from InfluxDB.
"""
