"""Reading what RabbitMQ holds, as a test checks it."""


def take_all(broker, queue: str, timeout_ms: int = 200) -> list:
    """Every message in queue (acknowledged, so gone), waiting timeout_ms for the next one."""
    consumer = broker.consume(queue, timeout=timeout_ms)
    messages = []
    while (message := next(consumer)) is not None:
        messages.append(message)
        consumer.ack(message)
    consumer.close()
    return messages
