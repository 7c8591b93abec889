"""The fault soak: acknowledged notifications are never lost or stranded, one signal each.

    python soak.py [--payments 2000] [--connections 32] [--raise-rate 0.05] ...

A real shop (soaksite.settings: billing on PostgreSQL, Worldline/Ogone and Authorize.Net
DPM, both verified by signature) runs under gunicorn (sync workers) with django-tasks-db
``db_worker`` processes. The harness:

1. creates its own database (dropped at the end unless --keep-db) and migrates it;
2. records N payments through the integrations (``add_order`` + ``generate_form``) and
   builds each one's notification with the sandbox stand-in, from the shop's
   MERCHANT_SETTINGS: ~90% genuine, ~5% forged (``tamper``, or a wrong signature),
   ~5% authentic but for another amount (must be held, never paid), plus ~20% duplicate
   deliveries (the same bytes again);
3. sends them concurrently to 127.0.0.1, as a gateway does: any delivery that got no 2xx
   (an error status, a reset, a timeout) is re-sent with a short backoff. Every attempt
   carries ``X-Soak-Delivery: <delivery>.<attempt>``, which billing stores with the raw
   request, so each log row is matched to the attempt that made it and the harness knows
   which rows were acknowledged;
4. injects faults during the traffic: SIGKILL of a gunicorn worker (the master respawns
   it), SIGKILL of a db_worker (preferably one running a task; a replacement is
   started), and ``pg_terminate_backend`` of every connection to the soak database. A
   db_worker that exits by itself is restarted too (as systemd would) and counted;
5. waits (bounded) for every acknowledged row to settle, running no billing command:
   recovery must be automatic;
6. stops everything and prints one table; exits 1 when an invariant fails.

Nothing here repairs anything: the numbers are what the library did.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PY = sys.executable

GATEWAYS = ("ogone_payments", "authorize_net_dpm")
# The signed field of each gateway's notification (a forgery flips one of its digits).
SIGNATURE_FIELD = {"ogone_payments": b"SHASIGN", "authorize_net_dpm": b"x_SHA2_Hash"}
HEADER = "X-Soak-Delivery"
UNSETTLED = ("received", "retry", "error")
BACKOFF = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0)  # seconds before attempts 2, 3, ...
# Databases this harness must never touch (the test suite's, the server's own).
FORBIDDEN_DBS = {"test", "test_test", "postgres", "template0", "template1"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--payments", type=int, default=int(env("SOAK_PAYMENTS", "2000")))
    p.add_argument("--connections", type=int, default=int(env("SOAK_CONNECTIONS", "32")))
    p.add_argument("--gunicorn-workers", type=int, default=int(env("SOAK_GUNICORN", "4")))
    p.add_argument("--db-workers", type=int, default=int(env("SOAK_DB_WORKERS", "4")))
    p.add_argument(
        "--fault-rounds",
        type=int,
        default=int(env("SOAK_FAULT_ROUNDS", "3")),
        help="each round: one gunicorn worker, one db_worker, one terminate",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=float(env("SOAK_RATE", "0")),
        help="first attempts per second over all connections (0: no limit)",
    )
    p.add_argument("--duplicates", type=float, default=0.20)
    p.add_argument("--forged", type=float, default=0.05)
    p.add_argument("--shifted", type=float, default=0.05)
    p.add_argument("--attempts", type=int, default=6, help="attempts per delivery")
    p.add_argument(
        "--raise-rate",
        type=float,
        default=float(env("SOAK_RAISE_RATE", "0")),
        help="share of transaction_was_successful calls whose receiver raises",
    )
    p.add_argument("--lease", type=float, default=5.0, help="BILLING_LEASE_SECONDS")
    p.add_argument("--recovery-interval", type=float, default=2.0, help="BILLING_RECOVERY_INTERVAL")
    p.add_argument(
        "--traffic-timeout", type=float, default=float(env("SOAK_TRAFFIC_TIMEOUT", "300"))
    )
    p.add_argument("--settle-timeout", type=float, default=float(env("SOAK_SETTLE_TIMEOUT", "150")))
    p.add_argument("--db", default=env("SOAK_DB_NAME", "billing_soak"))
    p.add_argument("--db-host", default=env("SOAK_DB_HOST", "127.0.0.1"))
    p.add_argument("--db-port", default=env("SOAK_DB_PORT", "5432"))
    p.add_argument("--db-user", default=env("SOAK_DB_USER", "postgres"))
    p.add_argument("--db-password", default=env("SOAK_DB_PASSWORD", ""))
    p.add_argument("--port", type=int, default=int(env("SOAK_PORT", "8870")))
    p.add_argument("--keep-db", action="store_true", help="do not drop the database after")
    p.add_argument("--seed", type=int, default=int(env("SOAK_SEED", "0")) or None)
    p.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="process logs and result JSON (default: bench/results/soak-<time>)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = p.parse_args(argv)
    if args.db in FORBIDDEN_DBS or "soak" not in args.db:
        p.error(f"--db {args.db!r}: use a database of the soak's own (a name with 'soak')")
    return args


class Stop(Exception):
    """SIGTERM/SIGINT: unwind, so every process started here is stopped."""


def _on_signal(signum: int, frame: object) -> None:
    raise Stop(signal.strsignal(signum))


# -- processes ---------------------------------------------------------------------------


@dataclass
class Procs:
    args: argparse.Namespace
    env: dict[str, str]
    logs: Path
    gunicorn: subprocess.Popen | None = None
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    serial: int = 0
    planned_exits: set[str] = field(default_factory=set)
    unplanned_exits: list[tuple[str, int | None]] = field(default_factory=list)
    gunicorn_died: bool = False

    def _log(self, name: str):
        return open(self.logs / name, "ab")

    def start_gunicorn(self) -> None:
        a = self.args
        self.gunicorn = subprocess.Popen(
            [
                PY,
                "-m",
                "gunicorn",
                "soaksite.wsgi:application",
                "-c",
                str(HERE / "gunicorn_conf.py"),
                "--workers",
                str(a.gunicorn_workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{a.port}",
                "--backlog",
                "2048",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ],
            cwd=HERE,
            env=self.env,
            stdout=self._log("gunicorn.log"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self) -> str:
        self.serial += 1
        worker_id = f"soak-{os.getpid()}-{self.serial}"
        self.workers[worker_id] = subprocess.Popen(
            [PY, str(HERE / "dbworker.py"), worker_id, "0.2"],
            cwd=HERE,
            env=self.env,
            stdout=self._log("db_worker.log"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return worker_id

    def gunicorn_workers(self) -> list[int]:
        if self.gunicorn is None:
            return []
        return [pid for pid in _pids() if _ppid(pid) == self.gunicorn.pid]

    def supervise(self) -> None:
        """Restart a db_worker that exited (as a process supervisor would); count it."""
        for worker_id, proc in list(self.workers.items()):
            if proc.poll() is None:
                continue
            del self.workers[worker_id]
            if worker_id in self.planned_exits:
                self.planned_exits.discard(worker_id)
            else:
                self.unplanned_exits.append((worker_id, proc.returncode))
            self.start_worker()
        if self.gunicorn is not None and self.gunicorn.poll() is not None:
            self.gunicorn_died = True

    def stop(self) -> None:
        procs = [p for p in self.workers.values()] + ([self.gunicorn] if self.gunicorn else [])
        for proc in procs:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # Whatever is left of the group (a gunicorn worker, a stuck db_worker).
            _signal_group(proc, signal.SIGKILL)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # each was started in its own session (= group)
    except (ProcessLookupError, PermissionError):
        pass


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _ppid(pid: int) -> int:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode} (see gunicorn.log)")
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 (127.0.0.1 only)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# -- the database ------------------------------------------------------------------------


def pg(args: argparse.Namespace, dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(
        host=args.db_host,
        port=args.db_port,
        user=args.db_user,
        password=args.db_password or None,
        dbname=dbname,
        autocommit=True,
        connect_timeout=10,
    )


def recreate_db(args: argparse.Namespace) -> None:
    with pg(args) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{args.db}"')


def drop_db(args: argparse.Namespace) -> None:
    with pg(args) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')


def terminate_backends(args: argparse.Namespace) -> int:
    with pg(args) as c:
        row = c.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (args.db,),
        ).fetchone()
    return int(row[0]) if row else 0


# -- the notifications -------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    id: int
    slug: str
    reference: str
    kind: str  # genuine | forged | shifted | duplicate
    of: str  # the category of its payment: genuine | forged | shifted
    method: str
    content_type: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def wrong_signature(slug: str, body: bytes) -> bytes:
    """The body with one digit of its signature changed (signed with the wrong key)."""
    name = SIGNATURE_FIELD[slug] + b"="
    pairs = body.split(b"&")
    for i, pair in enumerate(pairs):
        if pair.startswith(name):
            value = pair[len(name) :]
            last = value[-1:]
            pairs[i] = name + value[:-1] + (b"0" if last != b"0" else b"1")
    return b"&".join(pairs)


def prepare(args: argparse.Namespace, rng: random.Random) -> tuple[list[Delivery], dict]:
    """Record the payments; build each one's notification and the deliveries."""
    from billing import get_integration
    from billing.sandbox.gateways import get_stand_in
    from billing.sandbox.gateways.base import Variation

    n = args.payments
    forged = max(1, round(n * args.forged)) if args.forged else 0
    shifted = max(1, round(n * args.shifted)) if args.shifted else 0
    categories = ["forged"] * forged + ["shifted"] * shifted
    categories += ["genuine"] * (n - len(categories))
    rng.shuffle(categories)
    payments = {}
    primary = []
    for i, category in enumerate(categories):
        slug = GATEWAYS[i % len(GATEWAYS)]
        reference = f"SOAK-{i:05d}"
        amount = Decimal(10 + i % 90) + Decimal(i % 100) / 100
        integration = get_integration(slug)
        integration.add_order(
            reference=reference, amount=amount, currency="EUR", description="Soak mug"
        )
        form = integration.generate_form()
        stand_in = get_stand_in(slug)
        if category == "shifted":
            message = stand_in.notification(form, status="paid", vary=Variation(amount=amount + 1))
        else:
            message = stand_in.notification(form, status="paid")
        body = message.body
        if category == "forged":
            if i % 2:
                body = stand_in.tamper(message).body
            else:
                body = wrong_signature(slug, body)
        payments[(slug, reference)] = category
        primary.append((slug, reference, category, message, body))

    deliveries = []
    for slug, reference, category, message, body in primary:
        deliveries.append((slug, reference, category, category, message, body))
    for _ in range(round(n * args.duplicates)):
        slug, reference, category, message, body = rng.choice(primary)
        deliveries.append((slug, reference, "duplicate", category, message, body))
    rng.shuffle(deliveries)
    built = [
        Delivery(
            i,
            slug,
            ref,
            kind,
            of,
            message.method,
            message.content_type,
            tuple(message.headers.items()),
            body,
        )
        for i, (slug, ref, kind, of, message, body) in enumerate(deliveries)
    ]
    return built, payments


