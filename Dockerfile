# syntax=docker/dockerfile:1
# landing's one image: docker-compose.yml runs web (gunicorn), worker (dramatiq), migrate
# and dashboard from it, so every process sees the same code and the same packages.

# Build stage: requirements.txt (uv.lock's export: every package pinned, with hashes) turned
# into wheels, each checked against the lock's hashes. --no-deps: the file is the whole set,
# resolved by uv with pyproject.toml's overrides, which pip knows nothing of (it would refuse
# dramatiq-dashboard's stale bounds). Every pin ships a manylinux wheel today, so the runtime
# stage checks the same hashes again; a pin compiled here would fail that check (and its
# compiler would belong here, never in the runtime stage).
FROM python:3.13-slim-bookworm AS build
WORKDIR /build
COPY requirements.txt .
RUN pip wheel --no-cache-dir --no-deps --require-hashes --wheel-dir /wheels -r requirements.txt

# Runtime stage: only those wheels (bind-mounted, so they add no layer) and our code.
FROM python:3.13-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_BIND=0.0.0.0:8000
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    pip install --no-cache-dir --no-index --find-links=/wheels --root-user-action=ignore \
        --no-deps --require-hashes -r /tmp/requirements.txt \
    && groupadd --system --gid 10001 landing \
    && useradd --system --uid 10001 --gid landing --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin landing

# The code stays root-owned and read-only to the app user; bytecode is compiled now because
# PYTHONDONTWRITEBYTECODE (and a read-only root filesystem) stop the processes writing it.
WORKDIR /app
COPY actors/ actors/
COPY landing/ landing/
COPY schema.sql gunicorn.conf.py ./
COPY --chmod=0755 docker/entrypoint.sh docker/
RUN python -m compileall -q /app

# Numeric, so an orchestrator can verify the user is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
# No curl in slim images: python's urllib. Other commands from this image (worker, migrate,
# dashboard) get their own healthcheck, or none, in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
# gunicorn.conf.py reads WEB_BIND, WEB_WORKERS and WEB_CONNECTIONS (landing/shared/settings.py).
CMD ["gunicorn", "-c", "gunicorn.conf.py", "landing:create_app()"]
