"""Numba thread fixtures for the metric and kernel tests (each test module imports them).

The kernels split work into ``min(threads, n // 65536)`` chunks, so every input below 131 072
rows runs as one chunk whatever the thread count. On small machines the OpenMP wake-up of idle
workers costs several milliseconds per kernel call, which dominates thousands of tiny reference
cases, so those tests run on one thread; the tests of the multi-chunk path ask for every thread
with ``all_threads``.
"""

from __future__ import annotations

import numba
import pytest


@pytest.fixture(autouse=True)
def one_numba_thread():
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


@pytest.fixture
def all_threads(one_numba_thread):
    """Every numba thread for this test (the multi-chunk kernel path); yields the thread count."""
    previous = numba.get_num_threads()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    try:
        yield numba.config.NUMBA_NUM_THREADS
    finally:
        numba.set_num_threads(previous)
