#!/usr/bin/env bash
# RabbitMQ's management API on 127.0.0.1:15672, which the task dashboard reads its queue
# counts from: enabled on the local node when it does not answer yet (`make dev`, `make test`).
set -euo pipefail

answers() { curl -sf -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null; }

if ! answers; then
    echo "enabling RabbitMQ's management plugin"
    rabbitmq-plugins -q enable rabbitmq_management >/dev/null
    for _ in $(seq 60); do
        answers && exit 0
        sleep 1
    done
    echo "RabbitMQ's management API did not come up on 127.0.0.1:15672" >&2
    exit 1
fi
