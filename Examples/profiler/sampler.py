"""profiler.sampler: a pure-Python sampling profiler, in a buggy and a fixed form.

StackSampler   (buggy): a background thread (threading.Thread(target=self._loop)) walks every
               other thread's frames from sys._current_frames() through f_back while those
               threads keep running (and, on free-threaded builds, change them). freerace
               reports FR201.
own_stack()    (fixed): walks only the caller's own stack, from sys._getframe().
thread_count() (fine):  uses sys._current_frames() only for the number of threads.
"""
import collections
import sys
import threading


class StackSampler:
    """Counts how often each call stack is seen, every `interval` seconds."""

    def __init__(self, interval=0.01, max_depth=64):
        self.interval = interval
        self.max_depth = max_depth
        self.counts = collections.Counter()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stack-sampler", daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stopped.set()
        self._thread.join()

    def _loop(self):
        while not self._stopped.wait(self.interval):
            self.sample()

    def sample(self):
        me = threading.get_ident()
        frames = sys._current_frames()
        for thread_id, frame in frames.items():
            if thread_id == me:
                continue
            stack = []
            while frame is not None and len(stack) < self.max_depth:
                stack.append(frame.f_code.co_qualname)
                frame = frame.f_back
            self.counts[tuple(stack)] += 1


def own_stack(max_depth=64):
    """The caller's stack as qualified function names, innermost first."""
    frame = sys._getframe(1)
    stack = []
    while frame is not None and len(stack) < max_depth:
        stack.append(frame.f_code.co_qualname)
        frame = frame.f_back
    return stack


def thread_count():
    """How many threads are running."""
    return len(sys._current_frames())
