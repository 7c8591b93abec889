"""The fault soak, small: real gunicorn and db_worker processes on PostgreSQL, killed and
cut off from the database mid-traffic; every acknowledged notification must settle by
itself and every paid payment's success signal must arrive exactly once.

It runs bench/soak/soak.py (see bench/soak/README.md) in a subprocess with its own
database, ``billing_soak_ci``, on the server DATABASE_URL names (never the test
database itself), and asserts the invariants the harness checks.
"""

import json
import os
import signal
import socket
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

SOAK = Path(__file__).resolve().parent.parent / "bench" / "soak" / "soak.py"
DB_NAME = "billing_soak_ci"
LIMIT = 170  # seconds for the whole soak; it normally takes well under 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server() -> dict[str, str]:
    import dj_database_url

    db = dj_database_url.parse(os.environ["DATABASE_URL"])
    return {
        "host": str(db.get("HOST") or "127.0.0.1"),
        "port": str(db.get("PORT") or "5432"),
        "user": str(db.get("USER") or "postgres"),
        "password": str(db.get("PASSWORD") or ""),
    }


def drop_database(where: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(
        host=where["host"],
        port=where["port"],
        user=where["user"],
        password=where["password"] or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.parametrize("raise_rate", [0.0, 0.05], ids=["plain", "raising-receiver"])
def test_fault_soak(postgres: None, tmp_path: Path, raise_rate: float) -> None:
    """``raising-receiver``: the success receiver raises for 5% of calls, which must roll
    the application back and have it retried, never lose or repeat the signal."""
    missing = [name for name in ("gunicorn", "django_tasks_db", "psycopg") if not find_spec(name)]
    if missing:
        skip_or_fail("postgres", f"the fault soak needs {', '.join(missing)} (the test extra)")
    where = server()
    out = tmp_path / "result.json"
    cmd = [
        sys.executable,
        str(SOAK),
        "--payments", "200",
        "--fault-rounds", "1",
        "--connections", "16",
        "--rate", "40",  # about 6 s of traffic, so the faults land in it
        "--gunicorn-workers", "3",
        "--db-workers", "3",
        "--settle-timeout", "40",
        "--traffic-timeout", "60",
        "--db", DB_NAME,
        "--db-host", where["host"],
        "--db-port", where["port"],
        "--db-user", where["user"],
        "--port", str(free_port()),
        "--raise-rate", str(raise_rate),
        "--seed", "7",
        "--logs", str(tmp_path / "logs"),
        "--json", str(out),
    ]  # fmt: skip
    env = {**os.environ, "SOAK_DB_PASSWORD": where["password"]}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the soak's shop has its own settings
    proc = subprocess.Popen(
        cmd, cwd=SOAK.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        try:
            output, _ = proc.communicate(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # the harness stops what it started
            try:
                output, _ = proc.communicate(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            pytest.fail(f"the soak took over {LIMIT} s:\n{output.decode(errors='replace')}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        try:
            drop_database(where)  # the harness drops it too; this covers a killed harness
        except Exception as exc:  # never hide the soak's own failure behind this one
            print(f"could not drop {DB_NAME}: {exc}")
    text = output.decode(errors="replace")
    assert out.exists(), f"the soak wrote no result (exit {proc.returncode}):\n{text}"
    result = json.loads(out.read_text())
    failed = [name for name, ok in result["checks"].items() if not ok]
    assert not failed, f"{failed}\n{text}"
    assert proc.returncode == 0, text

    # The same invariants, spelled out.
    assert result["acknowledged"] > 0
    assert result["lost_count"] == 0
    assert result["stranded"] == 0, result["stranded_rows"]
    assert result["bad_paid"] == []
    assert result["genuine_unpaid_count"] == 0
    assert (result["signals_min"], result["signals_max"]) == (1, 1)
    assert result["signals_zero"] == result["signals_many"] == result["signals_unpaid"] == 0
    counts = result["fault_counts"]
    assert counts["gunicorn worker SIGKILL"] >= 1
    assert counts["db_worker SIGKILL"] >= 1
    assert counts["pg_terminate_backend"] >= 1
