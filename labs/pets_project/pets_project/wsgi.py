"""Entry point for WSGI servers.

Elastic Beanstalk's gunicorn loads `application` from this module, as named
by WSGIPath in .ebextensions/django.config.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pets_project.settings")

application = get_wsgi_application()
