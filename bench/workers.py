"""A pool of django-tasks-db workers for the benchmark: N processes running ``db_worker``.

Django is set up once, then the process forks N children and each runs the stock
``manage.py db_worker`` command (one task at a time, as the command does). Forking after
setup saves N Django start-ups on a 2-core machine; the work per task is unchanged.
The pool is its own process group: SIGTERM to the group (bench.py does that) reaches every
child, which finishes its current task and exits; a child also gets SIGTERM if the parent
dies.

    python workers.py 64
"""

import os
import signal
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(count: int, interval: str) -> None:
    os.setpgid(0, 0)
    connections.close_all()
    children = []
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            _die_with_parent()
            code = 0
            try:
                call_command(
                    "db_worker",
                    "--interval",
                    interval,
                    "--no-startup-delay",
                    "--no-reload",
                    "--worker-id",
                    f"bench-{os.getpid()}-{index}",
                    verbosity=0,
                )
            except SystemExit as exc:  # db_worker's own graceful shutdown
                code = exc.code if isinstance(exc.code, int) else 0
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)

    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group's SIGTERM is for the children
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for child in children:
        while True:
            try:
                os.waitpid(child, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "0.5")