# -- the gateway's side: sending with retries ---------------------------------------------


@dataclass
class Traffic:
    deliveries: list[Delivery]
    port: int
    connections: int
    attempts_max: int
    rate: float
    deadline: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_index: int = 0
    done: int = 0
    next_slot: float = 0.0
    attempts: list[dict] = field(default_factory=list)  # every attempt, in order
    acked: dict[int, str] = field(default_factory=dict)  # delivery id -> attempt tag
    gave_up: list[int] = field(default_factory=list)
    stop: bool = False

    def take(self) -> Delivery | None:
        with self.lock:
            if self.stop or self.next_index >= len(self.deliveries):
                return None
            d = self.deliveries[self.next_index]
            self.next_index += 1
            slot = 0.0
            if self.rate:
                slot = max(time.monotonic(), self.next_slot)
                self.next_slot = slot + 1 / self.rate
        if slot:
            time.sleep(max(0.0, slot - time.monotonic()))
        return d

    def run_thread(self) -> None:
        import httpx

        base = f"http://127.0.0.1:{self.port}"
        with httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0)) as client:
            while (d := self.take()) is not None:
                self.deliver(client, base, d)
                with self.lock:
                    self.done += 1

    def deliver(self, client, base: str, d: Delivery) -> None:
        import httpx

        url = f"{base}/billing/{d.slug}/notify/"
        for attempt in range(1, self.attempts_max + 1):
            tag = f"{d.id}.{attempt}"
            headers = {**dict(d.headers), HEADER: tag}
            status, error = None, ""
            try:
                if d.method == "GET":
                    r = client.get(f"{url}?{d.body.decode('ascii')}", headers=headers)
                else:
                    headers["Content-Type"] = d.content_type
                    r = client.post(url, content=d.body, headers=headers)
                status = r.status_code
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            ok = status is not None and 200 <= status < 300
            with self.lock:
                self.attempts.append(
                    {"tag": tag, "delivery": d.id, "status": status, "error": error, "ok": ok}
                )
                if ok:
                    self.acked[d.id] = tag
            if ok:
                return
            if attempt == self.attempts_max or time.monotonic() > self.deadline:
                break
            time.sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)] * (0.8 + 0.4 * random.random()))
        with self.lock:
            self.gave_up.append(d.id)


