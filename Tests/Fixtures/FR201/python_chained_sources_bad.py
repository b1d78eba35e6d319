"""Foreign frames reached through a method called on the source and through typing.cast."""
import sys
import threading
import typing
from types import FrameType
from typing import List, Tuple, cast


def all_stacks():
    out = {}
    for tid, top in sys._current_frames().items():      # expect: FR201 {{`all_stacks` walks other threads' frames from sys._current_frames()}}
        names = []
        f = top
        while f is not None:
            names.append(f.f_code.co_name)               # expect-note: thread A {{reads `f.f_code`}}
            f = f.f_back
        out[tid] = names
    return out


def line_of(tid):
    frame = sys._current_frames().get(tid)               # expect: FR201 {{`line_of` walks other threads' frames}}
    return frame.f_lineno if frame is not None else 0


def tops() -> List[Tuple[FrameType, int]]:
    cur = sys._current_frames()                          # expect: FR201 {{`tops` walks other threads' frames}}
    pairs: List[Tuple[FrameType, int]] = [
        (cast(FrameType, cur.get(t.ident)), cast(int, t.ident))
        for t in threading.enumerate()
    ]
    lines = []
    for frame, ident in pairs:
        while frame is not None:
            lines.append((ident, frame.f_lineno))
            frame = typing.cast(FrameType, frame.f_back)
    return lines


def loop():
    while True:
        all_stacks()
        line_of(0)
        tops()


def start():
    threading.Thread(target=loop, daemon=True).start()


def thread_ids():
    # quiet: only the keys
    return sorted(sys._current_frames().keys())
