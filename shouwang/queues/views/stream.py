"""The queue's live stream served through Django (`/q/stream/<key>/?n=<number>`).

In production config/asgi.py sends /q/stream/ to the lean ASGI app in shouwang.queues.stream
before Django sees it; this view serves the same bytes when Django does get the request:

- under ASGI (Django's handler, the test AsyncClient) it streams until the client leaves;
- under WSGI (the page server of `shouwang serve`) a stream would hold one of a few threads
  for as long as a phone watches, so it answers with the current state and `retry: 5000` and
  ends: EventSource reconnects in 5 s, which is polling.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from shouwang.queues import stream as live


def _headers(response):
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
async def stream(request, key: str):
    number = live.parse_number(request.GET.get("n"))
    if not isinstance(request, ASGIRequest):
        body = await sync_to_async(live.one_message)(key, number)
        if body is None:
            raise Http404
        return _headers(HttpResponse(body, content_type="text/event-stream"))
    day_id = await live.key_to_id(key)
    if day_id is None:
        raise Http404
    response = StreamingHttpResponse(live.chunks(day_id, number), content_type="text/event-stream")
    return _headers(response)
