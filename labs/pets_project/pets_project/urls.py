"""URLs of the pets project: the pets pages at the root, the admin site."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("pets_app.urls")),
]

# With local media storage, let runserver hand out the pictures in debug mode.
# (static() adds nothing when DEBUG is off; S3 serves its own links.)
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# On Elastic Beanstalk the proxy answers /static/ from STATIC_ROOT and Django
# never sees those requests. Where no such proxy runs (the labcheck sandbox
# serves the project with gunicorn alone), DJANGO_SERVE_STATIC=1 makes Django
# serve the collected files itself, in the same place. Slow; off by default.
if settings.SERVE_STATIC:
    urlpatterns += [
        re_path(
            rf"^{settings.STATIC_URL.lstrip('/')}(?P<path>.*)$",
            serve,
            {"document_root": settings.STATIC_ROOT},
        )
    ]
