"""Serve a MongoDB-wire stand-in (mongoeco) where MONGO_URL points, unless MongoDB answers there.

Local development and the tests have no MongoDB server (none can be installed on our
machines); pymongo talks to this stand-in over a real socket instead. Data lives in memory.
Usage: python scripts/mongo_standin.py [MONGO_URL]
"""

import asyncio
import os
import signal
import sys

from pymongo import MongoClient, uri_parser

DEFAULT_URL = "mongodb://127.0.0.1:27017/logs"


def real_mongo_answers(url: str) -> bool:
    """True when something already answers MongoDB's ping at url."""
    client = MongoClient(url, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


async def serve(host: str, port: int) -> None:
    from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncMongoEcoProxyServer(host=host, port=port, pymongo_profile="auto-installed"):
        print(f"mongoeco stand-in listening on {host}:{port}", flush=True)
        await stop.wait()


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MONGO_URL", DEFAULT_URL)
    host, port = uri_parser.parse_uri(url)["nodelist"][0]
    if real_mongo_answers(url):
        print(f"MongoDB already answers at {host}:{port}; no stand-in needed", flush=True)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})  # honcho stops everything if we exit
        return
    asyncio.run(serve(host, port))


if __name__ == "__main__":
    main()
