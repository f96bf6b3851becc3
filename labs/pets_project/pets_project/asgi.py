"""Entry point for ASGI servers (unused by the lab, kept for completeness)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pets_project.settings")

application = get_asgi_application()
