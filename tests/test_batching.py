"""The Batcher: items of many threads served in batches, each caller getting its own answer."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from groundlink.errors import GroundlinkError, InvalidInput
from groundlink.services.batching import Batcher


def test_each_caller_gets_its_own_answer_from_many_threads() -> None:
    sizes: list[int] = []

    def square(batch: Sequence[int]) -> list[int | GroundlinkError]:
        sizes.append(len(batch))
        return [n * n for n in batch]

    batcher: Batcher[int, int] = Batcher(square, name="test-squares", max_batch=8)
    answers: dict[int, int] = {}

    def ask(n: int) -> None:
        answers[n] = batcher.submit(n).result(timeout=10)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batcher.close()
    assert answers == {n: n * n for n in range(200)}
    assert sum(sizes) == 200 and max(sizes) <= 8


def test_what_arrives_while_a_batch_is_served_is_the_next_batch() -> None:
    first_started, release = threading.Event(), threading.Event()
    batches: list[list[str]] = []

    def serve(batch: Sequence[str]) -> list[str | GroundlinkError]:
        batches.append(list(batch))
        if len(batches) == 1:
            first_started.set()
            assert release.wait(10)
        return [item.upper() for item in batch]

    batcher: Batcher[str, str] = Batcher(serve, name="test-gather", max_batch=3)
    first = batcher.submit("a")
    assert first_started.wait(10)
    later = [batcher.submit(item) for item in "bcdef"]
    release.set()
    assert [f.result(timeout=10) for f in [first, *later]] == list("ABCDEF")
    batcher.close()
    assert batches == [["a"], ["b", "c", "d"], ["e", "f"]]


def test_a_refusal_reaches_only_its_caller_and_a_failure_reaches_the_whole_batch() -> None:
    def serve(batch: Sequence[int]) -> list[int | GroundlinkError]:
        if 13 in batch:
            raise ConnectionError("the database went away")
        return [InvalidInput("n", n, "an even number") if n % 2 else n for n in batch]

    batcher: Batcher[int, int] = Batcher(serve, name="test-errors")
    assert batcher.submit(4).result(timeout=10) == 4
    with pytest.raises(InvalidInput, match=r"^n: got .3."):
        batcher.submit(3).result(timeout=10)
    with pytest.raises(ConnectionError):
        batcher.submit(13).result(timeout=10)
    # The thread survives both and serves on.
    assert batcher.submit(6).result(timeout=10) == 6
    batcher.close()


def test_close_serves_what_is_queued_and_a_later_item_starts_a_new_thread() -> None:
    gate = threading.Event()

    def serve(batch: Sequence[int]) -> list[int | GroundlinkError]:
        assert gate.wait(10)
        return [n + 1 for n in batch]

    batcher: Batcher[int, int] = Batcher(serve, name="test-close")
    queued = [batcher.submit(n) for n in range(5)]
    closing = threading.Thread(target=batcher.close)
    closing.start()
    gate.set()
    closing.join(10)
    assert not closing.is_alive()
    assert [f.result(timeout=0) for f in queued] == [1, 2, 3, 4, 5]
    assert batcher.submit(41).result(timeout=10) == 42
    batcher.close()
