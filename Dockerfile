# hazard-warning pipeline image: slim, non-root, with a health check on /metrics.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HAZARD_RULES_DIR=/app/rules
WORKDIR /app
COPY pyproject.toml README.md ./
COPY warning ./warning
COPY sensors_sim ./sensors_sim
COPY rules ./rules
RUN pip install . && useradd --system --uid 10001 --home /var/lib/hazard hazard \
    && mkdir -p /var/lib/hazard && chown hazard /var/lib/hazard
USER hazard
WORKDIR /var/lib/hazard
EXPOSE 9108
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/metrics', timeout=4)"
ENTRYPOINT ["hazard-warning"]
CMD ["run", "--config", "/etc/hazard-warning/config.yaml"]
