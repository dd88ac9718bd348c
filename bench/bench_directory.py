"""Benchmark of hotline.directory: load time, cost of one lookup, memory of the tables.

Run from the repository root:

    python bench/bench_directory.py [--lookups 100000] [--loads 5]

Prints the time Directory.load() takes, the median cost of one lookup over random known
postcodes (each call timed on its own with perf_counter_ns, minus the timer's own cost),
and the memory the loaded tables hold (tracemalloc). No network, no Redis.
"""

from __future__ import annotations

import argparse
import csv
import gc
import pathlib
import random
import statistics
import sys
import time
import tracemalloc

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # so `python bench/bench_directory.py` finds the package

from hotline.directory import DEFAULT_FOLDER, Directory  # noqa: E402


def known_postcodes() -> list[str]:
    """Every postcode of postcodes.csv (read here, not from the Directory's private tables)."""
    with open(DEFAULT_FOLDER / "postcodes.csv", newline="", encoding="utf-8") as handle:
        return sorted({row["postcode"] for row in csv.DictReader(handle)})


def time_loads(count: int) -> list[float]:
    """Seconds taken by `count` successive Directory.load() calls."""
    times = []
    for _ in range(count):
        gc.collect()
        start = time.perf_counter()
        Directory.load()
        times.append(time.perf_counter() - start)
    return times


def per_call_ns(directory: Directory, inputs: list[str]) -> list[int]:
    """Nanoseconds of each lookup, the timer's own cost removed."""
    clock = time.perf_counter_ns
    overhead = min(-(clock() - clock()) for _ in range(10_000))
    lookup = directory.lookup
    timings = []
    for text in inputs:
        start = clock()
        lookup(text)
        timings.append(clock() - start - overhead)
    return timings


def table_memory() -> tuple[int, int]:
    """(bytes still held by a loaded Directory, peak bytes during the load)."""
    gc.collect()
    tracemalloc.start()
    directory = Directory.load()
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del directory
    return current, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()

    print(f"Python {sys.version.split()[0]} on {sys.platform}; data: {DEFAULT_FOLDER}")

    loads = time_loads(args.loads)
    print(f"Directory.load(): first {loads[0] * 1000:.0f} ms, "
          f"median {statistics.median(loads) * 1000:.0f} ms over {args.loads} loads")

    directory = Directory.load()
    codes = known_postcodes()
    first = per_call_ns(directory, codes)  # each postcode's answer is made on first lookup
    print(f"first lookup of a postcode: median {statistics.median(first) / 1000:.1f} µs, "
          f"p99 {sorted(first)[int(len(first) * 0.99)] / 1000:.1f} µs, all {len(codes):,} "
          f"in {sum(first) / 1e9 * 1000:.0f} ms")
    rng = random.Random(20261126)
    inputs = [rng.choice(codes) for _ in range(args.lookups)]
    per_call_ns(directory, inputs[:1000])  # warm-up
    timings = per_call_ns(directory, inputs)
    print(f"lookup(known postcode): median {statistics.median(timings) / 1000:.2f} µs, "
          f"p99 {sorted(timings)[int(len(timings) * 0.99)] / 1000:.2f} µs "
          f"over {len(timings):,} random lookups of {len(codes):,} known postcodes")

    start = time.perf_counter()
    for text in inputs:
        directory.lookup(text)
    elapsed = time.perf_counter() - start
    print(f"lookup(known postcode), loop average: {elapsed / len(inputs) * 1e6:.2f} µs per call")

    messy = [f" {c[:2]} {c[2:]} ville " for c in inputs[:10_000]]
    print(f"lookup(' 93 200 ville ' style text): median "
          f"{statistics.median(per_call_ns(directory, messy)) / 1000:.2f} µs")

    current, peak = table_memory()
    print(f"memory held by the loaded tables: {current / 2**20:.1f} MiB "
          f"(peak during load {peak / 2**20:.1f} MiB, tracemalloc)")


if __name__ == "__main__":
    main()
