"""How many messages wait on the broker's queues: read without consuming (a passive declare), kept a few seconds
so that pages polling for status do not open a broker connection on every request."""

import logging

from django.core.cache import cache
from kombu.exceptions import ChannelError, OperationalError

logger = logging.getLogger(__name__)

KEEP_SECONDS = 3
CONNECT_TIMEOUT = 2.0


def queue_depths(*, names: list[str]) -> dict[str, int | None]:
    """Messages waiting on each queue of ``names`` (not those a worker has taken); None where the broker could
    not be asked. A queue the broker does not know yet holds nothing."""
    from portal.celery import app

    key = "portal.workers.queue_depths:" + app.conf.broker_url.split("@")[-1] + ":" + ",".join(sorted(names))
    depths = cache.get(key)
    if depths is not None:
        return depths
    depths = dict.fromkeys(names)
    try:
        with app.connection_for_read(connect_timeout=CONNECT_TIMEOUT) as connection:
            connection.ensure_connection(max_retries=1)
            channel = connection.default_channel
            for name in names:
                try:
                    depths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except ChannelError:  # never declared: nothing was ever sent to it
                    depths[name] = 0
    except (OSError, OperationalError, ChannelError) as exc:
        logger.warning("could not read the broker's queue lengths: %s", exc)
    cache.set(key, depths, KEEP_SECONDS)
    return depths
