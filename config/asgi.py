"""ASGI entry point for Daphne: HTTP through Django, WebSockets through Channels.

The Twilio media-stream route sits outside the browser-origin validator on purpose:
Twilio sends no Origin header; it is authenticated by signature and single-use token.

Once the application is built, everything imported so far (Django, the apps, the openai SDK)
lives as long as the process, so it is frozen out of the cyclic garbage collector: a full
collection over those ~180 000 objects took 300-400 ms, stalling every live call's audio and
truncating barge-ins late (see voiceagent's figures). Per-call objects are still collected.

Under Daphne, the serving stack is tuned first (voiceagent.serving: Twisted's reactor on uvloop,
no formatting of autobahn's per-frame debug arguments); outside Daphne the loop is untouched.
"""

import gc
import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from voiceagent.serving import tune_serving_stack

tune_serving_stack()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()
if settings.DEBUG:
    # `make run` serves the admin's CSS and JS itself; production serves collected static
    # files in front of Daphne.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from voiceagent.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

gc.collect()  # garbage made while importing must not be frozen
gc.freeze()
