"""`python -m freerace ARGS` runs the installed freerace program with ARGS."""
import os
import sys

from freerace import find_freerace_bin


def main() -> None:
    binary = find_freerace_bin()
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    main()
