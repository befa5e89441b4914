"""Time ``presslens evaluate --report`` end to end, as a user runs it.

    python bench/report_time.py [--out DIR] [--model DIR] [--datasets DIR] [--no-cache]

Prints the wall time of the whole command (interpreter start, model load, embedding,
baseline, bootstrap, plots, HTML), its CPU time, and the machine's load average, since on a
shared machine wall time says as much about the neighbours as about the report.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESSLENS = Path(sys.executable).with_name("presslens")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "training/data/test.csv")
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--datasets", type=Path, default=None, help="proxy datasets folder")
    parser.add_argument("--no-cache", action="store_true", help="embed everything afresh")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="presslens-report-"))
    command = [str(PRESSLENS), "evaluate", "--data", str(args.data), "--report", str(out)]
    command += ["--model", str(args.model)] if args.model else []
    command += ["--datasets", str(args.datasets)] if args.datasets else []
    command += ["--no-cache"] if args.no_cache else []
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
        return done.returncode
    print(f"report:          {out / 'report.html'}")
    print(f"wall_s:          {wall:.1f}")
    print(f"cpu_s:           {usage.ru_utime + usage.ru_stime:.1f}")
    print(f"max_rss_mb:      {usage.ru_maxrss / 1024:.0f}")
    print(f"feature_cache:   {'off' if args.no_cache else 'on'}")
    print(f"proxies:         {args.datasets or 'default folder'}")
    print(f"cpus:            {os.cpu_count()}")
    print(f"load_avg_1m:     {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