# -- faults ------------------------------------------------------------------------------


def kill_gunicorn_worker(procs: Procs, rng: random.Random) -> dict:
    workers = procs.gunicorn_workers()
    if not workers:
        return {"fault": "gunicorn worker SIGKILL", "done": False, "why": "no worker found"}
    pid = rng.choice(workers)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return {"fault": "gunicorn worker SIGKILL", "done": False, "why": "gone"}
    return {"fault": "gunicorn worker SIGKILL", "done": True, "pid": pid}


def kill_db_worker(procs: Procs, args: argparse.Namespace, rng: random.Random, table: str) -> dict:
    """SIGKILL a db_worker, preferably one that has claimed a task; start a replacement."""
    victim, busy = None, False
    deadline = time.monotonic() + 3
    try:
        with pg(args, args.db) as c:
            while time.monotonic() < deadline and victim is None:
                rows = c.execute(
                    f"SELECT worker_ids FROM {table} WHERE status = 'RUNNING'"  # noqa: S608
                ).fetchall()
                running = {ids[-1] for (ids,) in rows if ids} & set(procs.workers)
                if running:
                    victim, busy = rng.choice(sorted(running)), True
                else:
                    time.sleep(0.005)
    except Exception:  # a terminated connection: pick any worker
        pass
    if victim is None and procs.workers:
        victim = rng.choice(sorted(procs.workers))
    if victim is None:
        return {"fault": "db_worker SIGKILL", "done": False, "why": "no worker"}
    proc = procs.workers[victim]
    procs.planned_exits.add(victim)
    _signal_group(proc, signal.SIGKILL)
    proc.wait(10)
    del procs.workers[victim]
    procs.planned_exits.discard(victim)
    replacement = procs.start_worker()
    return {
        "fault": "db_worker SIGKILL",
        "done": True,
        "worker": victim,
        "pid": proc.pid,
        "mid_task": busy,
        "replacement": replacement,
    }


