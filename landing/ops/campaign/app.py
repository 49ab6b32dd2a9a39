"""The campaign page's Flask app, with the connections its reads, exports and erasures use."""

from flask import Flask

from landing.admin.queries import Queries
from landing.admission.keys import PhoneKeys
from landing.ops.campaign import PATH, views
from landing.ops.campaign.figures import AttemptFigures
from landing.ops.dashboard.management_api import ManagementAPI
from landing.shared.exports import read_url
from landing.shared.mongo import ATTEMPTS, DEFAULT_DATABASE
from landing.shared.mongo import connect as connect_mongo
from landing.shared.publisher import Publisher
from landing.shared.results import build_result_backend
from landing.shared.settings import Settings


def create_campaign(settings: Settings, api: ManagementAPI) -> Flask:
    """The page's WSGI app; it expects SCRIPT_NAME to be the dashboard's prefix."""
    app = Flask(__name__, static_url_path=f"{PATH}/static")
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=4096)
    app.extensions["campaign_queries"] = Queries(
        read_url(settings), settings.admin_statement_timeout_ms
    )
    app.extensions["management_api"] = api
    mongo = connect_mongo(settings.mongo_url, settings.mongo_timeout_ms)
    app.extensions["mongo"] = mongo  # erasure's name for it
    attempts = mongo.get_default_database(DEFAULT_DATABASE)[ATTEMPTS]
    app.extensions["attempt_figures"] = AttemptFigures(attempts)
    app.extensions["results"] = build_result_backend(settings)  # export progress, erasure
    app.extensions["phone_keys"] = PhoneKeys(settings.limit_key_secret)  # erasure
    app.extensions["publisher"] = Publisher.for_settings(settings)  # exports
    app.register_blueprint(views.bp, url_prefix=PATH)
    views.register_errors(app)
    return app


def close_campaign(app: Flask) -> None:
    """Close the connections the page opened (tests build several)."""
    app.extensions["publisher"].close()
    app.extensions["mongo"].close()
    app.extensions["results"].client.close()
    app.extensions["campaign_queries"].database.close_all()
