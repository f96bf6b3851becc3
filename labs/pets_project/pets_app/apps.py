from django.apps import AppConfig


class PetsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pets_app"
    verbose_name = "Pets"
