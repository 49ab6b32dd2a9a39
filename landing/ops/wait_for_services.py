"""Waiting for the backing services at a container's start (docker/entrypoint.sh).

    python -m landing.ops.wait_for_services --timeout 60 --services postgresql,rabbitmq

Runs without the app, from the environment's settings, so every container can wait, the
dashboard's too, which has none of the web's secrets; `flask --app landing
wait-for-services` is the same command.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

import click
import pika
import psycopg2
import redis
from flask import current_app, has_app_context
from playhouse.db_url import parse
from pymongo import MongoClient

from landing.shared.rabbitmq import node_parameters
from landing.shared.settings import Settings, load

SERVICES = ("postgresql", "rabbitmq", "redis", "mongodb")
ATTEMPT_SECONDS = 2.0  # one connection attempt never runs past this, so the deadline holds
PAUSE_SECONDS = 0.5


def _settings() -> Settings:
    """The app's settings under `flask`, else the environment's, with no secret required."""
    return current_app.config["SETTINGS"] if has_app_context() else load(process=None)


@click.command("wait-for-services")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=60,
    show_default=True,
    help="Seconds to wait for all the services together.",
)
@click.option(
    "--services",
    default="",
    metavar="NAMES",
    help=f"Comma-separated subset of {', '.join(SERVICES)} (default: all).",
)
def wait_for_services(timeout: float, services: str) -> None:
    """Wait until each backing service accepts a connection; exit 1 at the deadline.

    Prints one line per service and never a URL: URLs carry passwords.
    """
    names = [name.strip() for name in services.replace(",", " ").split()] or list(SERVICES)
    unknown = sorted(set(names) - set(SERVICES))
    if unknown:
        raise click.BadParameter(f"unknown service {', '.join(unknown)}", param_hint="--services")
    # The drivers narrate every refused connection; the one line per service says enough.
    for logger in ("pika", "pymongo"):
        logging.getLogger(logger).setLevel(logging.CRITICAL)
    probes = _probes(_settings())
    started = time.monotonic()
    for name in names:
        if not _wait_for(name, probes[name], started, started + timeout):
            raise SystemExit(1)


def _wait_for(name: str, probe: Callable[[float], None], started: float, deadline: float) -> bool:
    click.echo(f"waiting for {name}... ", nl=False)
    while True:
        try:
            probe(max(min(ATTEMPT_SECONDS, deadline - time.monotonic()), 0.5))
        except Exception as error:  # the class name only: messages can name hosts and users
            last_error = type(error).__name__
        else:
            click.echo(f"ok ({time.monotonic() - started:.0f} s)")
            return True
        if time.monotonic() + PAUSE_SECONDS >= deadline:
            click.echo("timed out")
            waited = time.monotonic() - started
            click.echo(f"gave up on {name} after {waited:.0f} s ({last_error})", err=True)
            return False
        time.sleep(PAUSE_SECONDS)


def _probes(config: Settings) -> dict[str, Callable[[float], None]]:
    """One connect-and-close per service, each bounded by the seconds it is given."""

    def postgresql(seconds: float) -> None:
        # The server, not our database: init-db creates that one (as create_database_if_missing).
        # As the app's role, or else the schema's owner: before the first migrate (which is
        # the one container given the owner's URL) the app's role does not exist yet.
        urls = [url for url in (config.database_url, config.migrate_database_url) if url]
        for url in urls:
            params = parse(url)
            params.pop("database", None)
            try:
                psycopg2.connect(
                    dbname="postgres", connect_timeout=max(int(seconds), 1), **params
                ).close()
                return
            except psycopg2.OperationalError:
                if url == urls[-1]:
                    raise

    def rabbitmq(seconds: float) -> None:
        pika.BlockingConnection(node_parameters(config.rabbitmq_url, seconds)).close()

    def redis_(seconds: float) -> None:
        client = redis.Redis.from_url(
            config.redis_url, socket_timeout=seconds, socket_connect_timeout=seconds
        )
        try:
            client.ping()
        finally:
            client.close()

    def mongodb(seconds: float) -> None:
        ms = int(seconds * 1000)
        client: MongoClient[dict[str, Any]] = MongoClient(
            config.mongo_url, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms
        )
        try:
            client.admin.command("ping")
        finally:
            client.close()

    return {"postgresql": postgresql, "rabbitmq": rabbitmq, "redis": redis_, "mongodb": mongodb}


if __name__ == "__main__":
    wait_for_services()
