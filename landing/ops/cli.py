"""Operator commands: `flask --app landing migrate|init-db|migrate-queues|wait-for-services|
erase-phone|export|stats|hash-token`.

`migrate` prepares every store this version needs (PostgreSQL's schema, then RabbitMQ's
queues); deploys run it before web and workers start (compose's one-shot `migrate`).
"""

import json
import logging
import secrets

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError

from landing.admin.auth import SCOPES, digest_of, parse_tokens, scope_text
from landing.admin.stats import stats
from landing.ops.database_roles import grant_app_role
from landing.ops.erasure import erase_phone
from landing.ops.queue_migration import MigrationRefused, migrate_queues
from landing.ops.wait_for_services import wait_for_services
from landing.schemas import normalize_phone
from landing.shared.db import apply_schema, create_database_if_missing
from landing.shared.exports import Filters, read_url, write_csv
from landing.shared.exports import connect as connect_reads
from landing.shared.mongo import ATTEMPTS, DEFAULT_DATABASE
from landing.shared.privacy import mask_phone
from landing.shared.rabbitmq import node_parameters
from landing.shared.settings import Settings
from landing.shared.signup import QUEUES

ATTEMPT_SECONDS = 2.0  # one connection attempt never runs past this, so the deadline holds


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


@click.command("erase-phone")
@click.argument("phones", nargs=-1, required=True)
@with_appcontext
def erase_phone_command(phones: tuple[str, ...]) -> None:
    """Remove each phone number from every store and its exports, and keep it out of them:
    what is still queued about it is dropped (its tombstone)."""
    for typed in phones:
        try:
            phone = normalize_phone(typed)
        except ValidationError:
            raise click.BadParameter("not a mobile number", param_hint="PHONES") from None
        erased = erase_phone(current_app, _owner_url(current_app.config["SETTINGS"]), phone)
        click.echo(
            f"{mask_phone(phone)}: {erased.registrations} registration(s), "
            f"{erased.attempts} attempt document(s), {erased.statuses} status(es), "
            f"{erased.limit_counters} limit counter(s), {erased.exports} export(s) removed; "
            f"anything about it received before now is dropped until {erased.suppressed_until}"
        )


_FILTER_OPTIONS = (
    click.option("--referrer", help="only this referrer"),
    click.option("--created-after", help="ISO 8601, inclusive"),
    click.option("--created-before", help="ISO 8601, exclusive"),
)


def _with_filters(command):
    for option in reversed(_FILTER_OPTIONS):
        command = option(command)
    return command


def _cli_filters(options: dict) -> Filters:
    try:
        return Filters.from_args(options)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@click.command("export")
@_with_filters
@click.option("--phone-prefix", help="only numbers starting with these digits")
@click.option("--out", type=click.File("w", encoding="utf-8", lazy=True), default="-")
@with_appcontext
def export_command(out, **options) -> None:
    """Write registrations as CSV (to --out, else stdout), from DATABASE_READ_URL if set."""
    filters = _cli_filters(options)
    conn = connect_reads(read_url(current_app.config["SETTINGS"]))
    try:
        written = write_csv(conn, filters, out, lambda rows: None)
    finally:
        conn.close()
    click.echo(f"{written} registration(s) exported", err=True)


@click.command("stats")
@click.option("--created-after", help="ISO 8601, inclusive")
@click.option("--created-before", help="ISO 8601, exclusive")
@with_appcontext
def stats_command(**options) -> None:
    """Print registrations per day and per referrer, and attempts' duplicate/invalid rates."""
    collection = current_app.extensions["mongo"].get_default_database(DEFAULT_DATABASE)[ATTEMPTS]
    report = stats(current_app.extensions["admin_reads"], collection, _cli_filters(options))
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))


@click.command("hash-token")
@click.option(
    "--scopes",
    metavar="SCOPES",
    help=f"what the token may do, joined by +: {', '.join(SCOPES)} (default: all of them)",
)
def hash_token(scopes: str | None) -> None:
    """Make a new operator token: give the token to the operator, the entry to ADMIN_TOKENS."""
    token = secrets.token_urlsafe(32)
    digest = digest_of(token)
    try:
        [granted] = parse_tokens(f"{digest}:{scopes}" if scopes else digest).values()
    except ValueError:
        raise click.BadParameter(
            f"{', '.join(SCOPES)}, joined by +", param_hint="--scopes"
        ) from None
    click.echo(f"token:  {token}")
    click.echo(f"digest: {digest}")
    click.echo(f"scopes: {scope_text(granted)}")
    click.echo(f"entry:  {digest}:{scope_text(granted)}" if scopes else f"entry:  {digest}")


def register_commands(app: Flask) -> None:
    app.cli.add_command(export_command)
    app.cli.add_command(stats_command)
    app.cli.add_command(hash_token)
    app.cli.add_command(erase_phone_command)
    app.cli.add_command(migrate)
    app.cli.add_command(init_db)
    app.cli.add_command(migrate_queues_command)
    app.cli.add_command(wait_for_services)
