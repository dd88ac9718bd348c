"""The hotline under load, next to the limit of its stack, in one command:

    python bench/run.py            # about 1.5 minutes; --help for the knobs

1. starts a real redis-server on a free loopback port (hotline.embedded_redis);
2. records a few realistic conversations through the hotline (bench/loadgen.py) and builds
   a pool of unique requests from thousands of numbers, each signed with twilio's
   RequestValidator over the URL the server sees, as Twilio signs them;
3. serves, one after the other on the same port with the same gunicorn command
   (production's gunicorn.conf.py, with --workers/--worker-class from the command line):
   `bare` (bench/bare_app.py: fixed TwiML, the limit of Flask + gunicorn), `bare+sig`
   (signature check and one <Message> built with the SDK, what every webhook pays),
   `floor` (bench/floor_app.py: the same plus one Redis round trip each way, the floor of
   any stateful webhook) and `hotline` (`hotline:create_app()` on the real Redis); with
   `--baseline REV`, also `baseline`: the hotline as it was at git revision REV (extracted
   with `git archive` into the run's folder), to see what a change cost in the same run;
4. for each: checks a few conversations answer as recorded, warms up, then drives the load
   from a separate process (wrk + bench/wrk_pool.lua, or `python bench/loadgen.py drive`
   without wrk) at 32 connections for a fixed time, and reads each worker's peak RSS;
5. measures start-up (import + create_app in a fresh process), the postcode lookup
   (bench/bench_directory.py) and Redis memory per 10,000 active conversations;
6. prints the figures. Every process it starts is stopped, also on error or Ctrl-C, and the
   whole run is bounded (--time-limit).

Other processes using the CPU during a measured window skew it: the report says how much
CPU time went to processes outside the benchmark.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]  # `python bench/run.py` finds hotline and loadgen

import loadgen  # noqa: E402

from hotline.embedded_redis import EmbeddedRedis, free_port  # noqa: E402

TOKEN = "bench-auth-token-0123456789abcdef"
SECRET = "bench-secret"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Aborted(Exception):
    pass


def on_signal(signum, frame):
    raise Aborted(f"stopped by signal {signum}")


# --------------------------------------------------------------------------- processes
def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HOTLINE_", "TWILIO_", "REDIS_URL", "GUNICORN_", "WEB_CONCURRENCY"))}
    env.update(extra)
    return env


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pids: list[int]) -> int:
    """utime + stime of these processes and their waited-for children, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
        except (OSError, ValueError):
            pass
    return total


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot."""
    with open("/proc/stat") as handle:
        values = [int(x) for x in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Server:
    """One gunicorn master (and its workers) started here."""

    def __init__(self, name: str, app: str, port: int, args: argparse.Namespace,
                 env: dict[str, str], log_dir: Path, extra: list[str] = ()):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        self.err = log_dir / f"{name}.stderr"
        command = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"),
                   "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                   "--worker-class", args.worker_class, "--threads", str(args.threads),
                   *extra, app]
        self.command = command
        self.started = time.perf_counter()
        with open(self.err, "wb") as err:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                            stderr=err, start_new_session=True)
        try:
            self.ready_s = self._wait()
        except BaseException:  # not answering, or the run is aborted: stop it here
            self.stop()
            raise

    def _wait(self, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited:\n{self.err.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name}: not answering after {timeout:.0f} s")

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn: graceful stop of master and workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)  # the group started here
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=5)


def wait_idle(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (at most max_wait s) for a second in which less than `threshold` of all CPUs is
    busy: other people's processes skew a measured window. Returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < max_wait:
        busy0, total0 = machine_busy_ticks()
        time.sleep(1.0)
        busy1, total1 = machine_busy_ticks()
        if (busy1 - busy0) <= threshold * max(total1 - total0, 1):
            break
    return time.perf_counter() - start


# --------------------------------------------------------------------------- load
def run_load(args, base: str, pool_file: Path, offset: int, duration: float) -> tuple[dict, int]:
    """One closed-loop run from a separate process; (result, pid of that process)."""
    if args.loadgen == "wrk":
        command = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections),
                   "-d", f"{duration:g}s", "--timeout", "10s", "-s", str(BENCH / "wrk_pool.lua"),
                   base, "--", str(pool_file), str(offset), str(args.wrk_threads)]
    else:
        command = [sys.executable, str(BENCH / "loadgen.py"), "drive", "--url", base,
                   "--pool", str(pool_file), "--offset", str(offset),
                   "--connections", str(args.connections), "--duration", str(duration)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=duration + 60)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the load generator did not stop: {command}")
    finally:
        if process.poll() is None:  # timed out, or the run is aborted: stop it too
            process.kill()
            process.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"load generator failed ({process.returncode}): {out[-1000:]} {err[-2000:]}")
    return json.loads(lines[-1]), process.pid


def bench_server(args, server: Server, pool_file: Path, spare, redis_pid: int,
                 compare: bool) -> dict:
    ok, same, diffs = loadgen.verify(server.base, spare, compare)
    steps = sum(len(c) for c in spare)
    if ok != steps:
        raise RuntimeError(f"{server.name}: {steps - ok} of {steps} checked steps did not answer "
                           f"200 (signatures?) {diffs}")
    warm, _ = run_load(args, server.base, pool_file, 0, args.warmup)
    offset = warm["next_offset"]
    single = None
    if args.single > 0:  # one connection: the time one request takes when nobody queues
        one = argparse.Namespace(**{**vars(args), "connections": 1, "wrk_threads": 1})
        single, _ = run_load(one, server.base, pool_file, offset, args.single)
        offset = single["next_offset"]
    waited = wait_idle(args.wait_idle) if args.wait_idle else 0.0
    ours = [server.process.pid, *server.workers(), redis_pid]
    busy0, total0 = machine_busy_ticks()
    ours0 = cpu_ticks(ours)
    children0 = os.times()
    wall0 = time.perf_counter()
    result, _ = run_load(args, server.base, pool_file, offset, args.duration)
    wall = time.perf_counter() - wall0
    busy1, total1 = machine_busy_ticks()
    ours1 = cpu_ticks(ours)
    children1 = os.times()
    workers = server.workers()
    result.update(
        name=server.name, ready_s=server.ready_s, warmup_requests=warm["requests"],
        single=single, waited_idle_s=waited,
        checked_steps=steps, same_as_recorded=same if compare else None, diffs=diffs,
        worker_hwm_mib=[status_kib(pid, "VmHWM") / 1024 for pid in workers],
        worker_pss_mib=[pss_kib(pid) / 1024 for pid in workers],
        master_hwm_mib=status_kib(server.process.pid, "VmHWM") / 1024,
        # CPU time in the window: all CPUs, the servers + redis, the load generator
        cpu_busy_s=(busy1 - busy0) / CLOCK_TICKS, cpu_servers_s=(ours1 - ours0) / CLOCK_TICKS,
        cpu_capacity_s=(total1 - total0) / CLOCK_TICKS, window_s=wall,
        cpu_loadgen_s=(children1.children_user + children1.children_system
                       - children0.children_user - children0.children_system))
    return result


# --------------------------------------------------------------------------- other figures
STARTUP_CODE = """
import time
t0 = time.perf_counter()
import hotline
t1 = time.perf_counter()
hotline.create_app()
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def measure_startup(env: dict[str, str], runs: int = 3) -> dict:
    imports, creates, walls = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", STARTUP_CODE], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120, check=True).stdout
        walls.append(time.perf_counter() - start)
        first, second = map(float, out.split()[-2:])
        imports.append(first)
        creates.append(second)
    return {"import_s": statistics.median(imports), "create_app_s": statistics.median(creates),
            "total_s": statistics.median(a + b for a, b in zip(imports, creates)),
            "process_wall_s": statistics.median(walls), "runs": runs}


