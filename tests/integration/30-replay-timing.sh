#!/usr/bin/env bash
# wsbridge-replay keeps the recorded pace: inter-arrival times at --speed 1
# and 10 against the schedule, --speed 0, --rate, --max-gap. Arrival times
# are taken by a Python reader on the monotonic clock; tolerances are loose
# enough for a loaded CI machine (the 2 ms idle target is reported, not
# enforced).
. "$(dirname "$0")/../lib.sh"

pyrun 120 - "$WSB_BIN/wsbridge-replay" "$T" <<'EOF'
import datetime, os, subprocess, sys, time

replay, tmp = sys.argv[1], sys.argv[2]
T0 = datetime.datetime(2026, 11, 22, 3, 0, 0, tzinfo=datetime.timezone.utc)

def check(name, ok, why=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else " — " + why))

def iso(ms):
    t = T0 + datetime.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)

def recording(name, offsets):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        for i, ms in enumerate(offsets):
            f.write('{"type":"tick","data":{"i":%d},"timestamp":"%s","seq":%d}\n' % (i, iso(ms), i + 1))
    return path

def arrivals(args, limit=60):
    """Runs replay with args; returns (arrival time in ms of each line relative to the first, rc)."""
    p = subprocess.Popen([replay] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fd = p.stdout.fileno()
    t, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        now = time.monotonic()
        t += [now] * chunk.count(b"\n")
    try:
        rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "timeout"
    return [(x - t[0]) * 1000 for x in t] if t else [], rc

def paced(name, args, expect, mean_tol, total_frac):
    got, rc = arrivals(args)
    if rc != 0 or len(got) != len(expect):
        check(name, False, "rc %s, %d lines of %d" % (rc, len(got), len(expect)))
        return
    err = [abs(g - e) for g, e in zip(got, expect)]
    mean, worst = sum(err) / len(err), max(err)
    total, want = got[-1], expect[-1]
    print("  %s: mean error %.2f ms, max %.2f ms, total %.1f ms (schedule %.1f ms)" % (name, mean, worst, total, want))
    check(name + ": mean error < %g ms" % mean_tol, mean < mean_tol, "mean %.2f ms" % mean)
    check(name + ": total duration within %d%%" % (total_frac * 100),
          abs(total - want) <= want * total_frac, "total %.1f ms, schedule %.1f ms" % (total, want))

rec = recording("50ms.ndjson", [50 * i for i in range(40)])
paced("--speed 1", [rec], [50.0 * i for i in range(40)], 5, 0.10)
paced("--speed 10", ["--speed", "10", rec], [5.0 * i for i in range(40)], 5, 0.10)
paced("--rate 100", ["--rate", "100", rec], [10.0 * i for i in range(40)], 5, 0.10)

# An hour-long recording at --speed 0 is just a copy.
big = recording("long.ndjson", [360 * i for i in range(10000)])
start = time.monotonic()
got, rc = arrivals(["--speed", "0", big], limit=30)
secs = time.monotonic() - start
check("--speed 0 replays 10000 lines spanning an hour", rc == 0 and len(got) == 10000, "rc %s, %d lines" % (rc, len(got)))
check("--speed 0 does not wait", secs < 5, "took %.1f s" % secs)

# A 5 s gap capped to 200 ms: schedule 0, 100, 300, 400 ms.
gap = recording("gap.ndjson", [0, 100, 5100, 5200])
paced("--max-gap 0.2", ["--max-gap", "0.2", gap], [0.0, 100.0, 300.0, 400.0], 5, 0.10)
EOF
finish
