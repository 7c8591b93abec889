"""Summarise py-spy raw profiles (collapsed stacks) of the gunicorn workers.

    python profile_summary.py results/profile-billing-*.txt

Prints, as a share of all samples taken inside a request: the inclusive time of every
billing function and of a few library entry points (queries, postback, template), so a
hot spot can be named by file and line.
"""

import re
import sys
from collections import Counter

FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:]+):(?P<line>\d+)\)$")
WATCH = (
    "billing/",
    "django/db/models/sql/compiler.py",
    "psycopg/",
    "httpx/",
    "django_tasks",
    "paypal/",
    "requests/",
)


def main(paths: list[str]) -> None:
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for path in paths:
        with open(path) as handle:
            for line in handle:
                stack, _, count = line.rstrip("\n").rpartition(" ")
                if "handle_request" not in stack:
                    continue  # idle between requests
                n = int(count)
                total += n
                seen = set()
                frames = stack.split(";")
                for frame in frames:
                    m = FRAME.match(frame)
                    if not m:
                        continue
                    file = m["file"]
                    if file.startswith("billing/"):
                        key = f"{m['func']} ({file}:{m['line']})"
                    elif file == "django/db/models/sql/compiler.py" and m["func"].endswith(
                        ("execute_sql",)
                    ):
                        key = "Django ORM: SQLCompiler.execute_sql (all queries)"
                    elif file.startswith("psycopg/") and m["func"].endswith("wait"):
                        key = "psycopg: waiting on PostgreSQL (round trips, commits)"
                    elif file.startswith("httpx/") and m["func"] == "Client.send":
                        key = "httpx: Client.send (postback)"
                    elif file.startswith("requests/") and m["func"] == "post":
                        key = "requests: post (django-paypal's postback)"
                    else:
                        continue
                    if key not in seen:
                        seen.add(key)
                        inclusive[key] += n
                m = FRAME.match(frames[-1])
                if m:
                    leaves[f"{m['func']} ({m['file']}:{m['line']})"] += n
    if not total:
        print("no samples inside requests")
        return
    print(f"py-spy: {total} samples inside requests; inclusive share of request time:")
    for key, n in inclusive.most_common(30):
        print(f"  {100 * n / total:5.1f}%  {key}")
    print("hottest leaf frames:")
    for key, n in leaves.most_common(12):
        print(f"  {100 * n / total:5.1f}%  {key}")


if __name__ == "__main__":
    main(sys.argv[1:])
