"""The command's own Prefect server: Prefect's app, with the routers a run reaches included first."""

from __future__ import annotations

import re
import uuid

import pytest

from protection_etl.flows.prefect_server import RUN_ROUTERS, routers_a_run_reaches_first

PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")


@pytest.fixture(scope="module")
def routers() -> tuple:
    import prefect.server.api.server

    return prefect.server.api.server.API_ROUTERS


def concrete(path: str) -> str:
    """A path a client could ask for the route: each {parameter} given a value of its type."""
    values = {"uuid": str(uuid.UUID(int=1)), "int": "1", "float": "1.5", "path": "a/b"}
    return PARAMETER.sub(lambda m: values.get(m.group(2) or "", "a"), path)


def test_the_routers_a_run_reaches_come_first_and_none_is_lost(routers):
    ordered = routers_a_run_reaches_first(routers)
    assert [router.prefix for router in ordered[:len(RUN_ROUTERS)]] == list(RUN_ROUTERS)
    assert sorted(map(id, ordered)) == sorted(map(id, routers))  # each of Prefect's routers, once
    rest = [router for router in ordered if router.prefix not in RUN_ROUTERS]
    assert rest == [router for router in routers if router.prefix not in RUN_ROUTERS]  # in Prefect's order


def test_no_request_reaches_another_route_than_in_prefects_order(routers):
    # order decides only between routes that match one same path: none of a moved router's routes may share a path
    # with another router's
    moved = [router for router in routers if router.prefix in RUN_ROUTERS]
    shared = [(route.path, other_route.path)
              for router in moved for route in router.routes
              for other in routers if other is not router for other_route in other.routes
              if other_route.path_regex.match(concrete(route.path))
              or route.path_regex.match(concrete(other_route.path))]
    assert len(moved) == len(RUN_ROUTERS) and not shared, shared
