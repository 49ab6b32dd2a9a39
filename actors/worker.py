"""What `dramatiq actors.worker` runs: the workers' broker and both actors, from the environment.

This is the one module with a side effect at import, because that is how dramatiq's CLI
finds a broker: it imports the module and uses the broker set here.
"""

import dramatiq

from actors.broker import build_workers
from landing.shared.settings import load

workers = build_workers(load(process="worker"))
broker = workers.broker
dramatiq.set_broker(broker)
