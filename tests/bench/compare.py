#!/usr/bin/env python3
"""make bench-compare: two make bench runs side by side.

    tests/bench/compare.py [A.jsonl B.jsonl]   (default: the last two in bench/results)

Each file holds one JSON object per figure and system (tests/bench/bench.sh);
prints every figure present in either, A's median, B's, and B/A."""
import glob
import json
import os
import sys


def load(path):
    with open(path) as f:
        return {(r["figure"], r["system"]): r for r in map(json.loads, filter(str.strip, f))}


def main(argv):
    if len(argv) == 2:
        a, b = argv
    elif not argv:
        root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "results"))
        runs = sorted(glob.glob(os.path.join(root, "*.jsonl")))
        if len(runs) < 2:
            sys.exit("bench-compare: fewer than two runs in bench/results (make bench)")
        a, b = runs[-2:]
    else:
        sys.exit("usage: compare.py [A.jsonl B.jsonl]")
    ra, rb = load(a), load(b)
    print("A: %s\nB: %s" % (a, b))
    print("%-38s %-10s %14s %14s %7s" % ("figure", "system", "A", "B", "B/A"))
    for key in sorted(set(ra) | set(rb)):
        va, vb = (r[key]["median"] if key in r else None for r in (ra, rb))
        ratio = "%.2f" % (vb / va) if va and vb is not None else "-"
        unit = (rb.get(key) or ra.get(key))["unit"]
        print("%-38s %-10s %14s %14s %7s  %s" % (key[0], key[1], "-" if va is None else va,
                                                 "-" if vb is None else vb, ratio, unit))


if __name__ == "__main__":
    main(sys.argv[1:])
