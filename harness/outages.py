"""Waiting out a service that is briefly away, instead of losing a run to it."""

import time
from collections.abc import Callable

import pika
import psycopg2
import redis
from pymongo.errors import PyMongoError

# The services may be shared with other runs, whose fault tests stop and start
# them: an outage of up to OUTAGE_SECONDS is waited out, not a reason to lose a run.
OUTAGE_SECONDS = 90
OUTAGES = (
    pika.exceptions.AMQPConnectionError,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    PyMongoError,
)


def outlasting_outages[T](action: Callable[[], T]) -> T:
    """action(), tried again every second while a service it needs is down."""
    deadline = time.monotonic() + OUTAGE_SECONDS
    while True:
        try:
            return action()
        except OUTAGES:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
