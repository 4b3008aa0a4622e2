"""The bounded, ordered map under every runner, and the local runner's contract."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from marsviz.errors import MarsvizError
from marsviz.runner import LocalRunner, bounded_map


class Recorder:
    """A submit function that records the items it was given; its futures are already done."""

    def __init__(self):
        self.submitted, self.futures = [], []

    def __call__(self, item):
        self.submitted.append(item)
        future = Future()
        future.set_result(item * 10)
        self.futures.append(future)
        return future


def test_results_come_in_input_order_with_at_most_in_flight_submitted_ahead():
    submit = Recorder()
    seen = []
    for item, result in bounded_map(submit, range(10), in_flight=3):
        seen.append((item, result))
        assert len(submit.submitted) <= item + 1 + 3  # never more than 3 ahead of the one yielded
    assert seen == [(i, i * 10) for i in range(10)]


def test_items_are_consumed_lazily():
    submit = Recorder()
    results = bounded_map(submit, iter(range(1000)), in_flight=2)
    next(results)
    assert submit.submitted == [0, 1, 2]


def test_stopping_early_cancels_what_was_not_yielded():
    cancelled = []

    class Pending(Future):
        def result(self, timeout=None):
            return "done"

        def cancel(self):
            cancelled.append(self)
            return True

    results = bounded_map(lambda item: Pending(), range(10), in_flight=4)
    next(results)
    results.close()
    assert len(cancelled) == 4


def test_a_task_error_is_raised_at_its_item():
    def submit(item):
        future = Future()
        if item == 2:
            future.set_exception(ValueError("bad item"))
        else:
            future.set_result(item)
        return future

    got = []
    with pytest.raises(ValueError, match="bad item"):
        for item, _ in bounded_map(submit, range(5), in_flight=1):
            got.append(item)
    assert got == [0, 1]


def test_one_local_worker_runs_in_this_process():
    in_this_thread = [item for item, thread in LocalRunner(1).map(lambda _: threading.get_ident(), range(3))
                      if thread == threading.get_ident()]
    assert in_this_thread == [0, 1, 2]


def _square(n: int) -> int:
    return n * n


def test_a_local_pool_gives_the_inline_results_in_order():
    items = list(range(40))
    assert list(LocalRunner(2).map(_square, items)) == list(LocalRunner(1).map(_square, items))
    assert [item for item, _ in LocalRunner(2).map(_square, items)] == items


def _fail(n: int) -> int:
    raise MarsvizError(f"task {n} refused")


def test_a_task_error_in_a_pool_reaches_the_caller_as_raised():
    with pytest.raises(MarsvizError, match="task 0 refused"):
        list(LocalRunner(2).map(_fail, range(3)))
