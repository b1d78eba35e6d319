"""A pure-Python sampling profiler thread that walks other threads' frames."""
import sys
import threading
import time


class Sampler(object):
    def __init__(self, interval):
        self.interval = interval
        self.samples = []
        self._thread = threading.Thread(target=self._run, daemon=True)   # expect-note: thread A {{the walk runs on a separate thread}}

    def start(self):
        self._thread.start()

    def _run(self):
        while True:
            self.sample_once()
            time.sleep(self.interval)

    def sample_once(self):
        frames = sys._current_frames()                  # expect: FR201 {{`Sampler.sample_once` walks other threads' frames from sys._current_frames()}}
        for thread_id, frame in frames.items():
            stack = []
            while frame is not None:
                stack.append(frame.f_code.co_name)      # expect-note: thread A {{reads `frame.f_code`}}
                frame = frame.f_back
            self.samples.append((thread_id, stack))


def thread_count():
    # quiet: only the number of threads
    return len(sys._current_frames())


def own_stack():
    # quiet: the current thread's own frames
    frame = sys._getframe()
    names = []
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return names
