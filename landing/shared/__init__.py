"""The contract the web (landing/, landing/ops/) and the workers (actors/) share.

The sign-up record and its messages (signup), queue declarations (queues, rabbitmq), the
publisher that holds every accepted sign-up until RabbitMQ confirms it (publisher,
confirmed_link, queue_watch), settings, JSON logging and privacy, the stores both sides
name (db, mongo, results), and failure's vocabulary (failures: transient or permanent).

The rule: modules here import neither Flask nor the workers' middleware, and importing one
has no side effect: no broker built or set, no connection opened. A process opens what it
needs where it starts, from the Settings it was given.
"""
