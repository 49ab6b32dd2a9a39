#!/bin/sh
# RabbitMQ as the official image runs it, plus landing's own users, made on every start:
#   RABBITMQ_APP_USER      the web, workers and dashboard (AMQP): no tags, and permissions
#                          on the `landing` vhost only, so it can neither see nor touch
#                          another vhost, nor administer anything;
#   RABBITMQ_MONITOR_USER  the dashboard's management API reads: the monitoring tag, and
#                          the same vhost only.
# The administrator (RABBITMQ_USER) stays with operators, for the management UI.
set -eu

READY=/tmp/landing-users-ready  # compose's healthcheck waits for it

# The server's own user holds its Erlang cookie; the image's entrypoint switches to it.
as_server() {
    if [ "$(id -u)" = 0 ]; then gosu rabbitmq "$@"; else "$@"; fi
}
rm -f "$READY"

/usr/local/bin/docker-entrypoint.sh rabbitmq-server &
server=$!
trap 'kill -TERM "$server"; wait "$server"; exit $?' TERM INT

tries=0
until as_server rabbitmq-diagnostics -q check_running >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 120 ]; then
        echo "RabbitMQ did not start within 120 s" >&2
        exit 1
    fi
    sleep 1
done

# A password is read from standard input, so it never shows in a process list.
user() {  # user NAME PASSWORD TAGS
    if as_server rabbitmqctl -q list_users | cut -f1 | grep -qx "$1"; then
        printf '%s' "$2" | as_server rabbitmqctl -q change_password "$1"
    else
        printf '%s' "$2" | as_server rabbitmqctl -q add_user "$1"
    fi
    if [ -n "$3" ]; then
        as_server rabbitmqctl -q set_user_tags "$1" "$3"
    else
        as_server rabbitmqctl -q set_user_tags "$1"  # none: no management access at all
    fi
    as_server rabbitmqctl -q set_permissions -p landing "$1" '.*' '.*' '.*'
}

as_server rabbitmqctl -q add_vhost landing 2>/dev/null || true
user "$RABBITMQ_APP_USER" "$RABBITMQ_APP_PASSWORD" ""
user "$RABBITMQ_MONITOR_USER" "$RABBITMQ_MONITOR_PASSWORD" monitoring
touch "$READY"
echo "landing's RabbitMQ users are ready"

wait "$server"
