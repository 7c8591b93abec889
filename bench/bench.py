"""Run every row of the notify benchmark and print one table (called by run.sh).

Rows, all against the same gunicorn settings (sync workers, benchsite.settings):

  bare            a Django view that answers an empty 200          (the framework floor)
  insert          a view that INSERTs the body, autocommit          (the durable floor)
  billing         POST /billing/pay_pal/notify/, immediate backend  (store, verify, apply, ack)
  django-paypal   django-paypal 2.1's IPN view                      (postback inline)
  ... the last two again with a delayed postback, and
  billing+db      billing with django-tasks-db and db_worker processes running: the ack
                  stores and queues; the workers verify and apply; the run waits for them
                  to drain and checks that nothing acknowledged was lost.

Every request posts a distinct IPN (own invoice and txn_id, see notify.lua); before each
measured row the tables are emptied and the row's payments created, so each billing
notification is applied to its own pending payment.

CPU ms per request: utime+stime of the gunicorn master and workers (plus db_worker
processes in the billing+db row, through the drain) over the row, divided by the
requests wrk completed; "pg" is the same for all PostgreSQL processes, "pb" for the
postback server.

Each row runs BENCH_REPEAT times for BENCH_DURATION seconds, in rounds over the rows that
share a gunicorn, and the table shows medians; the tasks-db row runs once.

Configuration (environment): BENCH_DURATION (s per repetition, default 5), BENCH_REPEAT
(3), BENCH_DB_DURATION (s, 12), BENCH_WARMUP (2), BENCH_CONNECTIONS (16), BENCH_THREADS
(2), BENCH_WORKERS (gunicorn, 4), BENCH_DELAY_MS (200), BENCH_DB_WORKERS (16),
BENCH_DRAIN_TIMEOUT (s, 150), BENCH_QUIET_WAIT (s, 5), BENCH_PORT (8800), BENCH_ROWS
(comma list of row keys, default all), BENCH_PROFILE=1 (py-spy on the gunicorn workers
during the billing rows; needs py-spy in the venv).
"""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PY = sys.executable
BIN = Path(PY).parent

