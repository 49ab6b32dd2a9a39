"""A TCP forwarder in front of the MongoDB stand-in: `python -m harness.gate LISTEN TARGET`.

The stand-in keeps its documents in memory, so killing it would erase the log written
before an outage. The app talks to this gate instead; killing the gate is MongoDB down
(connections reset, new ones refused) while the documents survive behind it, as they
would on a real mongod's disk. Starting it again on the same port ends the outage.
"""

import asyncio
import contextlib
import sys

HOST = "127.0.0.1"


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass  # either side went away: the pair is finished
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _forwarder(target: int):
    async def handle(client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(HOST, target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pump(client_reader, server_writer), _pump(server_reader, client_writer)
        )

    return handle


async def serve(listen: int, target: int) -> None:
    """Forward HOST:listen to HOST:target until killed.

    SIGTERM keeps its default action: the process ends at once and the kernel resets
    every connection, which is what MongoDB going down looks like to its clients.
    """
    server = await asyncio.start_server(_forwarder(target), HOST, listen, reuse_address=True)
    print(f"gate {HOST}:{listen} -> {target}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2])))
