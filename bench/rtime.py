#!/usr/bin/env python3
"""Fallback for `/usr/bin/time -o FILE -f '%e %U %S %M' CMD...` when GNU time is missing.

    rtime.py FILE CMD [ARG...]

Runs CMD (stdin/stdout/stderr inherited), then appends to FILE one line
"wall user sys maxrss_kb" (seconds, seconds, seconds, KiB), like GNU time's format above.
Exit status: CMD's, or 128+N if CMD was killed by signal N (as GNU time does).
CPU and peak RSS come from resource.getrusage(RUSAGE_CHILDREN), which covers CMD and every
descendant it waited for; ru_maxrss is the largest single process, not a sum. The forked
child counts as a copy of this Python process until it execs, so peak RSS has a floor of ~15 MB.
"""
import os
import resource
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, cmd = sys.argv[1], sys.argv[2:]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    try:
        status = subprocess.call(cmd)
    except OSError as e:
        print("rtime.py: cannot run %s: %s" % (cmd[0], e), file=sys.stderr)
        status = 127
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    sys_ = after.ru_stime - before.ru_stime
    with open(out, "w") as f:
        if status < 0:
            f.write("Command terminated by signal %d\n" % -status)
        elif status > 0:
            f.write("Command exited with non-zero status %d\n" % status)
        f.write("%.2f %.2f %.2f %d\n" % (wall, user, sys_, after.ru_maxrss))
    sys.exit(128 - status if status < 0 else status)


if __name__ == "__main__":
    main()
