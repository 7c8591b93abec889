"""``python -m billing`` and the ``billing`` console script; see ``billing --help``."""

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
