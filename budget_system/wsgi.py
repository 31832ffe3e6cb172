import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_system.settings")

from budget_system.chunked import ChunkedBodyReader  # noqa: E402 (needs the settings module named)

# A chunked body is read here, before Django, which only reads Content-Length bytes.
application = ChunkedBodyReader(get_wsgi_application())
