#!/bin/sh
# Entrypoint of the landing image (web, worker, migrate, dashboard): wait until the backing
# services accept connections, then become the command, so it gets the container's signals.
#   WAIT_TIMEOUT  seconds to wait for all of them together (default 60; 0 skips the wait)
#   WAIT_FOR      comma-separated subset of postgresql,rabbitmq,redis,mongodb (default: all)
# The wait prints one line per service and never a URL (URLs carry passwords).
set -eu

if [ "${WAIT_TIMEOUT:-60}" != 0 ]; then
    python -m landing.ops.wait_for_services --timeout "${WAIT_TIMEOUT:-60}" --services "${WAIT_FOR:-}"
fi
exec "$@"