def terminate(args: argparse.Namespace) -> dict:
    count = terminate_backends(args)
    return {"fault": "pg_terminate_backend", "done": count > 0, "backends": count}


# -- the run -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict:
    started = time.monotonic()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    logs = args.logs or (REPO / "bench" / "results" / f"soak-{stamp}")
    logs.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "soaksite.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        "SOAK_DB_NAME": args.db,
        "SOAK_DB_HOST": args.db_host,
        "SOAK_DB_PORT": str(args.db_port),
        "SOAK_DB_USER": args.db_user,
        "SOAK_DB_PASSWORD": args.db_password,
        "SOAK_PORT": str(args.port),
        "SOAK_RAISE_RATE": str(args.raise_rate),
        "SOAK_LEASE_SECONDS": str(args.lease),
        "SOAK_RECOVERY_INTERVAL": str(args.recovery_interval),
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith(("SOAK_", "DJANGO_"))})
    sys.path.insert(0, str(HERE))

    print(f"== database {args.db}: created, migrating", flush=True)
    recreate_db(args)
    procs = Procs(args, env, logs)
    result: dict = {
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k != "db_password"
        },
        "logs": str(logs),
    }
    try:
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=HERE, env=env, check=True)
        import django

        django.setup()
        from django.db import connections
        from django_tasks_db.models import DBTaskResult

        deliveries, payments = prepare(args, rng)
        connections.close_all()
        kinds = Counter(d.kind for d in deliveries)
        print(
            f"== {len(payments)} payments recorded; {len(deliveries)} deliveries ({dict(kinds)})",
            flush=True,
        )

        procs.start_gunicorn()
        for _ in range(args.db_workers):
            procs.start_worker()
        wait_http(f"http://127.0.0.1:{args.port}/billing/ogone_payments/cancel/", procs.gunicorn)
        time.sleep(1.0)  # the db_workers' Django start-up
        setup_s = time.monotonic() - started

        faults_plan = []
        count = 3 * args.fault_rounds
        for i in range(count):
            faults_plan.append(
                (0.1 + 0.8 * (i + 0.5) / count, ("gunicorn", "db_worker", "terminate")[i % 3])
            )
        traffic = Traffic(
            deliveries,
            args.port,
            args.connections,
            args.attempts,
            args.rate,
            time.monotonic() + args.traffic_timeout,
        )
        threads = [
            threading.Thread(target=traffic.run_thread, daemon=True)
            for _ in range(args.connections)
        ]
        t0 = time.monotonic()
        print(
            f"== traffic: {args.connections} connections; faults at"
            f" {[f'{f:.0%} {k}' for f, k in faults_plan]}",
            flush=True,
        )
        for t in threads:
            t.start()
        faults = []
        table = DBTaskResult._meta.db_table
        try:
            while any(t.is_alive() for t in threads):
                if time.monotonic() > traffic.deadline + 20:
                    traffic.stop = True
                    break
                progress = traffic.done / len(deliveries)
                if faults_plan and progress >= faults_plan[0][0]:
                    _, kind = faults_plan.pop(0)
                    if kind == "gunicorn":
                        got = kill_gunicorn_worker(procs, rng)
                    elif kind == "db_worker":
                        got = kill_db_worker(procs, args, rng, table)
                    else:
                        got = terminate(args)
                    got["at"] = round(progress, 3)
                    got["t"] = round(time.monotonic() - t0, 2)
                    faults.append(got)
                    print(f"   fault at {progress:.0%}: {got}", flush=True)
                procs.supervise()
                time.sleep(0.02)
        finally:
            traffic.stop = True
            for t in threads:
                t.join(30)
        traffic_s = time.monotonic() - t0
        # Faults the traffic ended before reaching (a small run): inject them now, while
        # the workers are still processing the backlog.
        for _, kind in faults_plan:
            got = (
                kill_gunicorn_worker(procs, rng)
                if kind == "gunicorn"
                else kill_db_worker(procs, args, rng, table)
                if kind == "db_worker"
                else terminate(args)
            )
            got["at"] = "after traffic"
            faults.append(got)
            print(f"   fault after traffic: {got}", flush=True)
        print(
            f"== traffic done in {traffic_s:.1f} s: {len(traffic.acked)} of"
            f" {len(deliveries)} acknowledged; settling (at most {args.settle_timeout:.0f} s)",
            flush=True,
        )

        # Settle: no billing command, only time. Acknowledged rows must leave
        # received/retry/error by themselves.
        acked_tags = set(traffic.acked.values())
        t1 = time.monotonic()
        settled_s = None
        last_print = 0.0
        while True:
            procs.supervise()
            try:
                rows = fetch_rows(args)
            except Exception as exc:  # the terminate fault, or PostgreSQL busy
                print(f"   (poll failed: {exc})", flush=True)
                rows = None
            if rows is not None:
                stranded = sum(
                    1 for _, outcome, tag in rows if tag in acked_tags and outcome in UNSETTLED
                )
                elapsed = time.monotonic() - t1
                if stranded == 0:
                    settled_s = elapsed
                    break
                if elapsed - last_print >= 10:
                    last_print = elapsed
                    print(
                        f"   {elapsed:5.0f} s: {stranded} acknowledged rows unsettled", flush=True
                    )
            if time.monotonic() - t1 > args.settle_timeout:
                break
            time.sleep(1.0)
        time.sleep(1.0)  # signals sent right after the last commit
        settle_s = time.monotonic() - t1
    finally:
        procs.stop()

    connections.close_all()
    result.update(analyse(args, deliveries, payments, traffic, faults, procs))
    result["times"] = {
        "setup_s": round(setup_s, 1),
        "traffic_s": round(traffic_s, 1),
        "settle_s": round(settle_s, 1),
        "settled_s": None if settled_s is None else round(settled_s, 1),
        "total_s": round(time.monotonic() - started, 1),
    }
    connections.close_all()
    return result


