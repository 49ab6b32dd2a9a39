"""The RabbitMQ broker and its middleware, built from settings.

Imported before any actor module so that `set_broker` runs before `@dramatiq.actor` binds
actors to a broker. The web app builds its own publishing broker with `build_broker` so a
test can point one app at another RabbitMQ without touching the workers'.
"""

import dramatiq
import redis
from dramatiq.middleware import (
    AgeLimit,
    CurrentMessage,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend

from actors.db import DatabaseConnections
from actors.logs import WorkerLogs
from actors.metrics import WorkerMetrics
from actors.rabbitmq import LandingBroker, node_urls, with_timeouts
from actors.settings import Settings, settings

__all__ = ["broker", "build_broker", "build_result_backend", "node_urls", "with_timeouts"]


def build_result_backend(config: Settings) -> RedisBackend:
    """Dramatiq's Redis result backend with short socket timeouts (Redis may be down)."""
    client = redis.Redis.from_url(
        config.redis_url,
        socket_timeout=config.redis_timeout,
        socket_connect_timeout=config.redis_timeout,
    )
    return RedisBackend(client=client)


def build_broker(config: Settings, *, worker: bool) -> LandingBroker:
    """A RabbitmqBroker that waits for publisher confirms and fails over between nodes.

    Workers get the full middleware list, with Prometheus configured by us (WorkerMetrics:
    our port, and inert outside `dramatiq actors`) and JSON logs. WorkerLogs comes early so
    its after-hooks run late: every line about a message, retries included, has its id.
    A web process only publishes, so it needs no middleware at all.
    """
    middleware = []
    if worker:
        middleware = [
            WorkerMetrics(),
            WorkerLogs(),
            AgeLimit(),
            TimeLimit(time_limit=config.actor_time_limit_ms),
            ShutdownNotifications(),
            CurrentMessage(),
            Retries(
                max_retries=config.max_retries,
                min_backoff=config.retry_min_backoff_ms,
                max_backoff=config.retry_max_backoff_ms,
            ),
            Results(
                backend=build_result_backend(config),
                result_ttl=config.result_ttl * 1000,
            ),
            DatabaseConnections(config.database_url, config.db_max_connections),
        ]
    return LandingBroker(
        url=node_urls(config.rabbitmq_url, config.publish_timeout),
        confirm_delivery=True,
        middleware=middleware,
        queue_type=config.rabbitmq_queue_type,
    )


broker = build_broker(settings, worker=True)
dramatiq.set_broker(broker)
