"""gunicorn settings of the soak (soak.py passes the rest on the command line)."""

import signal


def on_starting(server: object) -> None:
    """The master gets SIGTERM if soak.py dies, so no server outlives the run."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