def fetch_rows(args: argparse.Namespace) -> list[tuple[int, str, str | None]]:
    with pg(args, args.db) as c:
        return c.execute(
            f"SELECT id, outcome, headers->>'{HEADER}' FROM billing_notificationlog"
        ).fetchall()


def analyse(args, deliveries, payments, traffic, faults, procs) -> dict:
    from django.db.models import Count
    from soaksite.models import SignalRecord

    from billing.models import NotificationLog, Payment, PaymentEvent

    by_id = {d.id: d for d in deliveries}
    acked_tags = set(traffic.acked.values())
    rows = list(
        NotificationLog.objects.values_list(
            "id", "outcome", "error", "headers", "integration", "reference"
        )
    )
    outcomes = Counter()
    acked_outcomes = Counter()
    unacked_outcomes = Counter()
    by_kind: dict[str, Counter] = {}
    stored_tags = set()
    untagged = 0
    reasonless = 0
    accepted_forgeries = 0
    stranded_ids = []
    stranded_rows = []
    for pk, outcome, error, headers, _slug, _ref in rows:
        outcomes[outcome] += 1
        tag = (headers or {}).get(HEADER)
        if tag is None:
            untagged += 1
            continue
        stored_tags.add(tag)
        d = by_id[int(tag.split(".")[0])]
        kind = d.kind if d.kind != "duplicate" else f"duplicate of {d.of}"
        by_kind.setdefault(kind, Counter())[outcome] += 1
        if tag in acked_tags:
            acked_outcomes[outcome] += 1
            if outcome in UNSETTLED:
                stranded_ids.append(pk)
                stranded_rows.append(
                    {
                        "id": pk,
                        "outcome": outcome,
                        "error": error,
                        "kind": kind,
                        "payment": f"{d.slug}:{d.reference}",
                    }
                )
        else:
            unacked_outcomes[outcome] += 1
        if outcome in ("held", "rejected") and not (error or "").strip():
            reasonless += 1
        if d.of == "forged" and outcome in ("applied", "held"):
            accepted_forgeries += 1
    lost = sorted(acked_tags - stored_tags)

    status_by_category: dict[str, Counter] = {}
    paid = set()
    for slug, ref, status in Payment.objects.values_list("integration", "reference", "status"):
        category = payments[(slug, ref)]
        status_by_category.setdefault(category, Counter())[status] += 1
        if status == "paid":
            paid.add((slug, ref))
    acked_genuine = {
        (d.slug, d.reference) for d in deliveries if d.id in traffic.acked and d.of == "genuine"
    }
    genuine_unpaid = sorted(f"{s}:{r}" for s, r in acked_genuine - paid)
    bad_paid = sorted(f"{s}:{r}" for s, r in paid if payments[(s, r)] != "genuine")

    signals = Counter(SignalRecord.objects.values_list("integration", "reference"))
    per_paid = [signals.get(key, 0) for key in paid]
    zero = sorted(f"{s}:{r}" for s, r in paid if signals.get((s, r), 0) == 0)
    many = sorted(f"{s}:{r}" for s, r in paid if signals.get((s, r), 0) > 1)
    unpaid_signals = sum(n for key, n in signals.items() if key not in paid)

    applied_per_paid = Counter(
        NotificationLog.objects.filter(outcome="applied").values_list(
            "payment__integration", "payment__reference"
        )
    )
    multi_applied = sum(1 for key in paid if applied_per_paid.get(key, 0) > 1)
    events = Counter(
        dict(
            PaymentEvent.objects.values("payment")
            .annotate(n=Count("id"))
            .values_list("payment", "n")
        )
    )
    multi_events = sum(1 for n in events.values() if n > 1)

    from django_tasks_db.models import DBTaskResult

    tasks = Counter()
    for path, status, n in DBTaskResult.objects.values_list("task_path", "status").annotate(
        n=Count("id")
    ):
        tasks[f"{path.rsplit('.', 1)[-1]} {status}"] += n
    per_row = Counter(
        str((a or {}).get("args", [None])[0])
        for a in DBTaskResult.objects.filter(
            task_path__endswith="process_notification"
        ).values_list("args_kwargs", flat=True)
    )
    attempts = traffic.attempts
    attempt_kinds = Counter(
        "2xx" if a["ok"] else (f"{a['status'] // 100}xx" if a["status"] else a["error"])
        for a in attempts
    )
    fault_counts = Counter(f["fault"] for f in faults if f["done"])

    checks = {
        "every fault injected at least once": all(
            fault_counts[k] >= 1
            for k in ("gunicorn worker SIGKILL", "db_worker SIGKILL", "pg_terminate_backend")
        ),
        "lost (acknowledged, no row) == 0": not lost,
        "stranded (acknowledged, received/retry/error) == 0": not stranded_ids,
        "held/rejected without a reason == 0": reasonless == 0,
        "forged rows applied or held == 0": accepted_forgeries == 0,
        "forged or shifted payments paid == 0": not bad_paid,
        "genuine payments acknowledged but not paid == 0": not genuine_unpaid,
        "signals per paid payment == 1 (none with 0)": not zero,
        "signals per paid payment == 1 (none with >1)": not many,
        "signals for payments not paid == 0": unpaid_signals == 0,
    }
    return {
        "deliveries": len(deliveries),
        "delivery_kinds": dict(Counter(d.kind for d in deliveries)),
        "attempts": len(attempts),
        "attempt_results": dict(attempt_kinds),
        "acknowledged": len(traffic.acked),
        "gave_up": len(traffic.gave_up),
        "rows": len(rows),
        "rows_untagged": untagged,
        "outcomes": dict(outcomes),
        "acked_rows": sum(acked_outcomes.values()),
        "acked_outcomes": dict(acked_outcomes),
        "unacked_rows": sum(unacked_outcomes.values()),
        "unacked_outcomes": dict(unacked_outcomes),
        "outcomes_by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "lost": lost[:50],
        "lost_count": len(lost),
        "stranded": len(stranded_ids),
        "stranded_rows": stranded_rows[:50],
        "reasonless": reasonless,
        "accepted_forgeries": accepted_forgeries,
        "payments": dict(Counter(payments.values())),
        "payments_by_status": {k: dict(v) for k, v in sorted(status_by_category.items())},
        "genuine_unpaid": genuine_unpaid[:50],
        "genuine_unpaid_count": len(genuine_unpaid),
        "bad_paid": bad_paid,
        "paid": len(paid),
        "signals": sum(signals.values()),
        "signals_min": min(per_paid) if per_paid else None,
        "signals_max": max(per_paid) if per_paid else None,
        "signals_zero": len(zero),
        "signals_zero_refs": zero[:50],
        "signals_many": len(many),
        "signals_many_refs": many[:50],
        "signals_unpaid": unpaid_signals,
        "applied_more_than_once": multi_applied,
        "payments_with_several_events": multi_events,
        "tasks": dict(tasks),
        "tasks_per_row_max": max(per_row.values()) if per_row else 0,
        "faults": faults,
        "fault_counts": dict(fault_counts),
        "db_worker_unplanned_exits": procs.unplanned_exits,
        "gunicorn_master_died": procs.gunicorn_died,
        "checks": checks,
        "passed": all(checks.values()),
    }