DURATION = int(os.environ.get("BENCH_DURATION", "5"))  # per repetition
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
DB_DURATION = int(os.environ.get("BENCH_DB_DURATION", "12"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
DELAY_MS = int(os.environ.get("BENCH_DELAY_MS", "200"))
DB_WORKERS = int(os.environ.get("BENCH_DB_WORKERS", "16"))
DRAIN_TIMEOUT = float(os.environ.get("BENCH_DRAIN_TIMEOUT", "150"))
PORT = int(os.environ.get("BENCH_PORT", "8800"))
PB_FAST, PB_SLOW = PORT + 1, PORT + 2
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
QUIET_WAIT = float(os.environ.get("BENCH_QUIET_WAIT", "5"))
# Payments created per wrk thread and row: more than one thread can send in a row.
PAYMENTS_PER_THREAD = int(os.environ.get("BENCH_PAYMENTS_PER_THREAD", "20000"))

CLK_TCK = os.sysconf("SC_CLK_TCK")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
sys.path.insert(0, str(HERE))


@dataclass
class Row:
    key: str
    label: str
    path: str
    tag: str  # invoice/txn_id prefix letter, one per row
    delay: int  # postback delay of this row's gunicorn group, ms
    tasks: str = "immediate"  # immediate | db
    kind: str = "billing"  # bare | insert | billing | paypal
    result: dict = field(default_factory=dict)


ROWS = [
    Row("bare", "bare Django view", "/bare/", "B", 0, kind="bare"),
    Row("insert", "INSERT body", "/insert/", "I", 0, kind="insert"),
    Row("billing", "billing notify", "/billing/pay_pal/notify/", "N", 0),
    Row("paypal", "django-paypal 2.1", "/paypal/", "P", 0, kind="paypal"),
    Row("paypal_slow", "django-paypal 2.1", "/paypal/", "Q", DELAY_MS, kind="paypal"),
    Row("billing_slow", "billing notify", "/billing/pay_pal/notify/", "S", DELAY_MS),
    Row("billing_db", "billing notify+db", "/billing/pay_pal/notify/", "D", DELAY_MS, "db"),
]


# -- processes and CPU -----------------------------------------------------------------------


def stat(pid: int) -> tuple[int, int, int]:
    """(own utime+stime, children's cutime+cstime, ppid) in clock ticks; zeros if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0, 0, 0
    rest = raw[raw.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state): ppid=4, utime=14, stime=15, cutime=16, cstime=17
    return int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14]), int(rest[1])


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def tree_cpu(root: int) -> float:
    """CPU seconds of root and its live descendants, plus what root reaped from exited ones."""
    parents = {}
    for pid in all_pids():
        parents[pid] = stat(pid)[2]
    members = {root}
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in members and pid not in members:
                members.add(pid)
                changed = True
    ticks = sum(stat(pid)[0] for pid in members) + stat(root)[1]
    return ticks / CLK_TCK


def postmaster_pid() -> int | None:
    for pid in all_pids():
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if comm == "postgres":
            ppid = stat(pid)[2]
            try:
                parent = Path(f"/proc/{ppid}/comm").read_text().strip()
            except OSError:
                parent = ""
            if parent != "postgres":
                return pid
    return None


class Meter:
    """CPU seconds of the app processes, PostgreSQL and the postback server."""

    def __init__(self, app_roots: list[int], pb_pid: int) -> None:
        self.app_roots = app_roots
        self.pb_pid = pb_pid
        self.pg = postmaster_pid()

    def sample(self) -> dict[str, float]:
        roots = [tree_cpu(pid) for pid in self.app_roots]
        return {
            "app": sum(roots),
            "gunicorn": roots[0],
            "pg": tree_cpu(self.pg) if self.pg else 0.0,
            "pb": tree_cpu(self.pb_pid),
        }


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def wait_quiet(limit: float) -> float:
    """Wait (up to limit s) until other sessions leave the machine mostly idle; returns load."""
    deadline = time.monotonic() + limit
    while True:
        a = machine_busy()
        time.sleep(1)
        load = machine_busy() - a  # cores busy over that second
        if load < 0.3 or time.monotonic() > deadline:
            return load
        time.sleep(1)


def start(cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    out = open(log, "ab")
    return subprocess.Popen(
        cmd, cwd=HERE, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )


def stop(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


_pools: list[subprocess.Popen] = []


def stop_group(proc: subprocess.Popen | None, timeout: float = 30) -> None:
    """Stop the db_worker pool: workers.py made itself a process group led by its pid."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 (127.0.0.1 only)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# -- database --------------------------------------------------------------------------------


def db():
    from django.db import connection

    return connection


def tables() -> dict[str, str]:
    from benchsite.models import Sink
    from django_tasks_db.models import DBTaskResult
    from paypal.standard.ipn.models import PayPalIPN

    from billing.models import NotificationLog, Payment, PaymentEvent

    return {
        "log": NotificationLog._meta.db_table,
        "payment": Payment._meta.db_table,
        "event": PaymentEvent._meta.db_table,
        "task": DBTaskResult._meta.db_table,
        "ipn": PayPalIPN._meta.db_table,
        "sink": Sink._meta.db_table,
    }


def sql(query: str, params: tuple = ()) -> list[tuple]:
    with db().cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def scalar(query: str) -> int:
    return sql(query)[0][0]


def reset(row: Row) -> None:
    """Empty every table the rows write to; create this row's pending payments."""
    t = tables()
    sql(
        f"TRUNCATE {t['event']}, {t['log']}, {t['payment']}, {t['task']}, {t['ipn']}, "
        f"{t['sink']} RESTART IDENTITY CASCADE"
    )
    if row.kind == "billing":
        sql(
            f"INSERT INTO {t['payment']} (integration, reference, amount, currency, receiver,"
            " test, status, transaction_id, review_reason, created_at, updated_at)"
            " SELECT 'pay_pal', 'BENCH-' || %s || '-' || t || '-' || n, 10.00, 'USD',"
            " 'shop@example.com', true, 'pending', '', '', now(), now()"
            " FROM generate_series(1, %s) t, generate_series(1, %s) n",
            (row.tag, THREADS, PAYMENTS_PER_THREAD),
        )
    for name in t.values():
        sql(f"ANALYZE {name}")
    sql("CHECKPOINT")


def outcomes(row: Row) -> dict[str, int]:
    t = tables()
    if row.kind == "billing":
        return dict(sql(f"SELECT outcome, count(*) FROM {t['log']} GROUP BY 1 ORDER BY 1"))
    if row.kind == "paypal":
        got = sql(f"SELECT flag, flag_info, count(*) FROM {t['ipn']} GROUP BY 1, 2 ORDER BY 3")
        return {("flagged: " + info[:40] if flag else "ok"): n for flag, info, n in got}
    if row.kind == "insert":
        return {"rows": scalar(f"SELECT count(*) FROM {t['sink']}")}
    return {}


# -- load ------------------------------------------------------------------------------------


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(path: str, tag: str, seconds: int) -> dict:
    cmd = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "notify.lua"),
        f"http://127.0.0.1:{PORT}{path}",
        "--",
        tag,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=HERE).stdout
    match = re.search(r"BENCH_JSON (\{.*\})", out)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    return json.loads(match.group(1))


