"""Operator commands: `flask --app landing migrate|init-db|migrate-queues|wait-for-services|
erase-phone`.

`migrate` prepares every store this version needs (PostgreSQL's schema, then RabbitMQ's
queues); deploys run it before web and workers start (compose's one-shot `migrate`).
"""

import logging
import time
from collections.abc import Callable

import click
import pika
import psycopg2
import redis
from flask import Flask, current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError
from playhouse.db_url import parse
from pymongo import MongoClient

from landing.ops.database_roles import grant_app_role
from landing.ops.erasure import erase_phone
from landing.ops.queue_migration import MigrationRefused, migrate_queues
from landing.schemas import normalize_phone
from landing.shared.db import apply_schema, create_database_if_missing
from landing.shared.privacy import mask_phone
from landing.shared.rabbitmq import node_parameters
from landing.shared.settings import Settings
from landing.shared.signup import QUEUES

SERVICES = ("postgresql", "rabbitmq", "redis", "mongodb")
ATTEMPT_SECONDS = 2.0  # one connection attempt never runs past this, so the deadline holds
PAUSE_SECONDS = 0.5


@click.command("migrate")
@with_appcontext
def migrate() -> None:
    """init-db, then migrate-queues: everything a new version needs before it starts."""
    _init_db(current_app.config["SETTINGS"])
    _migrate_queues(current_app.config["SETTINGS"])


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database if needed and apply schema.sql (safe to run on every start)."""
    _init_db(current_app.config["SETTINGS"])


@click.command("migrate-queues")
@with_appcontext
def migrate_queues_command() -> None:
    """Give RabbitMQ's queues the arguments this version declares (idempotent; workers stopped)."""
    _migrate_queues(current_app.config["SETTINGS"])


def _init_db(config: Settings) -> None:
    owner = _owner_url(config)
    if create_database_if_missing(owner):
        click.echo("created the database")
    apply_schema(owner)
    click.echo("schema.sql applied")
    click.echo(grant_app_role(owner, config.database_url))


def _owner_url(config: Settings) -> str:
    """MIGRATE_DATABASE_URL: the schema's owner, which only these commands connect as."""
    if not config.migrate_database_url:
        raise click.ClickException("this command needs MIGRATE_DATABASE_URL (the schema's owner)")
    return config.migrate_database_url


def _migrate_queues(config: Settings) -> None:
    logging.getLogger("pika").setLevel(logging.ERROR)  # each refused declare is a warning
    nodes = node_parameters(config.rabbitmq_url, ATTEMPT_SECONDS)
    queues = set(QUEUES)
    try:
        changes = migrate_queues(nodes, queues, config.rabbitmq_queue_type)
    except MigrationRefused as error:
        raise click.ClickException(str(error)) from None
    for line in changes:
        click.echo(line)
    click.echo(f"queues up to date ({config.rabbitmq_queue_type}): {', '.join(sorted(queues))}")


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
    probes = _probes(current_app.config["SETTINGS"])
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
        params = parse(config.database_url)
        params.pop("database", None)
        psycopg2.connect(dbname="postgres", connect_timeout=max(int(seconds), 1), **params).close()

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
        client = MongoClient(
            config.mongo_url, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms
        )
        try:
            client.admin.command("ping")
        finally:
            client.close()

    return {"postgresql": postgresql, "rabbitmq": rabbitmq, "redis": redis_, "mongodb": mongodb}


@click.command("erase-phone")
@click.argument("phones", nargs=-1, required=True)
@with_appcontext
def erase_phone_command(phones: tuple[str, ...]) -> None:
    """Remove each phone number from PostgreSQL, the attempt history and the status store."""
    for typed in phones:
        try:
            phone = normalize_phone(typed)
        except ValidationError:
            raise click.BadParameter("not a mobile number", param_hint="PHONES") from None
        erased = erase_phone(current_app, _owner_url(current_app.config["SETTINGS"]), phone)
        click.echo(
            f"{mask_phone(phone)}: {erased.registrations} registration(s), "
            f"{erased.attempts} attempt document(s), {erased.statuses} status(es), "
            f"{erased.limit_counters} limit counter(s) removed"
        )


def register_commands(app: Flask) -> None:
    app.cli.add_command(erase_phone_command)
    app.cli.add_command(migrate)
    app.cli.add_command(init_db)
    app.cli.add_command(migrate_queues_command)
    app.cli.add_command(wait_for_services)
