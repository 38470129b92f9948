"""The WSGI application: the narrow path (`masthead.newsroom.fast`) in front of Django's.

Signed-out GET/HEAD reads of a URL this process knows are answered by the narrow path with the
same doors, shells and headers; everything else goes to the full Django stack
(docs/decisions/0025-narrow-path-and-signed-in-cache.md). `MASTHEAD_NARROW_PATH=0` turns it off.
"""

import os
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
django_application = get_wsgi_application()

if os.environ.get("MASTHEAD_NARROW_PATH", "1") != "0":
    from masthead.newsroom.fast import NarrowPath  # after django.setup(): it imports models

    application: Any = NarrowPath(django_application)
else:
    application = django_application
