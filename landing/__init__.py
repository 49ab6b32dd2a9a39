"""landing: the front door of a landing page that never loses a sign-up.

Who runs what:
    landing/          the public API (gunicorn 'landing:create_app()'): the app factory,
                      views, schemas, errors, the visitor's address.
    landing/ops/      operators' tools, never behind the public door: health and metrics
                      routes, the `flask --app landing` commands, the task dashboard.
    landing/shared/   the contract the web and the workers share (the sign-up record,
                      queues, settings, the publisher, logging); it imports neither Flask
                      nor the workers' middleware.
    actors/           the workers (`dramatiq actors.worker`).
"""


def create_app(settings=None):
    """The public WSGI app; see landing.app.create_app.

    Imported from here so `flask --app landing` and 'landing:create_app()' find it, and only
    when called, so the workers, which import landing.shared, never import Flask.
    """
    from landing.app import create_app as build

    return build(settings)
