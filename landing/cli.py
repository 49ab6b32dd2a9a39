"""Operator commands: `flask --app landing init-db`."""

import click
from flask import Flask, current_app

from actors.db import apply_schema, create_database_if_missing


@click.command("init-db")
def init_db() -> None:
    """Create the database if needed and apply schema.sql (safe to run on every start)."""
    url = current_app.config["SETTINGS"].database_url
    if create_database_if_missing(url):
        click.echo("created the database")
    apply_schema()
    click.echo("schema.sql applied")


def register_commands(app: Flask) -> None:
    app.cli.add_command(init_db)