def measure_lookup(directory, lookups: int = 20_000) -> dict:
    import random

    import bench_directory

    codes = bench_directory.known_postcodes()
    first = sorted(bench_directory.per_call_ns(directory, codes))  # made on first lookup
    rng = random.Random(20261126)
    inputs = [rng.choice(codes) for _ in range(lookups)]
    bench_directory.per_call_ns(directory, inputs[:1000])
    timings = sorted(bench_directory.per_call_ns(directory, inputs))
    messy = [f" {c[:2]} {c[2:]} ville " for c in inputs[:5000]]
    return {"first_median_us": statistics.median(first) / 1000,
            "first_p99_us": first[int(len(first) * 0.99)] / 1000,
            "median_us": statistics.median(timings) / 1000,
            "p99_us": timings[int(len(timings) * 0.99)] / 1000,
            "messy_median_us": statistics.median(bench_directory.per_call_ns(directory, messy)) / 1000,
            "lookups": lookups, "postcodes": len(codes)}


def used_memory(client) -> int:
    return int(client.info("memory")["used_memory"])


def measure_redis_memory(app, client, conversations: int, crosscheck: int) -> dict:
    """Bytes of Redis per active conversation, three ways:
    - sms: 10,000 people who texted "Bonjour", "1", "TEST", "1", written through
      Store.save exactly as the webhook writes them (session, preferences, the four cached
      answers), from one conversation played for real;
    - voice: the same for a call (call, 1, 1, 1);
    - crosscheck: a few hundred people texting those four messages for real (Flask test
      client, every webhook's code path), to confirm the Store.save figure."""
    from hotline.store import Store

    store: Store = app.extensions["hotline"].store
    test_client = app.test_client()
    texts = ["Bonjour", "1", "TEST", "1"]
    keys = [loadgen.CALL, "1", "1", "1"]

    def play(channel: str, person: int) -> list[str]:
        """One conversation through the webhooks, signed as Twilio signs: the answers."""
        import xml.etree.ElementTree as ET
        from urllib.parse import urlsplit

        from twilio.request_validator import RequestValidator

        answers, path = [], "/sms" if channel == "sms" else "/voice"
        for i, value in enumerate(texts if channel == "sms" else keys):
            step = loadgen.Step(channel, path, value)
            params = loadgen.step_params(step, person, i)
            signature = RequestValidator(TOKEN).compute_signature("http://localhost" + path, params)
            response = test_client.post(path, data=params, headers={"X-Twilio-Signature": signature})
            assert response.status_code == 200, response.status_code
            answers.append(response.data.decode())
            if channel == "voice":
                action = urlsplit(ET.fromstring(response.data).find("Gather").get("action"))
                path = f"{action.path}?{action.query}"
        return answers

    results = {}
    for channel in ("sms", "voice"):
        client.flushall()
        template = 8_000_000 + (channel == "voice")
        answers = play(channel, template)
        session, _ = store.load(store.pid(loadgen.phone(template)), channel, None)
        client.flushall()
        before = used_memory(client)
        for person in range(conversations):
            pid = store.pid(loadgen.phone(person))
            # what take_turn writes: the session, the preferences, each answer under the
            # hash of its request id (a fixed-length key, whatever the id)
            for i, answer in enumerate(answers):
                store.save(pid, channel, session, f"{channel}:{person}:{i}", answer)
        after = used_memory(client)
        results[channel] = {"conversations": conversations, "bytes": after - before,
                            "keys": client.dbsize(),
                            "answer_bytes": sum(len(a.encode()) for a in answers)}
    client.flushall()
    before = used_memory(client)
    for person in range(crosscheck):
        play("sms", 7_000_000 + person)
    after = used_memory(client)
    results["crosscheck_sms"] = {"conversations": crosscheck, "bytes": after - before,
                                 "keys": client.dbsize()}
    client.flushall()
    return results


