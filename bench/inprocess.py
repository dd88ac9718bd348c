"""CPU per request of each server without HTTP or gunicorn: the WSGI apps called directly.

    python bench/inprocess.py                  # µs per request: bare, bare+sig, floor, hotline
    python bench/inprocess.py --profile FILE   # and a cProfile of the hotline (pstats file)
    python bench/inprocess.py --profile FILE --profile-server floor   # of another server

The same signed pool as bench/run.py (recorded conversations, thousands of numbers), played
in order through `app.wsgi_app(environ, start_response)` on a real redis-server. It leaves
out what gunicorn and the socket cost (the same for every server), so it shows the
hotline's own cost far more steadily than a load run, in a few seconds: the tool to use
while optimising. bench/run.py remains the figure that counts.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import loadgen  # noqa: E402
from run import SECRET, TOKEN  # noqa: E402  (the same signed pool as run.py)

from hotline.embedded_redis import EmbeddedRedis  # noqa: E402

HOST = "127.0.0.1:8000"


def environ_for(path: str, signature: str, body: str) -> dict:
    raw = body.encode()
    path_only, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path_only,
        "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": HOST, "RAW_URI": path,  # as gunicorn
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(raw)),
        "HTTP_X_TWILIO_SIGNATURE": signature, "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def play(app, pool, check: bool) -> float:
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    started = time.perf_counter()
    for path, signature, body in pool:
        for _ in app(environ_for(path, signature, body), start_response):
            pass
    elapsed = time.perf_counter() - started
    if check and any(not s.startswith("200") for s in statuses):
        raise SystemExit(f"non-200 answers: {sorted(set(statuses))}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many plays")
    parser.add_argument("--servers", default="bare,bare+sig,floor,hotline")
    parser.add_argument("--profile", help="write a cProfile of one server here")
    parser.add_argument("--profile-server", default="hotline", help="the server to profile")
    args = parser.parse_args()

    redis_server = EmbeddedRedis()
    try:
        import redis
        from bare_app import create_app as bare

        from hotline import create_app

        config = {"REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": TOKEN,
                  "HOTLINE_SECRET": SECRET, "TWILIO_ACCOUNT_SID": "", "HOTLINE_STATS_EVERY": "0"}
        os.environ["TWILIO_AUTH_TOKEN"] = TOKEN
        recorder = create_app(config)
        personas = loadgen.record(recorder, TOKEN)
        pool, _, people = loadgen.build_pool(personas, f"http://{HOST}", TOKEN, args.pool, 400)
        pool = [(r.path, r.signature, r.body) for r in pool]
        client = redis.Redis.from_url(redis_server.url)
        from floor_app import create_app as floor

        os.environ["REDIS_URL"] = redis_server.url
        # measured as served: daily counters written once a second (the default), not per
        # request as while recording
        served = {**config, "HOTLINE_STATS_EVERY": "1"}
        makers = {"bare": lambda: bare("fixed"), "bare+sig": lambda: bare("signed"),
                  "floor": floor, "hotline": lambda: create_app(served)}
        apps = {name: makers[name]() for name in args.servers.split(",")}
        print(f"{len(pool)} requests from {people} numbers, best of {args.rounds}")
        redis_pid = redis_server.process.pid
        print(f"{'':9s} {'wall':>8s} {'app cpu':>8s} {'redis cpu':>9s}  µs/request (best of each)")
        best = {name: [float("inf")] * 3 for name in apps}  # wall, app cpu, redis cpu
        for _ in range(args.rounds):  # the servers in turn, so a busier moment hits each
            for name, app in apps.items():
                client.flushall()
                cpu0, server0 = time.process_time(), cpu_seconds(redis_pid)
                wall = play(app, pool, check=True)
                found = (wall, time.process_time() - cpu0, cpu_seconds(redis_pid) - server0)
                best[name] = [min(a, b) for a, b in zip(best[name], found)]
        n = len(pool) / 1e6
        for name, (wall, cpu, server) in best.items():
            print(f"{name:9s} {wall / n:8.0f} {cpu / n:8.0f} {server / n:9.0f}")
        if args.profile:
            import cProfile

            client.flushall()
            profiler = cProfile.Profile()
            profiler.enable()
            play(apps[args.profile_server], pool, check=True)
            profiler.disable()
            profiler.dump_stats(args.profile)
            print(f"profile written to {args.profile}")
    finally:
        redis_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
