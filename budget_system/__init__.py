# Load the Celery app with Django so that shared tasks and `delay_on_commit` use it.
from budget_system.celery import app as celery_app

__all__ = ("celery_app",)
