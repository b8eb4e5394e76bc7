"""ASGI entry point: the live streams (docs/decisions/0001-serving.md, 0006-queue-streams.md).

Ordinary pages and the API are served over WSGI by granian; `shouwang serve` runs this
application in a second granian process for the Server-Sent Events. /q/stream/ goes to the
queue's lean stream app (no Django request or middleware per stream: ≈45 KB and a slow open
per stream saved); anything else reaches Django's ASGI handler, so the stream server can also
answer a page if a proxy sends one there.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

# Imported after Django is set up: they use the models.
from shouwang.core import events  # noqa: E402
from shouwang.queues import stream as queue_stream  # noqa: E402


async def lifespan(scope, receive, send):
    """Start-up has nothing to prepare (hubs start with their first watcher); shutdown stops
    the pollers and closes their database connections. Django's handler refuses lifespan."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await events.shutdown()
            except Exception as e:  # noqa: BLE001 - reported to the server, which logs it
                await send({"type": "lifespan.shutdown.failed", "message": str(e)})
            else:
                await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"].startswith(queue_stream.PREFIX):
        return await queue_stream.app(scope, receive, send)
    if scope["type"] == "lifespan":
        return await lifespan(scope, receive, send)
    return await django_application(scope, receive, send)
