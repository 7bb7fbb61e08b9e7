"""How far a long pass over rows has got, told to a plain callback a chunk at a time (transforms show nothing).

A transform given `told` calls it as `told(step, done, total)` every EVERY rows and once at the end of the pass;
`step` names the pass ("read": cells into the table's rows, "harmonise": rows into harmonised lines) and `total`
is what the pass will count when known. Without `told` (off a terminal) the rows are not even counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Told = Callable[[str, int, int | None], None]
T = TypeVar("T")
EVERY = 1000  # a call a thousand rows: nothing next to the rows' own cost, and several a second on a big file


def counted(items: Iterable[T], told: Told | None, step: str, total: int | None, every: int = EVERY) -> Iterator[T]:
    """The items, unchanged, telling `told` how many have gone by: every `every` items and at the end.

    >>> seen = []
    >>> list(counted("abcde", lambda *a: seen.append(a), "read", 5, every=2))
    ['a', 'b', 'c', 'd', 'e']
    >>> seen
    [('read', 0, 5), ('read', 2, 5), ('read', 4, 5), ('read', 5, 5)]
    """
    if told is None:
        yield from items
        return
    told(step, 0, total)
    done = 0
    for item in items:
        yield item
        done += 1
        if done % every == 0:
            told(step, done, total)
    if done % every:
        told(step, done, total)
