#!/usr/bin/env bash
# Programs the test suite runs for real, installed from Debian's packages when missing:
# nginx in front of gunicorn and Chromium for the browser tests, which Playwright (from PyPI)
# drives at /usr/bin/chromium: `playwright install` would download a browser build of its
# own, which a machine that reaches only package registries cannot (shellcheck, hadolint
# and docker-compose come from PyPI too, in uv.lock's dev group). Also enables RabbitMQ's
# management API (the dashboard's queue counts).
set -euo pipefail

missing=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v chromium >/dev/null || missing+=(chromium)
if ((${#missing[@]})); then
    if ((EUID != 0)); then
        echo "missing: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

"$(dirname "$0")/rabbitmq-management.sh"