def fmt_counter(c: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: -kv[1])) or "-"


def table(r: dict) -> str:
    cfg = r["config"]
    lines = []
    w = 50

    def row(label: str, value: object, must: str = "", ok: bool | None = None) -> None:
        mark = "" if ok is None else ("ok" if ok else "FAIL")
        lines.append(f"{label:<{w}} {value!s:>14}  {must:<8} {mark}")

    def text(label: str, value: str) -> None:
        lines.append(f"{label:<{w}} {value}")

    lines.append(
        f"fault soak: {sum(r['payments'].values())} payments over {', '.join(GATEWAYS)};"
        f" {cfg['connections']} connections; gunicorn {cfg['gunicorn_workers']} sync workers;"
        f" {cfg['db_workers']} db_workers; receiver raises {cfg['raise_rate']:.0%}"
    )
    lines.append(f"{'':<{w}} {'value':>14}  {'must be':<8}")
    lines.append("-" * (w + 30))
    fc = r["fault_counts"]
    mid = sum(1 for f in r["faults"] if f.get("mid_task"))
    backends = sum(f.get("backends", 0) for f in r["faults"])
    text(
        "faults injected",
        f"gunicorn worker SIGKILL x{fc.get('gunicorn worker SIGKILL', 0)},"
        f" db_worker SIGKILL x{fc.get('db_worker SIGKILL', 0)} ({mid} mid-task),"
        f" pg_terminate_backend x{fc.get('pg_terminate_backend', 0)} ({backends} backends)",
    )
    text(
        "db_worker exits not caused by the soak",
        f"{len(r['db_worker_unplanned_exits'])} (restarted)",
    )
    row("deliveries", r["deliveries"])
    text("  by kind", fmt_counter(r["delivery_kinds"]))
    row("HTTP attempts", r["attempts"])
    text("  by result", fmt_counter(r["attempt_results"]))
    row("acknowledged (2xx)", r["acknowledged"])
    row("gateway gave up (no 2xx after all attempts)", r["gave_up"])
    row("log rows", r["rows"])
    text("  by outcome", fmt_counter(r["outcomes"]))
    row("  of acknowledged attempts", r["acked_rows"])
    text("    by outcome", fmt_counter(r["acked_outcomes"]))
    row("  of attempts without a 2xx", r["unacked_rows"])
    text("    by outcome", fmt_counter(r["unacked_outcomes"]))
    for kind, c in r["outcomes_by_kind"].items():
        text(f"  {kind} rows", fmt_counter(c))
    for category, c in r["payments_by_status"].items():
        text(f"payments ({category}) by status", fmt_counter(c))
    row("lost (acknowledged, no row)", r["lost_count"], "0", r["lost_count"] == 0)
    row("stranded (ack'd, received/retry/error)", r["stranded"], "0", r["stranded"] == 0)
    for s in r["stranded_rows"][:5]:
        text(f"  #{s['id']} {s['kind']} {s['payment']}", f"{s['outcome']}: {s['error'][:60]}")
    row("held/rejected without a reason", r["reasonless"], "0", r["reasonless"] == 0)
    row("forged rows applied or held", r["accepted_forgeries"], "0", r["accepted_forgeries"] == 0)
    row("forged or shifted payments paid", len(r["bad_paid"]), "0", not r["bad_paid"])
    row(
        "genuine acknowledged, not paid",
        r["genuine_unpaid_count"],
        "0",
        r["genuine_unpaid_count"] == 0,
    )
    row("paid payments", r["paid"])
    row("success signals", r["signals"])
    row(
        "signals per paid payment (min/max)",
        f"{r['signals_min']}/{r['signals_max']}",
        "1/1",
        r["signals_min"] in (1, None) and r["signals_max"] in (1, None),
    )
    row("paid payments with 0 signals", r["signals_zero"], "0", r["signals_zero"] == 0)
    if r["signals_zero_refs"]:
        text("  e.g.", ", ".join(r["signals_zero_refs"][:5]))
    row("paid payments with >1 signals", r["signals_many"], "0", r["signals_many"] == 0)
    row("signals for payments not paid", r["signals_unpaid"], "0", r["signals_unpaid"] == 0)
    row("paid payments applied by >1 rows", r["applied_more_than_once"])
    text("tasks (django-tasks-db) at the end", fmt_counter(r["tasks"]))
    row("  process_notification tasks per row (max)", r["tasks_per_row_max"])
    t = r["times"]
    settled = "not settled" if t["settled_s"] is None else f"settled in {t['settled_s']} s"
    text(
        "times (s)",
        f"setup {t['setup_s']}, traffic {t['traffic_s']}, settle {t['settle_s']}"
        f" ({settled}, limit {cfg['settle_timeout']:.0f}), total {t['total_s']}",
    )
    lines.append("-" * (w + 30))
    failed = [k for k, v in r["checks"].items() if not v]
    lines.append("RESULT: " + ("PASS" if not failed else "FAIL: " + "; ".join(failed)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        result = run(args)
    except Stop as exc:
        print(f"soak stopped: {exc}", file=sys.stderr)
        return 2
    finally:
        if not args.keep_db:
            try:
                drop_db(args)
            except Exception as exc:  # the terminate fault, or PostgreSQL busy
                print(f"could not drop {args.db}: {exc}", file=sys.stderr)
    print()
    print(table(result))
    out = Path(result["logs"]) / "result.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nprocess logs and result.json: {result['logs']}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
