"""Shared pieces of the browser tests that are not the browser (that is pytest-playwright's, set
up in conftest.py): a free loopback port, and a server process that is always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(cmd: list[str], probe: str, name: str, timeout: float = 90) -> Iterator[None]:
    """Run ``cmd`` until ``probe`` answers; stop it (its whole process group) even on failure."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(probe, timeout=5)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail(f"{name} did not start within {timeout:g} s")
                time.sleep(0.5)
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
