"""What gunicorn wraps around our WSGI apps (the API and the dashboard), each module one
concern: access_log (a JSON access log without personal data), answers (JSON answers to
requests gunicorn cannot parse, a deadline on bodies), sockets (one send per answer, new
connections accepted in bursts), worker (gevent's worker with all of it).

gunicorn.conf.py installs them (logger_class, worker_class). They import gevent and
gunicorn's internals, so only gunicorn processes import this package.
"""
