"""What `dramatiq actors.worker` runs: the workers' broker and both actors, from the environment.

This is the one module with a side effect at import, because that is how dramatiq's CLI
finds a broker: it imports the module and uses the broker set here.
"""

import dramatiq
import dramatiq.worker

from actors.broker import build_workers
from landing.shared.settings import load

config = load(process="worker")
# dramatiq's CLI builds its Worker without a delay prefetch, so the Worker reads this module
# constant (from an environment variable of dramatiq's own, read once at its import).
dramatiq.worker.DELAY_QUEUE_PREFETCH = config.worker_delay_prefetch
workers = build_workers(config)
broker = workers.broker
dramatiq.set_broker(broker)
