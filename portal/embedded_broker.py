"""The embedded default's Celery broker: kombu's SQLAlchemy transport on a SQLite file of its own (settings).

kombu takes a message inside `BEGIN IMMEDIATE` on SQLite, so two workers never take the same one and no process ever
reads a half-written message (README, "The embedded broker"). Imported only when that broker is in use.
"""

from kombu.transport import sqlalchemy


class EmbeddedBrokerTransport(sqlalchemy.Transport):
    # kombu polls this transport, once a second by default: a worker whose two slots are busy then takes at most two
    # messages a second, and a burst of Connect deliveries queues up for minutes.
    polling_interval = 0.1
