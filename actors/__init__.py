"""What the workers run: one module per message family, its actor a verb.

    dramatiq actors.worker     # both queues; -Q registrations or -Q attempts for one

actors.worker builds the broker and its middleware (actors.broker) when dramatiq imports it;
importing any other module here sets nothing up. The workers stand on landing.shared (the
sign-up record, queues, settings, the publisher), never on the web's modules.
"""
