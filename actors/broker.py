"""The workers' broker, its middleware and their actors, built from settings.

actors.worker calls build_workers once, where `dramatiq` starts it; tests call it with
their own settings. Nothing here runs at import.
"""

from dataclasses import dataclass

import dramatiq
from dramatiq.middleware import (
    AgeLimit,
    CurrentMessage,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from dramatiq.results import Results

from actors import attempts, exports, registrations, verifications, webhooks
from actors.metrics import WorkerMetrics
from actors.middleware import DatabaseConnections, WorkerLogs
from landing.shared.json_logs import hide_payloads
from landing.shared.mongo import init_mongo
from landing.shared.publisher import Publisher
from landing.shared.rabbitmq import LandingBroker, node_urls
from landing.shared.results import StatusWriter, build_result_backend
from landing.shared.settings import Settings


@dataclass(frozen=True)
class Workers:
    """A worker process's broker and actors, and the publisher its actors forward with."""

    broker: LandingBroker
    register: dramatiq.Actor
    register_batch: dramatiq.Actor
    log_attempt: dramatiq.Actor
    log_attempts: dramatiq.Actor
    log_turned_away: dramatiq.Actor
    forwarder: Publisher
    export_registrations: dramatiq.Actor
    deliver_webhook: dramatiq.Actor | None = None
    send_code: dramatiq.Actor | None = None
    record_verification: dramatiq.Actor | None = None


def build_workers(config: Settings) -> Workers:
    """The broker with every middleware a worker needs, and both actors declared on it.

    Actors hand their outcome to the attempt history on one pipelined, confirmed connection
    per process (the forwarder): a broker send would wait for its confirm alone, holding a
    thread for a disk flush.
    """
    broker = LandingBroker(
        url=node_urls(config.rabbitmq_url, config.publish_timeout),
        confirm_delivery=True,
        middleware=worker_middleware(config),
        queue_type=config.rabbitmq_queue_type,
    )
    init_mongo(config.mongo_url, config.mongo_timeout_ms, config.log_retention_days)
    hide_payloads()
    forwarder = Publisher.for_settings(config)
    announce = bool(config.webhook_url)  # new registrations go to the webhook
    statuses = StatusWriter(build_result_backend(config), config.result_ttl)
    verify = config.verification == "sms"  # stored numbers are sent a code
    register, register_batch = registrations.declare(
        broker, config, forwarder, statuses, announce, verify
    )
    log_attempt, log_attempts, log_turned_away = attempts.declare(broker, config)
    export = exports.declare(broker, config)
    deliver_webhook = webhooks.declare(broker, config)
    send_code, record_verification = verifications.declare(
        broker, config, forwarder.publish, announce
    )
    return Workers(
        broker,
        register,
        register_batch,
        log_attempt,
        log_attempts,
        log_turned_away,
        forwarder,
        export,
        deliver_webhook,
        send_code,
        record_verification,
    )


def worker_middleware(config: Settings) -> list[dramatiq.Middleware]:
    """Dramatiq's middleware, configured by us, plus our own.

    Prometheus is configured by us (WorkerMetrics: our port, and inert outside the CLI).
    WorkerLogs comes early so its after-hooks run late: every line about a message, retries
    included, has its id. TimeLimit comes last so its after-hook runs first: the deadline
    is off before Retries hands a retry on, which may wait on a RabbitMQ blocking publishers
    (an interrupt in the middle of it would leave the message neither handed on nor kept).
    """
    return [
        WorkerMetrics(),
        WorkerLogs(),
        AgeLimit(),
        ShutdownNotifications(),
        CurrentMessage(),
        Retries(
            max_retries=config.max_retries,
            min_backoff=config.retry_min_backoff_ms,
            max_backoff=config.retry_max_backoff_ms,
        ),
        Results(backend=build_result_backend(config), result_ttl=config.result_ttl * 1000),
        DatabaseConnections(config.database_url, config.db_max_connections),
        TimeLimit(time_limit=config.actor_time_limit_ms),
    ]
