"""Flask extensions, created unbound; create_app binds them to an app."""

from flask_limiter import Limiter

from landing.visitor import rate_limit_key

limiter = Limiter(key_func=rate_limit_key)
