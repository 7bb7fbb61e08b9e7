"""kpi's MongoHelper as the loopback KoBo plays it: query safety, matching, sorting, `fields` projection."""

from __future__ import annotations

import bisect
import contextlib
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.kobo_assets import Asset

_WHITELIST = {"$in", "$nin", "$not", "$exists", "$gt", "$gte", "$lt", "$lte", "$regex", "$options", "$all",
              "$elemMatch", "$and", "$or"}
_BOUND_OPERATORS = {"$gt", "$gte", "$lt", "$lte"}


class UnsupportedQuery(Exception):
    """A query MongoDB would refuse; kpi answers it 400 with a generic message."""



def kpi_safe(query: dict) -> dict:
    """kpi's to_safe_dict(reading=True): a scalar `_id` becomes an int; keys it cannot pass are escaped."""
    safe: dict[str, Any] = {}
    for key, value in query.items():
        if isinstance(value, dict):
            value = kpi_safe(value)
        elif isinstance(value, list):
            value = [kpi_safe(v) if isinstance(v, dict) else v for v in value]
        elif key == "_id" and not isinstance(value, bool):
            with contextlib.suppress(TypeError, ValueError):
                value = int(value)
        if key not in _WHITELIST and (key.startswith("$") or "." in key) \
                and not key.startswith("_validation_status."):
            key = "\0escaped:" + key  # kpi base64-escapes it; it can then match no stored key
        safe[key] = value
    return safe


def matching_ids(asset: Asset, query: dict) -> list[int]:
    """The ids matching a query, ascending; `_id`-only queries are answered from the sorted ids alone."""
    planned = _id_only_plan(asset.ids, query)
    if planned is not None:
        return planned
    return [i for i in asset.ids if _matches(asset.get(i), query)]


def _id_only_plan(ids: list[int], query: dict) -> list[int] | None:
    if not query:
        return list(ids)
    if set(query) != {"_id"}:
        return None
    condition = query["_id"]
    if _is_number(condition):
        position = bisect.bisect_left(ids, condition)
        return [condition] if position < len(ids) and ids[position] == condition else []
    if not isinstance(condition, dict) or not set(condition) <= _BOUND_OPERATORS | {"$in"}:
        return None
    bounds = {op: v for op, v in condition.items() if op in _BOUND_OPERATORS}
    if not all(_is_number(v) for v in bounds.values()):
        return None
    low = bisect.bisect_left(ids, bounds["$gte"]) if "$gte" in bounds else 0
    if "$gt" in bounds:
        low = max(low, bisect.bisect_right(ids, bounds["$gt"]))
    high = bisect.bisect_right(ids, bounds["$lte"]) if "$lte" in bounds else len(ids)
    if "$lt" in bounds:
        high = min(high, bisect.bisect_left(ids, bounds["$lt"]))
    if "$in" not in condition:
        return ids[low:high]
    wanted = condition["$in"]
    if not isinstance(wanted, list):
        raise UnsupportedQuery("Unsupported query")
    chosen = set()
    for value in wanted:
        if _is_number(value):
            position = bisect.bisect_left(ids, value, low, high)
            if position < high and ids[position] == value:
                chosen.add(ids[position])
    return sorted(chosen)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_MISSING = object()


def _lookup(document: dict, key: str) -> Any:
    if key in document:
        return document[key]
    if key.startswith("_validation_status."):
        value: Any = document
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
        return value
    return _MISSING


def _matches(document: dict, query: dict) -> bool:
    for key, condition in query.items():
        if key == "$and":
            if not isinstance(condition, list):
                raise UnsupportedQuery("Unsupported query")
            if not all(_matches(document, part) for part in condition):
                return False
        elif key == "$or":
            if not isinstance(condition, list):
                raise UnsupportedQuery("Unsupported query")
            if not any(_matches(document, part) for part in condition):
                return False
        elif not _field_matches(_lookup(document, key), condition):
            return False
    return True


