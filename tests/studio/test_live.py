"""The takes' runner: each take starts once the one before has rendered its frames, at most two at once, and
the takes come out in order; segments are handed out once each, as they close."""
import threading
import time

import pytest

from pipelines.studio.live import Segments, run_beside, run_overlapped


def test_takes_overlap_by_their_tails_and_come_out_in_order():
    log, lock = [], threading.Lock()
    running = [0]

    def job(k, tail):
        def run(rendered):
            with lock:
                running[0] += 1
                log.append(("start", k, running[0]))
            time.sleep(0.05)
            rendered.set()  # frames done; the tail (encoder, files) follows
            time.sleep(tail)
            with lock:
                running[0] -= 1
            return k
        return run

    out = []
    # take 1 has a long tail: take 2 starts and finishes inside it, yet comes out third; take 0 (watched) ran alone
    assert run_overlapped([job(0, 0.2), job(1, 0.4), job(2, 0.0)], out.append, lambda: False) == 3
    assert out == [0, 1, 2]
    assert log == [("start", 0, 1), ("start", 1, 1), ("start", 2, 2)]


def test_a_finished_take_comes_out_while_the_next_one_still_renders():
    times = {}

    def quick(rendered):
        rendered.set()
        time.sleep(0.05)
        return "quick"

    def slow(rendered):
        time.sleep(0.6)
        times["second rendered"] = time.perf_counter()
        rendered.set()
        return "second"

    out = []
    run_overlapped([quick, quick, slow], lambda x: (out.append(x), times.setdefault(x, time.perf_counter())),
                   lambda: False)
    assert out == ["quick", "quick", "second"] and times["quick"] < times["second rendered"] - 0.3


def test_no_take_starts_once_stopped_and_errors_reach_the_caller():
    stop = threading.Event()

    def first(rendered):
        stop.set()
        return "made"

    out = []
    assert run_overlapped([first, first], out.append, stop.is_set) == 1 and out == ["made"]

    def broken(rendered):
        raise ValueError("the renderer failed")

    with pytest.raises(ValueError, match="the renderer failed"):
        list(run_beside(lambda emit: run_overlapped([broken], emit, lambda: False)))


def test_segments_are_read_as_each_line_is_complete(tmp_path):
    listing = tmp_path / "segments.csv"
    watcher = Segments(tmp_path)
    assert watcher.new() == []
    listing.write_text("seg00000.ts,0.000000,0.500000\nseg00001.ts,0.500000,1.0")  # the second is half-written
    first = watcher.new()
    assert [(s.path.name, s.seconds, s.index) for s in first] == [("seg00000.ts", 0.5, 0)]
    listing.write_text("seg00000.ts,0.000000,0.500000\nseg00001.ts,0.500000,1.000000\n")
    assert [(s.path.name, s.index) for s in watcher.new()] == [("seg00001.ts", 1)] and watcher.new() == []
