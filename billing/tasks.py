"""Processing through Django's Tasks framework (django.tasks, or the django-tasks backport)."""

from datetime import datetime

try:  # Django 6
    from django.tasks import task, task_backends
except ImportError:  # Django 5.2
    from django_tasks import task, task_backends  # type: ignore[no-redef,assignment]

from . import conf


@task()
def process_notification(log_id: int) -> str:
    from .pipeline import process

    return process(log_id)


def enqueue(log_id: int, run_after: datetime | None = None) -> None:
    """Run now (immediate backend) or queue it; a delayed retry needs a backend that defers.

    Without one, ``manage.py billing_process --due`` picks up what is due.
    """
    alias = conf.task_backend_alias()
    bound = process_notification.using(backend=alias)
    if run_after is not None:
        if not task_backends[alias].supports_defer:
            return
        bound = bound.using(run_after=run_after)
    bound.enqueue(log_id)
