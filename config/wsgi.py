import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# A household's own "take a number" press is answered without the middleware stack (the burst
# when a sale opens); every other request goes to Django unchanged. See shouwang/queues/quick.py.
from shouwang.queues.quick import QuickTake  # noqa: E402

application = QuickTake(application)

# The sampling page's scans (JSON with a station key in a header) likewise skip the middleware,
# which does nothing for them. See shouwang/screening/quick.py.
from shouwang.screening.quick import QuickScan  # noqa: E402

application = QuickScan(application)

# The checkpoint pass decision (JSON with a gate key in a header) likewise. See
# shouwang/checkpoints/quick.py.
from shouwang.checkpoints.quick import QuickPass  # noqa: E402

application = QuickPass(application)

# A volunteer grabbing a place (JSON with a grab key in a header) likewise. See
# shouwang/volunteers/quick.py.
from shouwang.volunteers.quick import QuickGrab  # noqa: E402

application = QuickGrab(application)
