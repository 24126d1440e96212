"""Load benchmark: registrants and officers browsing while a full rematch runs in a worker.

1. Builds the database (bench/load_data.py: PostgreSQL ``grantmatch_load``, 20,000
   profiles, a live full run of about 380,000 pairs, 500 registrants and 20 officers),
   unless --skip-build.
2. Starts gunicorn (4 sync workers) and one Celery worker (concurrency 1) on the
   benchmark's own Redis database (redis://127.0.0.1:6379/14, emptied first: stale tasks
   of an interrupted run must not start in this one).
3. Runs Locust headless (bench/locustfile.py): 50 users, 3 registrants to 1 officer,
   spawned 10 a second, each logged in once from its own loopback address, 1-3 s of
   think time between pages. When every user is logged in, a full rematch is queued
   (`grantmatch rematch --full`); after --warmup seconds (with --window-during finish:
   once the rematch's last phase, finish_run, has started) the statistics are reset and
   the measured window (--measure, 60 s) begins.
4. Prints throughput, p50/p95/p99/max and errors per endpoint and overall (exact
   percentiles over every request of the window, not Locust's rounded histogram), the
   review queue by filter, the CPU used by each component during the window, and the
   worker's tasks (plan, blocks, finish) against the window, which shows that the full
   rematch was running all through it; then waits for the rematch to finish (its
   duration is printed, so the next run starts from a settled database) and stops
   everything it started.

Run: .venv/bin/python -m bench.load               (about 5 minutes with the build)
     .venv/bin/python -m bench.load --skip-build  (reuse the database: the superseded run
                                                   is pruned after each run, so each starts
                                                   with one live run of pairs)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
import requests
from sqlalchemy import create_engine, text

from bench import load_data

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
_TASK_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}): \w+/[^\]]+\] "
    r"Task ([\w.]+)\[([0-9a-f-]+)\] (received|succeeded|failed|retry)"
)


# --- processes ---------------------------------------------------------------------------


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    # Own process group: stopped as a whole at the end (by its id, never by name).
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(check: Any, what: str, timeout: float = 60, interval: float = 0.5) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(interval)
    raise SystemExit(f"timed out waiting for {what}")


# --- CPU accounting ----------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    ppid: int
    comm: str
    started: int  # clock ticks after boot: tells a reused pid from the same process
    own: float  # CPU seconds, user + system
    children: float  # CPU seconds of its children that it has reaped


def snapshot() -> dict[int, Proc]:
    """Every process of the machine with its CPU seconds so far."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        found[int(entry.name)] = Proc(
            ppid=int(fields[1]),
            comm=comm,
            started=int(fields[19]),
            own=(int(fields[11]) + int(fields[12])) / CLK_TCK,
            children=(int(fields[13]) + int(fields[14])) / CLK_TCK,
        )
    return found


@dataclass
class CpuSampler:
    """CPU seconds used by each component while it runs, from /proc every half second.

    A component is a process tree started here (``roots``), PostgreSQL (processes named
    postgres) or "other processes" (whatever else runs on the machine). A process that
    lives between two samples (a parallel query worker, say) is counted through the
    parent that reaps it.
    """

    roots: dict[int, str]
    used: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    stop: threading.Event = field(default_factory=threading.Event)
    machine: tuple[float, float] = (0.0, 0.0)

    def component(self, pid: int, *maps: dict[int, Proc]) -> str:
        seen, steps = pid, 0
        while seen > 1 and steps < 50:
            if seen in self.roots:
                return self.roots[seen]
            proc = next((m[seen] for m in maps if seen in m), None)
            if proc is None:
                break
            seen, steps = proc.ppid, steps + 1
        proc = next((m[pid] for m in maps if pid in m), None)
        return "postgres" if proc is not None and proc.comm == "postgres" else "other processes"

    def run(self) -> None:
        previous, machine_before = snapshot(), machine_cpu()
        while not self.stop.wait(0.5):
            current = snapshot()
            self._add(previous, current)
            previous = current
        current, machine_after = snapshot(), machine_cpu()
        self._add(previous, current)
        self.machine = (
            machine_after[0] - machine_before[0],
            machine_after[1] - machine_before[1],
        )

    def _add(self, previous: dict[int, Proc], current: dict[int, Proc]) -> None:
        gone: dict[int, float] = defaultdict(float)  # by parent: last seen CPU of its dead
        for pid, proc in previous.items():
            now = current.get(pid)
            if now is None or now.started != proc.started:
                gone[proc.ppid] += proc.own + proc.children
        for pid, proc in current.items():
            before = previous.get(pid)
            if before is None or before.started != proc.started:
                credit = proc.own + proc.children  # born since the last sample
            else:
                reaped = proc.children - before.children - gone.get(pid, 0.0)
                credit = proc.own - before.own + max(0.0, reaped)
            self.used[self.component(pid, current, previous)] += credit


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


