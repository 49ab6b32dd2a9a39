"""`make drills`: fault drills under load, proving every 202 becomes exactly one row.

Everything runs against private instances started here (PostgreSQL, Redis, RabbitMQ nodes,
the MongoDB stand-in, on free ports in a temp directory), never the machine's shared ones.
"""
