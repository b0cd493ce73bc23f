"""Group commit: one thread owns the audit connection and commits whatever has queued meanwhile.

A request hands its :class:`~thresher.service.decide.AuditBatch` to :meth:`AuditWriter.write` and
awaits it; the thread takes every batch waiting (up to ``max_group_rows``), writes them in one
transaction, commits (one fsync), then wakes every waiting request with a single
``call_soon_threadsafe``. No timer: a lone request is committed at once, and under load the group
grows by itself while the previous commit runs. Only after the commit does a request answer 200,
so a decision the client saw is always in the log. A failed group is retried batch by batch, so a
bad batch fails its own request (5xx), not its neighbours.

A store whose commit waits for neither a disk nor a network (``quick_commit``: SQLite with
``synchronous=normal``) lets a small request skip the thread: when the writer is idle and nothing is
queued, the request commits on the event loop's own thread while holding the writer's lock, which
saves the two thread wake-ups (to the writer and back to the loop) that otherwise dominate a
single decision's latency. The first small request of a turn of the loop commits at once; the
ones after it in the same turn (concurrent clients) wait for the end of the turn and commit
together, a group commit without the thread. A commit that waits for an fsync never runs on the
loop: it would stall it, and every request behind it would then commit alone. Such a store
also leaves its checkpoints (``checkpoint_due`` / ``checkpoint()``: copying the SQLite WAL back into
the database, with an fsync, a few milliseconds every few hundred commits) to this thread, where
most of the work runs on a second connection while requests still commit on the loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque

from thresher.service.audit.store import AuditBusy, AuditError, AuditLocked


CHECKPOINT = ("checkpoint",)  # a queue item: run the store's checkpoint
QUEUE = AuditBusy("queued for the writer thread")  # an inline commit's outcome: the log was locked, not written
INLINE_MAX_ROWS = 64  # larger requests keep the thread: their insert runs beside the loop, GIL released


class AuditWriter:
    def __init__(self, store, *, max_group_rows: int = 100_000, max_backlog_rows: int = 2_000_000, metrics=None):
        self.store = store
        self.inline = bool(getattr(store, "quick_commit", False))
        self.max_group_rows = max_group_rows
        self.max_backlog_rows = max_backlog_rows
        self.metrics = metrics
        self.backlog_rows = 0
        self.last_error: str | None = None
        self._pending: deque = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._idle = False  # the thread waits for work (a new item must wake it)
        self._using_store = False  # the thread is committing or calling: the store is taken
        self._turn_started = False  # a small request committed in this turn of the event loop
        self._gathered: list = []  # the small requests after it in the same turn, committed when it ends
        self._thread = threading.Thread(target=self._run, name="thresher-audit-writer", daemon=True)
        self._thread.start()

    # called from the event loop -----------------------------------------------------------------
    async def write(self, batch, timeout: float = 30.0) -> None:
        """Return once ``batch`` is committed; raise :class:`AuditError` if it could not be, or not
        within ``timeout`` seconds (it may still be committed later: the log can hold a decision the
        client never saw, never the reverse)."""
        loop = asyncio.get_running_loop()
        if self.inline and batch.count <= INLINE_MAX_ROWS:
            if not self._turn_started:  # the first small request of this turn of the loop: commit it now
                self._turn_started = True
                loop.call_soon(self._end_turn, timeout)
                if self._commit_inline(batch):
                    return
            else:  # more of them in the same turn: they commit together when the turn ends
                future = loop.create_future()
                self._gathered.append((batch, loop, future))
                await future
                return
        future = loop.create_future()
        self._enqueue([(batch, loop, future)])
        timer = loop.call_later(timeout, _expire, future, timeout)  # lighter than asyncio.wait_for's task
        try:
            await future
        finally:
            timer.cancel()

    def _enqueue(self, items, *, check: bool = True) -> None:
        rows = sum(item[0].count for item in items)
        with self._cond:
            if self._closing:
                raise AuditError("The audit writer is shutting down; the decision was not recorded. Retry.")
            if check and self.backlog_rows + rows > self.max_backlog_rows and self.backlog_rows:
                raise AuditError(f"The audit log is {self.backlog_rows:,} decisions behind (limit "
                                 f"{self.max_backlog_rows:,}); the decision was not recorded. Retry later.")
            self._pending.extend(items)
            self.backlog_rows += rows
            if self._idle:  # a busy writer looks at the queue again after its commit: no wake-up needed
                self._cond.notify()

    def _commit_inline(self, batch) -> bool:
        """Commit ``batch`` on this thread if the writer thread is idle with nothing queued and no other
        writer holds the log (False otherwise: the caller queues it for the thread, which may wait).
        Holding the condition's lock keeps the thread waiting, so the store has one user."""
        with self._cond:
            if self._using_store or self._pending or self._closing:
                return False
            (_, error), = self._commit([(batch, None, None)], wait=False)
            if self._checkpoint_due():
                self._cond.notify()  # the thread checkpoints, off the loop
        if error is QUEUE:
            return False
        if error is not None:
            raise error
        return True

    def _end_turn(self, timeout: float) -> None:
        """After the turn of the loop: commit the small requests gathered in it in one transaction,
        here if the writer thread is idle with nothing queued, else queued for the thread."""
        self._turn_started = False
        if not self._gathered:
            return
        group, self._gathered = self._gathered, []
        with self._cond:
            inline = not (self._using_store or self._pending or self._closing)
            if inline:
                settled = self._commit(group, wait=False)
                if self._checkpoint_due():
                    self._cond.notify()  # the thread checkpoints, off the loop
        if inline:
            _settle([(future, outcome) for (_, _, future), outcome in zip(group, settled)
                     if outcome[1] is not QUEUE])
            group = [item for item, outcome in zip(group, settled) if outcome[1] is QUEUE]  # another writer
            if not group:                                                                 # held the lock
                return
        try:
            self._enqueue(group, check=False)  # a few small requests: never refused for the backlog
        except AuditError as exc:
            _settle([(future, (None, exc)) for _, _, future in group])
            return
        for _, loop, future in group:
            future.add_done_callback(_cancel_on_done(loop.call_later(timeout, _expire, future, timeout)))

    def _checkpoint_due(self) -> bool:
        return self.inline and getattr(self.store, "checkpoint_due", False)

    async def call(self, fn):
        """Run ``fn(store)`` on the writer thread (so one connection serves everything); its result."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._cond:
            if self._closing:
                raise AuditError("The audit writer is shutting down; nothing was done. Retry.")
            self._pending.append((fn, loop, future))
            self._cond.notify()
        return await future

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, stop the thread, close the store."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        if not self._thread.is_alive():  # else it still holds the store: closing it under it could lose work
            self.store.close()

    # the writer thread --------------------------------------------------------------------------
    def _take(self) -> list:
        with self._cond:
            while not self._pending and not self._closing and not self._checkpoint_due():
                self._idle = True
                self._cond.wait()
                self._idle = False
            if self._checkpoint_due():  # before the queue: under steady load the queue is never empty
                return [CHECKPOINT]
            if not self._pending:
                return []
            self._using_store = True
            first = self._pending.popleft()
            if callable(first[0]):
                return [first]
            group, rows = [first], first[0].count
            while self._pending and not callable(self._pending[0][0]) and rows < self.max_group_rows:
                item = self._pending.popleft()
                group.append(item)
                rows += item[0].count
            return group

    def _run(self) -> None:
        while True:
            group = self._take()
            if not group:
                return
            if group[0] is CHECKPOINT:
                self._checkpoint()
                continue
            if callable(group[0][0]):
                fn, loop, future = group[0]
                try:
                    outcome = (fn(self.store), None)
                except Exception as exc:  # handed to the awaiting coroutine
                    outcome = (None, exc)
                with self._cond:
                    self._using_store = False
                _wake(loop, [(future, outcome)])
                continue
            settled = self._commit(group)
            with self._cond:
                self._using_store = False
                self.backlog_rows -= sum(item[0].count for item in group)
            by_loop: dict = {}
            for (_, loop, future), outcome in zip(group, settled):
                by_loop.setdefault(loop, []).append((future, outcome))
            for loop, items in by_loop.items():
                _wake(loop, items)

    def _checkpoint(self) -> None:
        """Passes that get shorter. The long one (flush the WAL, copy it into the database, flush that) on
        the store's second connection, while commits go on beside it, and again for what they added;
        then, with the store taken, a short one for the rest, so that the next commit starts the WAL
        over instead of growing it."""
        try:
            self.store.checkpoint(beside=True)
            self.store.checkpoint(beside=True)
            with self._cond:
                self._using_store = True
            try:
                self.store.checkpoint()
            finally:
                with self._cond:
                    self._using_store = False
        except Exception as exc:  # the log stays correct, only its WAL file grows; the next one retries
            self.last_error = f"Checkpointing the audit log failed: {exc}"

    def _commit(self, group, *, wait: bool = True) -> list:
        """``(result, error)`` per item. ``wait=False`` (inline, on the loop): a log locked by another
        writer gives every item the error :data:`QUEUE`: not written, to be queued for the thread."""
        batches = [item[0] for item in group]
        start = time.perf_counter()
        try:
            if wait:
                self.store.write(batches)
            else:
                self.store.write(batches, wait=False)
        except AuditBusy:
            return [(None, QUEUE)] * len(batches)
        except Exception as exc:
            error = exc if isinstance(exc, AuditError) else AuditError(f"Writing the audit log failed: {exc}.")
            self.last_error = str(error)
            # a lock held past the busy timeout is no batch's fault: retrying one by one would wait n times over
            if len(batches) == 1 or isinstance(exc, AuditLocked):
                if self.metrics:
                    self.metrics.audit_failed(sum(b.count for b in batches))
                return [(None, error)] * len(batches)
            return [self._commit([item], wait=wait)[0] for item in group]  # isolate the failing batch
        # committed: nothing below may send the batches back for another write
        self.last_error = None
        if self.metrics:
            self.metrics.audit_committed(len(batches), sum(b.count for b in batches), time.perf_counter() - start)
        return [(None, None)] * len(batches)


def _wake(loop, items) -> None:
    try:
        loop.call_soon_threadsafe(_settle, items)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass


def _cancel_on_done(timer):
    return lambda _future: timer.cancel()


def _expire(future, timeout: float) -> None:
    if not future.done():
        future.set_exception(AuditError(f"The audit log did not commit within {timeout:g}s."))


def _settle(items) -> None:
    for future, (result, error) in items:
        if future.done():  # the request was cancelled (client gone)
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
