# hazard-warning pipeline image: slim, non-root, with a health check on /metrics.
# The engine's hot modules are compiled (setup.py, HAZARD_WARNING_COMPILE=1) in a build stage
# with a C compiler; the image holds the wheel's result, not the compiler.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY warning ./warning
COPY sensors_sim ./sensors_sim
# mypyc type-checks the modules, so the dependencies' types come first (`pip install .`);
# mypy 2.4.1 is the version the compiled build is tested with (scripts/test.sh).
RUN pip install --no-cache-dir "setuptools>=68" wheel "mypy==2.4.1" types-PyYAML . \
    && HAZARD_WARNING_COMPILE=1 pip wheel --no-build-isolation --no-deps -w /wheels .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HAZARD_RULES_DIR=/app/rules
WORKDIR /app
COPY rules ./rules
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels pip install /wheels/*.whl \
    && useradd --system --uid 10001 --home /var/lib/hazard hazard \
    && mkdir -p /var/lib/hazard && chown hazard /var/lib/hazard
USER hazard
WORKDIR /var/lib/hazard
EXPOSE 9108
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/metrics', timeout=4)"
ENTRYPOINT ["hazard-warning"]
CMD ["run", "--config", "/etc/hazard-warning/config.yaml"]