# --- the rematch's progress ---------------------------------------------------------------


@dataclass
class Monitor:
    """Samples the live run and the newest full run every second, in a thread."""

    url: str
    samples: list[tuple[float, int | None, int | None, str | None]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        engine = create_engine(self.url, pool_size=1)
        query = text(
            "SELECT (SELECT id FROM match_runs WHERE is_live), r.id, r.status "
            "FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT id, status FROM match_runs "
            "WHERE kind = 'full' ORDER BY id DESC LIMIT 1) AS r ON true"
        )
        while not self.stop.is_set():
            with engine.connect() as connection:
                live, newest, status = connection.execute(query).one()
            self.samples.append((time.time(), live, newest, status))
            self.stop.wait(1.0)
        engine.dispose()


@dataclass
class Task:
    name: str
    received: float
    ended: float | None = None
    outcome: str = ""


def worker_tasks(log: Path) -> list[Task]:
    """The Celery worker's tasks, from its log (received and finished times)."""
    tasks: dict[str, Task] = {}
    for line in log.read_text(errors="replace").splitlines():
        found = _TASK_LINE.match(line)
        if not found:
            continue
        stamp, millis, name, task_id, event = found.groups()
        at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").timestamp() + int(millis) / 1000
        if event == "received":
            tasks.setdefault(task_id, Task(name.removeprefix("matching."), at))
        elif task_id in tasks:
            tasks[task_id].ended = at
            tasks[task_id].outcome = event
    return sorted(tasks.values(), key=lambda t: t.received)


def busy_seconds(tasks: list[Task], start: float, end: float, now: float) -> float:
    """Seconds of [start, end] during which the worker was running one of ``tasks``
    (concurrency 1 and prefetch 1: a task is received when the previous one is done)."""
    total = 0.0
    for task in tasks:
        total += max(0.0, min(end, task.ended or now) - max(start, task.received))
    return total


# --- results -----------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default) of sorted values."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _queue_groups(url: str) -> list[str]:
    """The groups a review queue request falls in: its status filter and its sort."""
    query = parse_qs(urlsplit(url).query)
    return [f"status={query.get('status', ['any'])[0]}", f"sort={query.get('sort', ['score'])[0]}"]


def summarize(
    rows: list[dict[str, Any]], duration: float, *, by_filter: bool = False
) -> list[dict[str, Any]]:
    """Per endpoint and overall (or, ``by_filter``, per review queue filter): count,
    req/s, p50/p95/p99/max (ms) and errors."""
    by_name: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for row in rows:
        if by_filter:
            if row["name"] != "/officer/pairs":
                continue
            names = _queue_groups(row["url"])
        else:
            names = [row["name"], "all"]
        for name in names:
            by_name[name].append(row["ms"])
            errors[name] += not row["ok"]
    table = []
    for name in sorted(by_name, key=lambda n: (n == "all", n)):
        values = sorted(by_name[name])
        table.append(
            {
                "name": name,
                "requests": len(values),
                "rps": len(values) / duration,
                "p50": percentile(values, 0.50),
                "p95": percentile(values, 0.95),
                "p99": percentile(values, 0.99),
                "max": values[-1],
                "mean": statistics.fmean(values),
                "errors": errors[name],
            }
        )
    return table


_ACCESS = re.compile(r'^\[([^\]]+)\] "GET (\S+) [^"]*" (\d{3}) (\d+)$')


def endpoint(path: str) -> str:
    """The Locust name of a request path (see bench/locustfile.py)."""
    if path.startswith("/matches/?"):
        return "/matches/?field=&new=1"
    if path.startswith("/officer/pairs/"):
        return "/officer/pairs/<jp>-<ca>"
    if path.startswith("/officer/pairs"):
        return "/officer/pairs"
    return path


def server_times(log: Path, span: dict[str, float]) -> list[dict[str, Any]]:
    """Requests of the window from gunicorn's access log, as summarize() reads them."""
    rows = []
    for line in log.read_text(errors="replace").splitlines():
        found = _ACCESS.match(line)
        if not found or found.group(2).startswith("/login"):
            continue
        at = datetime.strptime(found.group(1), "%d/%b/%Y:%H:%M:%S %z").timestamp()
        # The log has whole seconds: keep the requests logged within the window.
        if span["start"] - 1 < at <= span["end"]:
            status, micros = int(found.group(3)), int(found.group(4))
            rows.append(
                {
                    "name": endpoint(found.group(2)),
                    "url": found.group(2),
                    "ms": micros / 1000,
                    "ok": status < 400,
                }
            )
    return rows


def print_table(table: list[dict[str, Any]]) -> None:
    print(
        f"{'endpoint':28s} {'requests':>8s} {'req/s':>7s} {'p50 ms':>7s} {'p95 ms':>7s} "
        f"{'p99 ms':>7s} {'max ms':>7s} {'errors':>6s}"
    )
    for row in table:
        print(
            f"{row['name']:28s} {row['requests']:8d} {row['rps']:7.1f} {row['p50']:7.0f} "
            f"{row['p95']:7.0f} {row['p99']:7.0f} {row['max']:7.0f} {row['errors']:6d}"
        )


# --- the benchmark -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-build", action="store_true", help="reuse the database")
    parser.add_argument("--database-url", default=load_data.DEFAULT_URL)
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=None,
        help="the Celery worker's CPU priority (GRANTMATCH_WORKER_NICE; the service's "
        "default, 10, when not given; 0 to run it at the web app's priority)",
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=10, help="seconds after the logins")
    parser.add_argument("--measure", type=float, default=60, help="measured seconds")
    parser.add_argument("--wait", default="1-3", help="think time range in seconds, e.g. 1-3")
    parser.add_argument(
        "--window-during",
        choices=("start", "finish"),
        default="start",
        help="measure from the start of the rematch (plan, blocks) or from its finish phase",
    )
    parser.add_argument(
        "--queue-states",
        default="none,shortlisted,approved,rejected,introduced",
        help="review states the officers filter on (comma separated)",
    )
    parser.add_argument("--no-rematch", action="store_true", help="no full rematch during load")
    parser.add_argument("--rematch-timeout", type=float, default=900)
    parser.add_argument(
        "--keep-history",
        action="store_true",
        help="keep the superseded run (by default it is pruned, so that the next "
        "--skip-build run starts from the same database)",
    )
    parser.add_argument("--out", default="/tmp/grantmatch-load", help="logs and results")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    if not args.skip_build:
        print("building the database ...", flush=True)
        built = load_data.build(args.database_url)
        print(
            f"built in {sum(built.timings.values()):.0f} s (of which the full rematch "
            f"{built.timings['full rematch']:.0f} s, in one process, no other load)",
            flush=True,
        )
    counts = load_data.describe(args.database_url)
    print("database:", ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)

    engine = create_engine(args.database_url)
    with engine.begin() as connection:
        # A run left in progress by an interrupted benchmark would block the new one.
        connection.execute(
            text(
                "UPDATE match_runs SET status = 'failed', error = 'benchmark interrupted' "
                "WHERE status IN ('pending', 'running')"
            )
        )
    engine.dispose()
    redis.Redis.from_url(args.broker_url).flushdb()  # the benchmark's own Redis database

    env = {
        **os.environ,
        "GRANTMATCH_DATABASE_URL": args.database_url,
        "GRANTMATCH_BROKER_URL": args.broker_url,
        # Not "production": its session cookie is Secure, which a browser (and Locust)
        # sends only over HTTPS, and this benchmark speaks plain HTTP on loopback.
        "GRANTMATCH_ENV": "development",
        "GRANTMATCH_SECRET_KEY": secrets.token_hex(32),
        "GRANTMATCH_INSTANCE_PATH": str(out / "instance"),
        "GRANTMATCH_BASE_URL": f"http://127.0.0.1:{args.port}",
        **({} if args.worker_nice is None else {"GRANTMATCH_WORKER_NICE": str(args.worker_nice)}),
    }
    wait_min, wait_max = (float(x) for x in args.wait.split("-"))
    host = f"http://127.0.0.1:{args.port}"
    window_file, requests_file, start_file = (
        out / "window.json",
        out / "requests.jsonl",
        out / "start",
    )
    for stale in (window_file, requests_file, start_file):
        stale.unlink(missing_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    monitor = Monitor(args.database_url)
    try:
        web = start(
            [
                *f"{BIN}/gunicorn -w {args.web_workers} -b 127.0.0.1:{args.port}".split(),
                *f"--access-logfile {out / 'access.log'} --no-control-socket".split(),
                "web.wsgi:app",
                # Time spent in the app, without the wait for a free worker: microseconds.
                *["--access-logformat", '%(t)s "%(r)s" %(s)s %(D)s'],
            ],
            env,
            out / "gunicorn.log",
        )
        processes.append(web)
        worker = start(
            f"{BIN}/celery -A workers.app worker --concurrency {args.worker_concurrency} "
            "--loglevel INFO --without-gossip --without-mingle".split(),
            env,
            out / "celery.log",
        )
        processes.append(worker)

        def web_up() -> bool:
            try:
                return requests.get(f"{host}/login", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(web_up, "gunicorn")
        wait_for(lambda: b"ready." in (out / "celery.log").read_bytes(), "the celery worker")
        print(
            f"gunicorn ({args.web_workers} workers) and the celery worker (nice "
            f"{os.getpriority(os.PRIO_PROCESS, worker.pid)}) are up",
            flush=True,
        )

        locust_env = {
            **os.environ,
            "LOAD_PASSWORD": load_data.PASSWORD,
            "LOAD_WAIT_MIN": str(wait_min),
            "LOAD_WAIT_MAX": str(wait_max),
            "LOAD_WARMUP_SECONDS": str(args.warmup),
            "LOAD_MEASURE_SECONDS": str(args.measure),
            "LOAD_WINDOW_FILE": str(window_file),
            "LOAD_REQUESTS_FILE": str(requests_file),
            "LOAD_START_FILE": str(start_file),
            "LOAD_QUEUE_STATES": args.queue_states,
        }
        # -t is only a safety stop: the locustfile ends the test after the window.
        limit = int(args.warmup + args.measure + args.rematch_timeout + 60)
        locust = start(
            f"{BIN}/locust -f bench/locustfile.py --headless -u {args.users} "
            f"-r {args.spawn_rate} -t {limit}s --host {host} --csv {out / 'locust'} "
            "--only-summary --stop-timeout 5".split(),
            locust_env,
            out / "locust.log",
        )
        processes.append(locust)
        threading.Thread(target=monitor.run, daemon=True).start()

        def window() -> dict[str, float]:
            try:
                return dict(json.loads(window_file.read_text()))
            except (FileNotFoundError, json.JSONDecodeError):
                return {}

        wait_for(lambda: "logged_in" in window() or locust.poll() is not None, "logins", 120)
        if locust.poll() is not None:
            raise SystemExit(f"locust stopped early; see {out / 'locust.log'}")
        logged_in = window()["logged_in"]
        print(f"{args.users} users logged in", flush=True)
        if not args.no_rematch:
            queued = subprocess.run(
                [str(BIN / "grantmatch"), "rematch", "--full"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            print(f"{queued.stdout.strip()} at +{time.time() - logged_in:.1f} s", flush=True)
        if args.window_during == "finish" and not args.no_rematch:
            wait_for(
                lambda: any(t.name == "finish_run" for t in worker_tasks(out / "celery.log")),
                "the rematch's finish phase",
                args.rematch_timeout,
            )
        start_file.touch()
        wait_for(lambda: "start" in window(), "the measured window", args.warmup + 60)
        roots = {web.pid: "gunicorn", worker.pid: "celery worker", locust.pid: "locust"}
        sampler = CpuSampler(roots | {os.getpid(): "load.py"})
        sampling = threading.Thread(target=sampler.run, daemon=True)
        sampling.start()
        print(f"measuring for {args.measure:.0f} s ...", flush=True)
        wait_for(lambda: "end" in window(), "the window's end", args.measure + 60, 0.05)
        sampler.stop.set()
        sampling.join()
        locust.wait(timeout=60)
        span = window()
        duration = span["end"] - span["start"]

        with requests_file.open() as lines:
            rows = [json.loads(line) for line in lines]
        rows = [r for r in rows if span["start"] <= r["at"] <= span["end"]]
        table = summarize(rows, duration)
        print(f"\nmeasured window: {duration:.1f} s, {args.users} users, think time {args.wait} s")
        print_table(table)
        server = server_times(out / "access.log", span)
        print(
            "\ntime in the app (gunicorn's access log: from a worker taking the request to "
            "its response, without the wait for a free worker):"
        )
        print_table(summarize(server, duration))
        queue_table = summarize(rows, duration, by_filter=True)
        print("\nreview queue (/officer/pairs) by filter:")
        print_table(queue_table)
        failures: dict[str, int] = defaultdict(int)
        for row in rows:
            if not row["ok"]:
                failures[f"{row['name']}: {row['error']}"] += 1
        for failure, count in failures.items():
            print(f"  error x{count}: {failure}")

        cpu_percent = {name: 100 * sec / duration for name, sec in sampler.used.items()}
        busy, total = sampler.machine
        machine_percent = 200 * busy / total if total else float("nan")
        print("\nCPU during the window, % of one core (the machine has 2: 200 %):")
        for name in ("gunicorn", "celery worker", "postgres", "locust", "load.py"):
            print(f"  {name:16s} {cpu_percent.get(name, 0.0):5.0f} %")
        print(
            f"  {'other processes':16s} {cpu_percent.get('other processes', 0.0):5.0f} %"
            "   (not this benchmark: the machine is shared)"
        )
        print(f"  {'whole machine':16s} {machine_percent:5.0f} %")

        rematch: dict[str, Any] = {}
        if not args.no_rematch:
            rematch = report_rematch(args, out, span, monitor)
        summary = {
            "arguments": vars(args),
            "database": counts,
            "window_seconds": duration,
            "table": table,
            "queue_by_filter": queue_table,
            "time_in_app": summarize(server, duration),
            "errors": failures,
            "cpu_percent": cpu_percent,
            "machine_busy_percent": machine_percent,
            "rematch": rematch,
        }
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(f"\nlogs, Locust's CSV files, every measured request and summary.json in {out}")
    finally:
        monitor.stop.set()
        for process in reversed(processes):
            stop(process)
        # Tasks a stopped worker left behind must not run in the next benchmark.
        redis.Redis.from_url(args.broker_url).flushdb()


def report_rematch(
    args: argparse.Namespace, out: Path, span: dict[str, float], monitor: Monitor
) -> dict[str, Any]:
    """The worker's tasks against the window, then the rematch's duration once it is done."""
    start, end = span["start"], span["end"]
    tasks = worker_tasks(out / "celery.log")
    busy = busy_seconds(tasks, start, end, time.time())
    print(
        f"\nfull rematch in the celery worker: busy {busy:.1f} s of the {end - start:.1f} s "
        "window (task times relative to the window's start):"
    )
    for task in tasks:
        ended = f"{task.ended - start:+7.1f} s" if task.ended else "   still running"
        print(f"  {task.name:12s} {task.received - start:+7.1f} s .. {ended} {task.outcome}")
    live = {s[1] for s in monitor.samples if start <= s[0] <= end}
    print(f"live run(s) during the window: {sorted(x for x in live if x is not None)}")

    deadline = time.time() + args.rematch_timeout
    while time.time() < deadline:
        tasks = worker_tasks(out / "celery.log")
        if any(t.name == "finish_run" and t.ended for t in tasks) or any(
            t.outcome == "failed" for t in tasks
        ):
            break
        time.sleep(2)
    engine = create_engine(args.database_url)
    with engine.connect() as connection:
        run_id, status, pairs, took = connection.execute(
            text(
                "SELECT id, status, pair_count, EXTRACT(EPOCH FROM finished_at - started_at) "
                "FROM match_runs WHERE kind = 'full' ORDER BY id DESC LIMIT 1"
            )
        ).one()
    phases: dict[str, float] = defaultdict(float)
    for task in tasks:
        if task.ended:
            phases[task.name] += task.ended - task.received
    print(
        f"full rematch run {run_id}: {status}, {pairs or 0:,} pairs; "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in phases.items())
        + f" (run started to finished: {float(took or 0):.0f} s)"
    )
    if not args.keep_history and status == "succeeded":
        with engine.begin() as connection:
            connection.execute(
                text(
                    "DELETE FROM matches WHERE run_id IN "
                    "(SELECT id FROM match_runs WHERE NOT is_live)"
                )
            )
            connection.execute(text("DELETE FROM match_runs WHERE NOT is_live"))
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE matches")
            )
        print("superseded run pruned (--keep-history keeps it)")
    engine.dispose()
    return {
        "run_id": run_id,
        "status": status,
        "pairs": pairs,
        "seconds": float(took) if took is not None else None,
        "phases": phases,
        "busy_in_window": busy,
        "tasks": [vars(t) for t in tasks],
    }


if __name__ == "__main__":
    main()
