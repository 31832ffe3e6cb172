from django.apps import AppConfig


class DaypartingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dayparting"
