"""Failure's one vocabulary: transient (an outage), permanent (bad data), or unknown.

Transient: something we depend on did not answer or broke off (PostgreSQL, MongoDB, RabbitMQ,
Redis, a webhook receiver); the same work may succeed once it is back. Permanent: the work
itself cannot be done (a row PostgreSQL refuses, a value BSON cannot encode, a message
without the fields it needs); every retry would fail the same way. Anything else is unknown:
a bug, or a server error nobody foresaw, tried a few times before a person looks at it.

Our own exceptions say which by their base class (Transient, Permanent); a library's are
told apart here, by family. classify is the one place that reads either. What a worker does
with the answer is its retry policy (actors/retries.py); the web answers a store outage with
a 503 by its own handlers.
"""

import http.client
import socket
import ssl
from enum import StrEnum

import dramatiq.errors
import peewee
import psycopg2
import pymongo.errors
import redis.exceptions
from bson.errors import BSONError
from playhouse.pool import MaxConnectionsExceeded


class Kind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


class Transient(Exception):
    """An outage: the same work may succeed later. Says why, never with the data's values."""


class Permanent(Exception):
    """Bad data: every retry would fail the same way. Says why, never with the data's values."""


# Outages, family by family. Checked before PERMANENT: MaxConnectionsExceeded is a ValueError.
TRANSIENT: tuple[type[BaseException], ...] = (
    Transient,
    # PostgreSQL (peewee's wrapper turns psycopg2's errors into its own classes; raw ones
    # from a cursor used outside it): the connection broke, a deadlock or serialization
    # failure (40P01, 40001), the server shutting down, every pooled connection busy.
    peewee.OperationalError,
    peewee.InterfaceError,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    MaxConnectionsExceeded,
    # MongoDB: ConnectionFailure and its kin (AutoReconnect, NetworkTimeout,
    # ServerSelectionTimeoutError, WaitQueueTimeoutError).
    pymongo.errors.ConnectionFailure,
    # RabbitMQ, as dramatiq reports it (ConnectionClosed, ConnectionFailed).
    dramatiq.errors.BrokerConnectionError,
    # Redis unreachable, or too slow.
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    # HTTP delivery: refused, reset, timed out (a deadline too), no address for the host,
    # an answer that broke off or was not HTTP.
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    http.client.HTTPException,
)

# Bad data, family by family.
PERMANENT: tuple[type[BaseException], ...] = (
    Permanent,
    # PostgreSQL refuses the row: a constraint, a value too long, not an address.
    peewee.DataError,
    peewee.IntegrityError,
    psycopg2.DataError,
    psycopg2.IntegrityError,
    # BSON cannot encode or decode it: a lone surrogate, a NUL in a key, over 16 MiB.
    BSONError,
    # A message that is not what its actor reads: a field missing (KeyError), of the wrong
    # kind (TypeError, AttributeError), a value no store can take (ValueError: a malformed
    # UUID, a string psycopg2 refuses for a NUL, UnicodeEncodeError for a lone surrogate;
    # OverflowError: an integer over 64 bits).
    KeyError,
    TypeError,
    AttributeError,
    ValueError,
    OverflowError,
)


# Unknown, although PERMANENT's classes would take them: a TLS failure talking to a receiver
# (its certificate, which its owner may yet fix, fails verification as a ValueError too) is
# not bad data of ours.
NEITHER: tuple[type[BaseException], ...] = (ssl.SSLError,)


def classify(error: BaseException) -> Kind:
    """Which kind of failure error is: by its class, ours or a library's."""
    if isinstance(error, TRANSIENT):
        return Kind.TRANSIENT
    if isinstance(error, PERMANENT) and not isinstance(error, NEITHER):
        return Kind.PERMANENT
    return Kind.UNKNOWN
