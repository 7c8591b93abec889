"""One django-tasks-db worker of the soak: the stock ``db_worker`` command, unchanged.

    python dbworker.py WORKER_ID [INTERVAL]

The only addition is PR_SET_PDEATHSIG: the worker gets SIGTERM if soak.py dies, so no
worker outlives the run. soak.py starts one process per worker (it SIGKILLs one of
them as a fault and starts a replacement).
"""

import os
import signal
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soaksite.settings")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(worker_id: str, interval: str) -> None:
    _die_with_parent()
    import django

    django.setup()
    from django.core.management import call_command

    call_command(
        "db_worker",
        "--interval",
        interval,
        "--no-startup-delay",
        "--no-reload",
        "--worker-id",
        worker_id,
        verbosity=1,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "0.2")
