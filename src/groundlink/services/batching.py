"""Batching: requests asked at the same time are served by one database round.

Alone, a reservation costs seven statements and a commit (a flush of the
database's log to disk), and an API key check a statement; on a small server
that per-request cost is most of the work. A :class:`Batcher` takes the
requests of any number of threads or coroutines, and one thread of its own
serves whatever has gathered while the previous batch was being served, with
one call of a function that takes the whole batch:

* :func:`reservation_batcher`: group commit of reservations, with
  :func:`~groundlink.services.booking.reserve_contacts`, which gives the same
  answers as the reservations one after another, in arrival order, for the
  statements and the commit of one (``bench/booking.py``: about a seventh of
  the CPU per reservation in batches of 16);
* the API's key check (:mod:`groundlink.api.auth`): one ``IN`` query for
  every key that arrived meanwhile.

When requests come one at a time, a batch is that one request, served with
no added wait. Several server processes each have their own batchers; their
batches are kept apart by the same row locks and constraints as single
requests.

Hand-written because it is a small loop over the standard library's
:class:`queue.SimpleQueue` and :class:`concurrent.futures.Future`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from groundlink.adapters.db.models import Contact
from groundlink.errors import GroundlinkError
from groundlink.services.booking import DEFAULT_LOCK_S, Reservation, reserve_contacts

#: Most requests served in one batch.
MAX_BATCH = 64

_In = TypeVar("_In")
_Out = TypeVar("_Out")


@dataclass(frozen=True)
class _Ask(Generic[_In, _Out]):
    item: _In
    answer: Future[_Out] = field(default_factory=Future)


class Batcher(Generic[_In, _Out]):
    """Serves items handed in by any number of threads in batches, on one thread of its own.

    ``serve`` takes a batch and returns one answer per item, in order: a
    value, or a :class:`~groundlink.errors.GroundlinkError` that refuses that
    item alone. If ``serve`` raises, every item of the batch gets that error.
    The thread starts with the first item and :meth:`close` stops it.
    """

    def __init__(
        self,
        serve: Callable[[Sequence[_In]], Sequence[_Out | GroundlinkError]],
        *,
        name: str,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._serve = serve
        self._name = name
        self._max_batch = max_batch
        self._asks: queue.SimpleQueue[_Ask[_In, _Out] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, item: _In) -> Future[_Out]:
        """Queue ``item``; the future holds its answer, or the error that refused it."""
        ask: _Ask[_In, _Out] = _Ask(item)
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._asks.put(ask)
        return ask.answer

    def close(self) -> None:
        """Serve what is queued, then stop the thread and wait for it.

        An item submitted later starts a new thread.
        """
        with self._start_lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._asks.put(None)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            first = self._asks.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    more = self._asks.get_nowait()
                except queue.Empty:
                    break
                if more is None:  # closing: serve this batch, then stop
                    self._asks.put(None)
                    break
                batch.append(more)
            self._answer(batch)

    def _answer(self, batch: list[_Ask[_In, _Out]]) -> None:
        try:
            answers = self._serve([ask.item for ask in batch])
        except Exception as error:  # the whole batch failed (the database is down...)
            for ask in batch:
                ask.answer.set_exception(error)
            return
        for ask, answer in zip(batch, answers, strict=True):
            if isinstance(answer, GroundlinkError):
                ask.answer.set_exception(answer)
            else:
                ask.answer.set_result(answer)


def reservation_batcher(
    sessions: sessionmaker[Session], *, lock_s: float = DEFAULT_LOCK_S
) -> Batcher[Reservation, Contact]:
    """Group commit: reservations booked in batches, each batch in one transaction."""

    def book(batch: Sequence[Reservation]) -> list[Contact | GroundlinkError]:
        with sessions() as session:
            return reserve_contacts(session, batch, lock_s=lock_s)

    return Batcher(book, name="groundlink-reservations")


__all__ = ["MAX_BATCH", "Batcher", "reservation_batcher"]