def _is_operator_dict(condition: object) -> bool:
    if not isinstance(condition, dict) or not condition:
        return False
    first = next(iter(condition))
    if not first.startswith("$"):
        return False  # an escaped operator makes the whole object a literal document
    if any(not key.startswith("$") for key in condition):
        raise UnsupportedQuery("Unsupported query")  # MongoDB: unknown operator
    return True


def _field_matches(value: Any, condition: Any) -> bool:
    if not _is_operator_dict(condition):
        return _equals(value, condition)
    options = condition.get("$options", "")
    return all(_operator_matches(value, op, arg, options) for op, arg in condition.items() if op != "$options")


def _operator_matches(value: Any, op: str, arg: Any, options: str) -> bool:
    if op in _BOUND_OPERATORS:
        return any(_compare(v, op, arg) for v in _candidates(value))
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise UnsupportedQuery("Unsupported query")
        found = any(_equals(value, a) for a in arg)
        return found if op == "$in" else not found
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    if op == "$regex":
        flags = sum(getattr(re, f.upper(), 0) for f in options if f in "imsx")
        return any(isinstance(v, str) and re.search(arg, v, flags) for v in _candidates(value))
    if op == "$all":
        if not isinstance(arg, list):
            raise UnsupportedQuery("$all needs an array")
        return all(_equals(value, a) for a in arg)
    if op == "$not":
        return not _field_matches(value, arg)
    if op == "$elemMatch":
        return isinstance(value, list) and any(
            _matches(v, arg) if isinstance(v, dict) else _field_matches(v, arg) for v in value)
    raise UnsupportedQuery("Unsupported query")


def _candidates(value: Any) -> list[Any]:
    if value is _MISSING:
        return []
    return value if isinstance(value, list) else [value]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _equals(value: Any, expected: Any) -> bool:
    if value is _MISSING:
        return expected is None
    if _same(value, expected):
        return True
    return isinstance(value, list) and any(_same(v, expected) for v in value)


def _compare(value: Any, op: str, arg: Any) -> bool:
    # MongoDB compares within a type bracket only: numbers with numbers, strings with strings.
    if not ((_is_number(value) and _is_number(arg)) or (isinstance(value, str) and isinstance(arg, str))):
        return False
    if op == "$gt":
        return value > arg
    if op == "$gte":
        return value >= arg
    if op == "$lt":
        return value < arg
    return value <= arg


def sorted_ids(asset: Asset, ids: list[int], sort: dict) -> list[int]:
    if not sort:
        sort = {"_id": 1}
    if len(sort) != 1:
        return ids  # kpi sorts only on a single key; otherwise the natural order
    key, direction = next(iter(sort.items()))
    descending = int(direction) < 0
    if key == "_id":
        return ids[::-1] if descending else ids
    keyed = sorted(ids, key=lambda i: _sort_key(_lookup(asset.get(i), key)), reverse=descending)
    return keyed


def _sort_key(value: Any) -> tuple[int, Any]:
    # MongoDB's order of types: missing/null, numbers, strings, objects, arrays, booleans.
    if value is _MISSING or value is None:
        return (0, 0)
    if _is_number(value):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, dict):
        return (3, json.dumps(value, sort_keys=True))
    if isinstance(value, list):
        return (4, json.dumps(value, sort_keys=True))
    return (5, bool(value))


SWEEP_FIELDS = {"_id", "_uuid"}  # what `fields` always includes: asked alone, the page of a sweep


def project(document: dict, fields: list[str]) -> dict:
    """`fields` of a submission and the keys KoBo always adds; `[]` gives just those keys."""
    wanted = {*SWEEP_FIELDS, *fields}
    projected = {k: v for k, v in document.items() if k in wanted}
    for key in ("meta/rootUuid", "_validation_status"):
        if key in document and key not in projected:
            projected[key] = document[key]
    return projected

