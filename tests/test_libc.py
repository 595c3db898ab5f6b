"""hcrisis.libc: glibc's functions by their soname, without running ldconfig."""

from __future__ import annotations

import ctypes.util
import sys

import pytest

from hcrisis import libc


@pytest.fixture
def fresh_library():
    libc._library.cache_clear()
    yield
    libc._library.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's soname")
def test_the_soname_is_tried_before_find_library(fresh_library, monkeypatch):
    def no_ldconfig(name):
        raise AssertionError("find_library ran ldconfig")
    monkeypatch.setattr(ctypes.util, "find_library", no_ldconfig)
    assert libc.call("getpid") > 0


def test_without_a_c_library_each_call_does_nothing(fresh_library, monkeypatch):
    monkeypatch.setattr(libc, "_names", lambda: iter(["no-such-libc.so.0", None]))
    assert libc.call("getpid") is None
    libc.reuse_freed_memory()   # and the allocator's tuning is skipped, not an error
