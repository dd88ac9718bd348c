"""Instructions per request of each server, counted by valgrind: the steady figure.

    python bench/instructions.py                 # floor and hotline (about 3 minutes)
    python bench/instructions.py --servers floor,hotline,bare+sig --requests 1000
    python bench/instructions.py --baseline 59ad7e6    # and the hotline at a git revision

A shared VM's CPU speed drifts by 10-30 % from one minute to the next, so timed runs
(bench/run.py, bench/inprocess.py) need many rounds to compare two servers. The number of
instructions a request makes does not drift: each server's WSGI app is played the same
signed pool (bench/loadgen.py) on a real redis-server, under `valgrind --tool=cachegrind
--cache-sim=no`, once with `--requests` more requests than the other, and the difference is
divided by `--requests` (start-up and warm-up cancel out). It counts the Python process
only: redis-server's share is in bench/inprocess.py (redis cpu). Use it to tell whether a
change made a turn cheaper; bench/run.py remains the figure that counts.

Needs valgrind (Debian: `apt-get install valgrind`).
"""
from __future__ import annotations

import argparse
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# a baseline's tree (see --baseline) comes first, as on bench/run.py's baseline server
sys.path[:0] = [p for p in (os.environ.get("HOTLINE_BASELINE_TREE"), str(BENCH.parent),
                            str(BENCH)) if p]

HOST = "127.0.0.1:8000"
WARMUP = 500


def child(server: str, count: int, pool_file: str, redis_url: str) -> None:
    """Played under valgrind: the warm-up, then `count` requests."""
    import inprocess
    import redis
    from run import SECRET, TOKEN

    pool = pickle.loads(Path(pool_file).read_bytes())
    os.environ.update(TWILIO_AUTH_TOKEN=TOKEN, REDIS_URL=redis_url)
    redis.Redis.from_url(redis_url).flushall()
    if server in ("hotline", "baseline"):
        from hotline import create_app

        app = create_app({"REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": TOKEN,
                          "HOTLINE_SECRET": SECRET, "TWILIO_ACCOUNT_SID": "",
                          "HOTLINE_STATS_EVERY": "1"})
    elif server == "floor":
        from floor_app import create_app as floor

        app = floor()
    else:
        from bare_app import create_app as bare

        app = bare("signed" if server == "bare+sig" else "fixed")
    inprocess.play(app, pool[:WARMUP], check=True)
    inprocess.play(app, pool[WARMUP:WARMUP + count], check=True)


def instructions(server: str, count: int, pool_file: str, redis_url: str,
                 tree: Path | None) -> int:
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
               "--cachegrind-out-file=/dev/null", sys.executable, __file__,
               "--child", server, str(count), pool_file, redis_url]
    env = dict(os.environ, HOTLINE_BASELINE_TREE=str(tree)) if tree else None
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if not found:
        raise SystemExit(f"valgrind gave no count for {server}:\n{out.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        server, count, pool_file, redis_url = sys.argv[2:6]
        child(server, int(count), pool_file, redis_url)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="floor,hotline")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--baseline", metavar="REV",
                        help="also count the hotline as it was at this git revision")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")

    import loadgen
    from run import SECRET, TOKEN, extract

    from hotline import create_app
    from hotline.embedded_redis import EmbeddedRedis

    redis_server = EmbeddedRedis()
    workdir = Path(tempfile.mkdtemp(prefix="hotline-instructions-"))
    try:
        os.environ["TWILIO_AUTH_TOKEN"] = TOKEN
        recorder = create_app({"REDIS_URL": redis_server.url, "TWILIO_AUTH_TOKEN": TOKEN,
                               "HOTLINE_SECRET": SECRET, "TWILIO_ACCOUNT_SID": "",
                               "HOTLINE_STATS_EVERY": "0"})
        personas = loadgen.record(recorder, TOKEN)
        pool, _, people = loadgen.build_pool(personas, f"http://{HOST}", TOKEN,
                                             WARMUP + args.requests, 400)
        pool_file = workdir / "pool.pickle"
        pool_file.write_bytes(pickle.dumps([(r.path, r.signature, r.body) for r in pool]))
        print(f"{args.requests} requests after {WARMUP} of warm-up, from {people} numbers; "
              "instructions of the Python process per request (valgrind)")
        tree = extract(args.baseline, workdir) if args.baseline else None
        servers = args.servers.split(",") + (["baseline"] if tree else [])
        counts = {}
        for server in servers:
            where = tree if server == "baseline" else None
            more = instructions(server, args.requests, str(pool_file), redis_server.url, where)
            fewer = instructions(server, 0, str(pool_file), redis_server.url, where)
            counts[server] = (more - fewer) / args.requests
            print(f"{server:9s} {counts[server]:>12,.0f}", flush=True)
        if "floor" in counts and "hotline" in counts:
            print(f"floor/hotline: {counts['floor'] / counts['hotline']:.2f} "
                  "(Python only; the bench adds gunicorn and redis-server to both)")
        if "floor" in counts and "baseline" in counts:
            print(f"floor/baseline: {counts['floor'] / counts['baseline']:.2f}")
    finally:
        redis_server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
