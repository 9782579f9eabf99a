#!/usr/bin/env bash
# wsbridge-replay keeps the recorded pace: --speed 1 and 10 against the
# schedule, --speed 0, --rate, --max-gap. Arrival times are taken by a
# Python reader on the monotonic clock. What the tool controls is asserted,
# not how fast the scheduler wakes it: no line is written before its
# deadline (measured from before the process was started, so this holds on
# any machine), and the last line arrives within a fixed allowance after its
# deadline (pacing that ignores --speed, --rate or --max-gap misses by far
# more). The per-line error is printed for humans, not enforced: on a busy
# 2-core machine it reached 5 ms while the tool was right.
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
    """Runs replay with args; returns (arrival time in ms of each line after
    the moment just before the process was started, rc)."""
    spawn = time.monotonic()
    p = subprocess.Popen([replay] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fd = p.stdout.fileno()
    t, deadline = [], spawn + limit
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
    return [(x - spawn) * 1000 for x in t], rc

LATE_MS = 1000	# start-up plus wake-up delays a loaded machine may add, once

def paced(name, args, expect):
    got, rc = arrivals(args)
    if rc != 0 or len(got) != len(expect):
        check(name, False, "rc %s, %d lines of %d" % (rc, len(got), len(expect)))
        return
    # The first line goes out at once and starts the schedule; the others
    # are due that far after it, so never before spawn + expect[i].
    early = [(i, e - g) for i, (g, e) in enumerate(zip(got, expect)) if g < e]
    rel = [g - got[0] for g in got]
    err = [abs(r - e) for r, e in zip(rel, expect)]
    print("  %s: mean error %.2f ms, max %.2f ms, last line at %.1f ms (due %.1f ms after the first)"
          % (name, sum(err) / len(err), max(err), got[-1], expect[-1]))
    check(name + ": no line before its deadline", not early,
          "line %d was %.1f ms early" % early[0] if early else "")
    check(name + ": last line within %d ms of its deadline" % LATE_MS,
          got[-1] - expect[-1] < LATE_MS, "last line %.1f ms after start, due at %.1f ms" % (got[-1], expect[-1]))

# Each schedule spans about 2 s, so pacing off by a factor of 2 either way
# is caught: too fast by the deadlines, too slow by the allowance.
rec = recording("50ms.ndjson", [50 * i for i in range(40)])
paced("--speed 1", [rec], [50.0 * i for i in range(40)])
rec = recording("200ms.ndjson", [200 * i for i in range(100)])
paced("--speed 10", ["--speed", "10", rec], [20.0 * i for i in range(100)])
rec = recording("1s.ndjson", [1000 * i for i in range(200)])
paced("--rate 100", ["--rate", "100", rec], [10.0 * i for i in range(200)])

# An hour-long recording at --speed 0 is just a copy.
big = recording("long.ndjson", [360 * i for i in range(10000)])
got, rc = arrivals(["--speed", "0", big], limit=30)
secs = got[-1] / 1000 if got else 99
check("--speed 0 replays 10000 lines spanning an hour", rc == 0 and len(got) == 10000, "rc %s, %d lines" % (rc, len(got)))
check("--speed 0 does not wait", secs < 5, "took %.1f s" % secs)

# 5 s gaps capped to 0.4 s: due at 0, 100, 500, 900, 1300, 1700 ms.
gap = recording("gap.ndjson", [0, 100, 5100, 10100, 15100, 20100])
paced("--max-gap 0.4", ["--max-gap", "0.4", gap], [0.0, 100.0, 500.0, 900.0, 1300.0, 1700.0])
EOF
finish