def settle(delay_ms: int) -> None:
    """Let gunicorn finish requests wrk left queued (their clients are gone)."""
    time.sleep(max(1.0, CONNECTIONS * delay_ms / 1000 / WORKERS + 0.5))


def profile_workers(gunicorn: subprocess.Popen, name: str, seconds: int) -> list:
    pyspy = BIN / "py-spy"
    if not pyspy.exists():
        return []
    procs = []
    log = open(RESULTS / "py-spy.log", "ab")
    for pid in all_pids():
        if stat(pid)[2] == gunicorn.pid:
            out = RESULTS / f"profile-{name}-{pid}.txt"
            procs.append(
                subprocess.Popen(
                    [
                        str(pyspy),
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(seconds),
                        "--rate",
                        "100",
                        "--format",
                        "raw",
                        "--output",
                        str(out),
                        "--nonblocking",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def warm_up(row: Row) -> None:
    """Load every worker and warm its caches and connection; the rows it writes are dropped."""
    wrk(row.path, "W", WARMUP)
    settle(row.delay)


def measure(row: Row, gunicorn: subprocess.Popen, pb: subprocess.Popen, quiet_wait: float) -> dict:
    """One wrk run of the row on freshly emptied tables; the tasks-db row also drains."""
    reset(row)
    pool = None
    roots = [gunicorn.pid]
    if row.tasks == "db":
        pool = start([PY, "workers.py", str(DB_WORKERS)], RESULTS / "workers.log", group_env(row))
        _pools.append(pool)
        roots.append(pool.pid)
        time.sleep(2)
    meter = Meter(roots, pb.pid)
    quiet = wait_quiet(quiet_wait) if quiet_wait else None
    seconds = DB_DURATION if row.tasks == "db" else DURATION
    profile = PROFILE and row.kind == "billing"
    profilers = profile_workers(gunicorn, row.key, seconds) if profile else []
    before = meter.sample()
    busy0, wrk0 = machine_busy(), children_cpu()
    load = wrk(row.path, row.tag, seconds)
    busy1, wrk1 = machine_busy(), children_cpu()
    after_load = meter.sample()
    ours = sum(after_load[k] - before[k] for k in ("app", "pg", "pb")) + (wrk1 - wrk0)
    # Cores busy with anything else (other sessions' tests, ...) during the load.
    other = max(busy1 - busy0 - ours, 0.0) / (load["duration_us"] / 1e6)
    settle(row.delay)
    drain = None
    if row.tasks == "db":
        drain = wait_drained(load)
    after = meter.sample()
    for p in profilers:
        p.wait()
    stop_group(pool)
    requests = load["requests"]
    elapsed = load["duration_us"] / 1e6
    # App CPU: to the end of the drain for the db row (the workers' share is the real cost).
    end = after if row.tasks == "db" else after_load
    return {
        "requests": requests,
        "seconds": elapsed,
        "rps": requests / elapsed,
        "ok": requests - load["status_errors"],
        "errors": {k: load[k] for k in ("status_errors", "connect", "read", "write", "timeout")},
        "p50_ms": load["p50_us"] / 1000,
        "p99_ms": load["p99_us"] / 1000,
        "cpu_ms": {k: 1000 * (end[k] - before[k]) / max(requests, 1) for k in before},
        "outcomes": outcomes(row),
        "drain": drain,
        "wrk_cpu_ms": 1000 * (wrk1 - wrk0) / max(requests, 1),
        "other_cores": other,
        "busy_before": quiet,
    }


def combine(runs: list[dict]) -> dict:
    """Medians over the repetitions of a row (sums for counts)."""
    first = runs[0]
    result = {
        "repetitions": len(runs),
        "rps_each": [round(r["rps"], 1) for r in runs],
        "requests": sum(r["requests"] for r in runs),
        "seconds": sum(r["seconds"] for r in runs),
        "drain": first["drain"],
    }
    for key in ("rps", "p50_ms", "p99_ms", "wrk_cpu_ms", "other_cores"):
        result[key] = median(r[key] for r in runs)
    result["cpu_ms"] = {k: median(r["cpu_ms"][k] for r in runs) for k in first["cpu_ms"]}
    result["errors"] = {k: sum(r["errors"][k] for r in runs) for k in first["errors"]}
    outcomes: dict[str, int] = {}
    for r in runs:
        for k, v in r["outcomes"].items():
            outcomes[k] = outcomes.get(k, 0) + v
    result["outcomes"] = outcomes
    return result


def wait_drained(load: dict) -> dict:
    t = tables()
    ok = load["requests"] - load["status_errors"]
    started = time.monotonic()
    while True:
        pending = scalar(f"SELECT count(*) FROM {t['task']} WHERE status IN ('READY', 'RUNNING')")
        if pending == 0 or time.monotonic() - started > DRAIN_TIMEOUT:
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    logs = scalar(f"SELECT count(*) FROM {t['log']}")
    tasks = dict(sql(f"SELECT status, count(*) FROM {t['task']} GROUP BY 1"))
    unprocessed = scalar(f"SELECT count(*) FROM {t['log']} WHERE outcome IN ('received', 'retry')")
    applied = scalar(f"SELECT count(*) FROM {t['log']} WHERE outcome = 'applied'")
    paid = scalar(f"SELECT count(*) FROM {t['payment']} WHERE status = 'paid'")
    events = scalar(f"SELECT count(*) FROM {t['event']}")
    missing = sql(
        f"SELECT count(*) FROM {t['log']} l WHERE NOT EXISTS (SELECT 1 FROM {t['task']} k"
        " WHERE k.args_kwargs->'args'->>0 = l.id::text)"
    )[0][0]
    return {
        "drain_s": elapsed,
        "wrk_200": ok,
        "stored": logs,
        "lost": max(ok - logs, 0),
        "in_flight_extra": max(logs - ok, 0),
        "tasks": tasks,
        "logs_without_task": missing,
        "unprocessed": unprocessed,
        "applied": applied,
        "events": events,
        "paid": paid,
        "pass": pending == 0
        and ok <= logs <= ok + CONNECTIONS
        and unprocessed == 0
        and missing == 0
        and applied == logs == events == paid,
    }


# -- the run ---------------------------------------------------------------------------------


def group_env(row: Row) -> dict[str, str]:
    """What differs between gunicorn runs: the postback server and the task backend."""
    pb_port = PB_SLOW if row.delay else PB_FAST
    return {
        "BENCH_POSTBACK_URL": f"http://127.0.0.1:{pb_port}/cgi-bin/webscr",
        "BENCH_TASKS": row.tasks,
    }


def gunicorn_for(row: Row) -> subprocess.Popen:
    env = group_env(row)
    proc = start(
        [
            str(BIN / "gunicorn"),
            "benchsite.wsgi:application",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        RESULTS / "gunicorn.log",
        env,
    )
    wait_http(f"http://127.0.0.1:{PORT}/bare/")
    return proc


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def table(rows: list[Row]) -> str:
    by_key = {r.key: r for r in rows if r.result}
    bare = by_key.get("bare")
    insert = by_key.get("insert")
    cols = [
        ("row", 18, "<"),
        ("postback", 9, ">"),
        ("tasks", 9, ">"),
        ("req/s", 7, ">"),
        ("p50 ms", 8, ">"),
        ("p99 ms", 8, ">"),
        ("app ms", 7, ">"),
        ("pg ms", 6, ">"),
        ("pb ms", 6, ">"),
        ("/bare", 7, ">"),
        ("/insert", 8, ">"),
        ("/dj-paypal", 11, ">"),
        ("errors", 7, ">"),
        ("other", 6, ">"),
    ]
    lines = ["".join(f"{name:{align}{width}}" for name, width, align in cols)]
    lines.append("-" * len(lines[0]))
    for r in rows:
        if not r.result:
            continue
        res = r.result
        ref = by_key.get("paypal_slow" if r.delay else "paypal") if r.kind == "billing" else None
        cpu = res["cpu_ms"]
        values = [
            r.label,
            f"{r.delay} ms" if r.kind in ("billing", "paypal") else "-",
            {"immediate": "inline", "db": "tasks-db"}[r.tasks] if r.kind == "billing" else "-",
            f"{res['rps']:.0f}",
            f"{res['p50_ms']:.1f}",
            f"{res['p99_ms']:.1f}",
            f"{cpu['app']:.2f}",
            f"{cpu['pg']:.2f}",
            f"{cpu['pb']:.2f}",
            fmt_ratio(res["rps"] / bare.result["rps"] if bare else None),
            fmt_ratio(res["rps"] / insert.result["rps"] if insert else None),
            fmt_ratio(res["rps"] / ref.result["rps"] if ref else None),
            str(sum(res["errors"].values())),
            f"{res['other_cores']:.2f}",
        ]
        lines.append(
            "".join(
                f"{v:{align}{width}}" for v, (_, width, align) in zip(values, cols, strict=True)
            )
        )
    return "\n".join(lines)


def main() -> int:
    import django

    django.setup()
    RESULTS.mkdir(exist_ok=True)
    if shutil.which("wrk") is None:
        print("wrk is not installed (run.sh installs it)", file=sys.stderr)
        return 2
    if PROFILE:
        for old in RESULTS.glob("profile-*.txt"):
            old.unlink()
    wanted = os.environ.get("BENCH_ROWS")
    rows = [r for r in ROWS if not wanted or r.key in wanted.split(",")]
    print(
        f"gunicorn: {WORKERS} sync workers; wrk: {THREADS} threads, {CONNECTIONS} connections;"
        f" each row {REPEAT} x {DURATION} s in interleaved rounds (medians) after a {WARMUP} s"
        f" warm-up;\npostback delays 0 and {DELAY_MS} ms; the tasks-db row: {DB_DURATION} s"
        f" once, {DB_WORKERS} db_worker processes, then the drain",
        flush=True,
    )
    pbs = {
        0: start(
            [PY, "postback.py", "--port", str(PB_FAST), "--delay-ms", "0"], RESULTS / "postback.log"
        ),
        DELAY_MS: start(
            [PY, "postback.py", "--port", str(PB_SLOW), "--delay-ms", str(DELAY_MS)],
            RESULTS / "postback.log",
        ),
    }
    gunicorn = None
    try:
        time.sleep(0.5)
        groups: dict[tuple[int, str], list[Row]] = {}
        for row in rows:
            groups.setdefault((row.delay, row.tasks), []).append(row)
        for group_rows in groups.values():
            stop(gunicorn)
            gunicorn = gunicorn_for(group_rows[0])
            for row in group_rows:
                warm_up(row)
            runs: dict[str, list[dict]] = {row.key: [] for row in group_rows}
            # Rounds: a burst of outside load hits one repetition of several rows, not
            # every repetition of one row. The tasks-db row runs once (it drains).
            repeat = 1 if group_rows[0].tasks == "db" else REPEAT
            for rep in range(repeat):
                for row in group_rows:
                    got = measure(row, gunicorn, pbs[row.delay], QUIET_WAIT if rep == 0 else 0)
                    runs[row.key].append(got)
            for row in group_rows:
                row.result = combine(runs[row.key])
                print(
                    f"  {row.key:<13} {row.path:<26} req/s {row.result['rps_each']}"
                    f" {row.result['outcomes']}",
                    flush=True,
                )
    finally:
        for pool in _pools:
            stop_group(pool)
        stop(gunicorn)
        for pb in pbs.values():
            stop(pb)

    print()
    print(table(rows))
    print()
    print(
        f"req/s, p50, p99, CPU: medians of {REPEAT} runs of {DURATION} s (the tasks-db row: one of"
        f" {DB_DURATION} s;\n  its req/s are acknowledgements, the work is queued).\n"
        "app ms: CPU ms per request of gunicorn (master + workers; in the tasks-db"
        " row also the\n  db_worker pool, through the drain); pg ms: all PostgreSQL processes;"
        " pb ms: the postback server.\n/bare, /insert: req/s over the floors; /dj-paypal: a"
        " billing row over django-paypal's row\n  with the same postback delay. errors: non-2xx"
        " and socket errors. other: cores busy with\n  processes outside the benchmark during"
        " the row (2 = the whole machine; should be ~0)."
    )
    for r in rows:
        if r.result and r.result["outcomes"]:
            print(f"outcomes {r.key}: {r.result['outcomes']}")
    for r in rows:
        d = r.result.get("drain") if r.result else None
        if not d:
            continue
        cpu = r.result["cpu_ms"]
        sustained = d["applied"] / (r.result["seconds"] + d["drain_s"])
        print(
            f"\nno-loss check ({r.key}, {DB_WORKERS} db_worker processes):"
            f" {'PASS' if d['pass'] else 'FAIL'}\n"
            f"  wrk counted {d['wrk_200']} 200s; stored {d['stored']} notifications"
            f" (lost: {d['lost']}; {d['in_flight_extra']} finished after wrk stopped counting,"
            f" at most {CONNECTIONS})\n"
            f"  tasks {d['tasks']}; rows without a task {d['logs_without_task']};"
            f" unprocessed {d['unprocessed']}\n"
            f"  applied {d['applied']}, ledger events {d['events']}, paid payments {d['paid']}\n"
            f"  queue drained {d['drain_s']:.1f} s after the load; {sustained:.0f} applied/s"
            f" over load + drain\n"
            f"  CPU ms per notification: gunicorn {cpu['gunicorn']:.2f} (the acknowledgement),"
            f" db_worker pool {cpu['app'] - cpu['gunicorn']:.2f} (verify + apply + polling)"
        )
    if PROFILE:
        import profile_summary

        for r in rows:
            files = sorted(str(f) for f in RESULTS.glob(f"profile-{r.key}-*.txt"))
            if files:
                print(f"\nprofile of {r.key} (gunicorn workers, py-spy):")
                profile_summary.main(files)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"notify-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "config": {
                    "workers": WORKERS,
                    "threads": THREADS,
                    "connections": CONNECTIONS,
                    "duration": DURATION,
                    "delay_ms": DELAY_MS,
                    "db_workers": DB_WORKERS,
                },
                "rows": {r.key: r.result for r in rows},
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nraw results: {out.relative_to(HERE.parent)}")
    failed = any(r.result.get("drain") and not r.result["drain"]["pass"] for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
