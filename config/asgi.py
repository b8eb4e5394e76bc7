"""ASGI entry point, for the live streams later issues add (see docs/decisions/0001-serving.md).

Ordinary pages and the API are served over WSGI by granian; this application exists so that
Server-Sent Events can be served by an ASGI worker without changing any view.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
