"""Process memory for long loops over pages: large buffers go back to the system when they are freed."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BUFFER = 512 * 1024


@functools.cache
def return_large_buffers(threshold: int = LARGE_BUFFER) -> bool:
    """Have glibc map each buffer over `threshold` on its own, so that freeing it gives the memory back.

    By default glibc raises that threshold to the size of the largest buffer freed so far (up to 32 MB), so a
    page of KoBo JSON (~6 MB) read again and again ends up in the heap, which keeps its high-water mark: the
    run's memory then grew with the number of pages (measured: +1 MB a page). True when the setting was made;
    elsewhere (another C library) nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):  # no C library found, or one without mallopt (musl)
        return False
