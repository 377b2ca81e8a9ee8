"""Worker threads that feed the same blocks to groups of hash streams, in parallel.

Each ``StreamWorker`` owns a group of streams and processes blocks strictly in the order
they were submitted; it releases a semaphore after each, so the reader knows when a buffer
is free again. The thread lives for one file (the cost is ~0.1 ms, the file takes seconds).
"""

import queue
import threading


class StreamWorker:
    """One thread feeding every block it is given to its streams, in order."""

    def __init__(self, streams: list, name: str = "hash-worker") -> None:
        self.streams = streams
        self.error: BaseException | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._done = threading.Semaphore(0)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                if self.error is None:
                    view, offset = item
                    for stream in self.streams:
                        stream.update(view, offset)
            except BaseException as exc:  # noqa: BLE001 - handed to the reader thread
                self.error = exc
            finally:
                item = view = None  # drop the buffer export before signalling
                self._done.release()

    def submit(self, view, offset: int) -> None:
        self._queue.put((view, offset))

    def wait_one(self) -> None:
        """Block until the oldest block not yet waited for has been processed."""
        self._done.acquire()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()


class WorkerPool:
    """Stream groups run by threads; ``feed`` hands a block to every group.

    ``depth`` blocks may be in flight: ``feed`` returns at once and ``wait_for(n)`` blocks
    until at most ``n`` blocks are still being hashed (0: all done).
    """

    def __init__(self, groups: list[list], inline: bool = False) -> None:
        self._inline = groups[0] if inline else []
        threaded = groups[1:] if inline else groups
        self._workers = [StreamWorker(g, f"hash-worker-{i}") for i, g in enumerate(threaded)]
        self._in_flight = 0

    def feed(self, view, offset: int) -> None:
        for worker in self._workers:
            worker.submit(view, offset)
        self._in_flight += 1
        for stream in self._inline:
            stream.update(view, offset)

    def wait_for(self, at_most: int) -> None:
        while self._in_flight > at_most:
            for worker in self._workers:
                worker.wait_one()
            self._in_flight -= 1
        for worker in self._workers:
            if worker.error is not None:
                raise worker.error

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()

    def results(self) -> dict:
        merged: dict = {}
        for stream in self._inline + [s for w in self._workers for s in w.streams]:
            merged.update(stream.results())
        return merged