def version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


# --------------------------------------------------------------------------- report
def combine(rounds: list[dict]) -> dict:
    """One server's rounds as one row: medians of rates and latencies, totals of counts and
    CPU time (so CPU per request is over all rounds), the highest memory."""
    if len(rounds) == 1:
        return rounds[0]
    median = lambda key: statistics.median(r[key] for r in rounds)  # noqa: E731
    total = lambda key: sum(r.get(key, 0) for r in rounds)  # noqa: E731
    singles = [r["single"]["p50_ms"] for r in rounds if r.get("single")]
    combined = dict(rounds[0])
    combined.update(
        {key: median(key) for key in ("rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "ready_s")},
        **{key: total(key) for key in ("non2xx", "socket_errors", "timeouts", "requests",
                                       "repeated", "cpu_servers_s", "cpu_busy_s",
                                       "cpu_loadgen_s", "cpu_capacity_s", "window_s")},
        single={"p50_ms": statistics.median(singles)} if singles else None,
        worker_hwm_mib=[max(m) for m in zip(*(r["worker_hwm_mib"] for r in rounds))],
        worker_pss_mib=[max(m) for m in zip(*(r["worker_pss_mib"] for r in rounds))],
    )
    if combined.get("same_as_recorded") is not None:
        combined["same_as_recorded"] = min(r["same_as_recorded"] for r in rounds)
        combined["diffs"] = [d for r in rounds for d in r["diffs"]]
    return combined


def report(machine: dict, args, runs: list[dict], startup: dict, lookup: dict, memory: dict,
           pool_info: dict) -> str:
    lines = []
    add = lines.append
    add("")
    add(f"machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['python']}, "
        f"{machine['redis']}, gunicorn {machine['gunicorn']}, load generator: {machine['loadgen']}")
    add(f"load average before: {machine['loadavg_before']}, after: {machine['loadavg_after']}")
    add(f"gunicorn: -c gunicorn.conf.py --workers {args.workers} --worker-class "
        f"{args.worker_class} --threads {args.threads} (preload, access log, timeout 10 s)")
    add(f"load: {args.connections} connections, {args.warmup:g} s warm-up then {args.duration:g} s "
        f"measured; pool of {pool_info['size']:,} unique signed requests from "
        f"{pool_info['people']:,} numbers ({pool_info['slots']} talking at once; "
        f"{pool_info['sms_share']:.0%} SMS, {pool_info['voice_share']:.0%} voice)")
    add("")
    per_round = runs
    runs = [combine([r for r in per_round if r["name"] == name])
            for name in dict.fromkeys(r["name"] for r in per_round)]
    if args.rounds > 1:
        add(f"{args.rounds} rounds, servers alternating; each figure is the median of its "
            "rounds (errors and requests: totals; memory: the highest)")
    head = (f"{'server':<9} {'req/s':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} "
            f"{'errors':>6} {'requests':>8} {'CPU ms/req':>10} {'1-conn p50':>10} "
            f"{'peak RSS/worker MiB':>19} {'PSS MiB':>7} {'ready s':>7} {'others CPU':>10}")
    add(head)
    add("-" * len(head))
    for r in runs:
        errors = r["non2xx"] + r["socket_errors"] + r.get("timeouts", 0)
        others = max(0.0, r["cpu_busy_s"] - r["cpu_servers_s"] - r.get("cpu_loadgen_s", 0))
        cpu_per_request = r["cpu_servers_s"] / max(r["requests"], 1) * 1000
        single = f"{r['single']['p50_ms']:.2f}" if r.get("single") else "-"
        add(f"{r['name']:<9} {r['rps']:>7.1f} {r['p50_ms']:>7.1f} {r['p90_ms']:>7.1f} "
            f"{r['p99_ms']:>7.1f} {r['max_ms']:>7.1f} {errors:>6} {r['requests']:>8} "
            f"{cpu_per_request:>10.2f} {single:>10} "
            f"{'/'.join(f'{m:.1f}' for m in r['worker_hwm_mib']):>19} "
            f"{'/'.join(f'{m:.0f}' for m in r['worker_pss_mib']):>7} {r['ready_s']:>7.2f} "
            f"{others / r['cpu_capacity_s']:>10.0%}")
    by_name = {r["name"]: r for r in runs}
    if "hotline" in by_name:
        hot = by_name["hotline"]
        for other in ("bare", "bare+sig", "floor", "baseline"):
            if other in by_name:
                ratios = [h["rps"] / o["rps"] for h, o in zip(
                    (r for r in per_round if r["name"] == "hotline"),
                    (r for r in per_round if r["name"] == other))]
                add(f"throughput hotline/{other}: {statistics.median(ratios):.2f}"
                    + (f" (rounds: {', '.join(f'{x:.2f}' for x in ratios)})"
                       if len(ratios) > 1 else ""))
        if hot.get("same_as_recorded") is not None:
            add(f"hotline answers checked before the load: {hot['same_as_recorded']}/"
                f"{hot['checked_steps']} identical to the recorded conversations"
                + (f"; differences: {hot['diffs']}" if hot["diffs"] else ""))
        if any(r["repeated"] for r in runs if r["name"] == "hotline"):
            add(f"WARNING: the pool wrapped: {hot['repeated']} hotline requests were retries "
                "(cached answers); raise --pool")
        busy = hot["cpu_servers_s"] / hot["window_s"]
        add(f"hotline: gunicorn + redis-server used {busy:.2f} of the {machine['nproc']} CPUs "
            "in the window; the rest went to the load generator and other processes")
    add("errors = non-2xx answers + socket errors + timeouts; CPU ms/req = CPU time of the "
        "gunicorn master and workers and redis-server per request; 1-conn p50 = median latency "
        f"with a single connection ({args.single:g} s, nothing queued); others CPU = share of all "
        "CPUs used by processes outside the benchmark in the measured window")
    add("")
    add(f"start-up (fresh `python -c 'import hotline; hotline.create_app()'`, REDIS_URL set, "
        f"median of {startup['runs']}): import {startup['import_s'] * 1000:.0f} ms + create_app "
        f"{startup['create_app_s'] * 1000:.0f} ms = {startup['total_s'] * 1000:.0f} ms; "
        f"whole process {startup['process_wall_s'] * 1000:.0f} ms")
    add(f"postcode lookup (Directory.lookup, {lookup['lookups']:,} random known postcodes of "
        f"{lookup['postcodes']:,}): median {lookup['median_us']:.2f} µs, p99 {lookup['p99_us']:.2f} µs; "
        f"' 93 200 ville ' style text: median {lookup['messy_median_us']:.2f} µs; "
        f"a postcode's first lookup (its answer is made then): median "
        f"{lookup['first_median_us']:.1f} µs, p99 {lookup['first_p99_us']:.1f} µs")
    for channel in ("sms", "voice"):
        m = memory[channel]
        per = m["bytes"] / m["conversations"]
        add(f"redis memory, {channel} conversations (4 turns, written with Store.save): "
            f"{m['bytes'] / 2**20 * 10_000 / m['conversations']:.1f} MiB per 10,000 "
            f"({per:,.0f} B each, {m['keys'] / m['conversations']:.0f} keys each; "
            f"{m['answer_bytes']:,} B of cached TwiML answers each)")
    c = memory["crosscheck_sms"]
    add(f"  cross-check, {c['conversations']} SMS conversations through the webhooks: "
        f"{c['bytes'] / c['conversations']:,.0f} B each")
    return "\n".join(lines)


def extract(revision: str, workdir: Path) -> Path:
    """The hotline package and its content as they were at a git revision, in a folder of
    the run (its `hotline/` comes first on the baseline server's path)."""
    target = workdir / "baseline"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "hotline",
                              "ivr_scripts", "audio"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per server")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", help="production: gthread")
    parser.add_argument("--threads", type=int, default=8, help="production: 8")
    parser.add_argument("--single", type=float, default=2.0,
                        help="seconds at one connection before the measured run (0: skip)")
    parser.add_argument("--pool", type=int, default=12_000, help="signed requests in the pool")
    parser.add_argument("--slots", type=int, default=400, help="people talking at once")
    parser.add_argument("--wait-idle", type=float, default=0.0,
                        help="before each measured window, wait up to this many s for the "
                             "machine to be idle (other people's processes)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--servers", default="bare,bare+sig,floor,hotline")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every server this many times, alternating; the table shows "
                             "medians")
    parser.add_argument("--conversations", type=int, default=10_000,
                        help="active conversations for the Redis memory figure")
    parser.add_argument("--time-limit", type=float,
                        help="abort after this many s (default: 300 per round)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--baseline", metavar="REV",
                        help="also serve the hotline as it was at this git revision "
                             "(server `baseline`), e.g. the commit before a change")
    args = parser.parse_args()
    if args.baseline and "baseline" not in args.servers.split(","):
        args.servers += ",baseline"
    if args.time_limit is None:
        args.time_limit = 300.0 * args.rounds
    if args.loadgen == "auto":
        args.loadgen = "wrk" if shutil.which("wrk") else "python"

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(int(args.time_limit))
    started = time.perf_counter()
    machine = {"nproc": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
               "python": f"Python {platform.python_version()}",
               "loadavg_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
               "loadgen": version(["wrk", "-v"]) if args.loadgen == "wrk" else "python threads"}
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                machine["cpu"] = line.split(":", 1)[1].strip()
                break
    import gunicorn

    machine["gunicorn"] = gunicorn.__version__
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    redis_server = None
    server = None
    runs: list[dict] = []
    try:
        redis_server = EmbeddedRedis()
        machine["redis"] = version([redis_server.process.args[0], "--version"]).split(" sha")[0]
        import redis

        from hotline import create_app

        client = redis.Redis.from_url(redis_server.url)
        env = clean_env(REDIS_URL=redis_server.url, TWILIO_AUTH_TOKEN=TOKEN, HOTLINE_SECRET=SECRET)
        print(f"redis-server at {redis_server.url}; recording conversations ...", flush=True)
        app = create_app({"REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": TOKEN,
                          "HOTLINE_SECRET": SECRET, "TWILIO_ACCOUNT_SID": "",
                          "HOTLINE_STATS_EVERY": "0"})
        personas = loadgen.record(app, TOKEN)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        t0 = time.perf_counter()
        pool, spare, people = loadgen.build_pool(personas, base, TOKEN, args.pool, args.slots)
        pool_file = workdir / "pool.tsv"
        loadgen.write_pool(str(pool_file), pool)
        sms = sum(r.path == "/sms" for r in pool) / len(pool)
        pool_info = {"size": len(pool), "people": people, "slots": args.slots,
                     "sms_share": sms, "voice_share": 1 - sms}
        print(f"pool: {len(pool):,} signed requests from {people:,} numbers in "
              f"{time.perf_counter() - t0:.1f} s; measuring start-up ...", flush=True)
        del pool

        startup = measure_startup(env)

        servers = {
            "bare": ("bare_app:create_app()", {"BARE_MODE": "fixed"}, ["--pythonpath", str(BENCH)]),
            "bare+sig": ("bare_app:create_app()", {"BARE_MODE": "signed"}, ["--pythonpath", str(BENCH)]),
            "floor": ("floor_app:create_app()", {}, ["--pythonpath", str(BENCH)]),
            "hotline": ("hotline:create_app()", {}, []),
        }
        if args.baseline:
            servers["baseline"] = ("hotline:create_app()", {},
                                   ["--pythonpath", str(extract(args.baseline, workdir))])
        # Servers alternate within each round, so a slow spell of a shared machine hits
        # every server of that round rather than one of them.
        for round_no in range(1, args.rounds + 1):
            for name in args.servers.split(","):
                app_spec, extra_env, extra_args = servers[name]
                client.flushall()
                print(f"{name} (round {round_no}/{args.rounds}): starting gunicorn, "
                      f"{args.warmup:g} s warm-up, {args.duration:g} s of load ...", flush=True)
                server = Server(name, app_spec, port, args,
                                {**env, "HOTLINE_PUBLIC_URL": base, **extra_env}, workdir,
                                extra_args)
                result = bench_server(args, server, pool_file, spare, redis_server.process.pid,
                                      compare=name == "hotline")
                server.stop()
                server = None
                runs.append(dict(result, round=round_no))
                time.sleep(0.5)

        print("postcode lookups and Redis memory ...", flush=True)
        from hotline.app import shared_directory

        lookup = measure_lookup(shared_directory())
        memory = measure_redis_memory(app, client, args.conversations, crosscheck=300)
        machine["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        text = report(machine, args, runs, startup, lookup, memory, pool_info)
        print(text)
        print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")
        if args.json:
            with open(args.json, "w") as out:
                json.dump({"machine": machine, "runs": runs, "startup": startup,
                           "lookup": lookup, "redis_memory": memory, "pool": pool_info,
                           "args": vars(args)}, out, indent=2)
        return 0
    finally:
        signal.alarm(0)
        if server is not None:
            server.stop()
        if redis_server is not None:
            redis_server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Aborted, KeyboardInterrupt) as exc:
        print(f"aborted: {exc}", file=sys.stderr)
        sys.exit(1)
