"""Start levels, cycles and dependency closures of the service graph."""

from __future__ import annotations

import pytest

from corral.core.graph import closure, find_cycle, start_levels


def test_levels_keep_file_order() -> None:
    deps = {"web": ("db",), "db": (), "jobs": (), "proxy": ("web", "jobs")}
    assert start_levels(deps) == [["db", "jobs"], ["web"], ["proxy"]]


def test_levels_of_independent_services_are_one_level() -> None:
    assert start_levels({"a": (), "b": (), "c": ()}) == [["a", "b", "c"]]


def test_levels_of_nothing() -> None:
    assert start_levels({}) == []


def test_a_service_waits_for_its_deepest_dependency() -> None:
    deps = {"a": ("b", "d"), "b": ("c",), "c": (), "d": ()}
    assert start_levels(deps) == [["c", "d"], ["b"], ["a"]]


def test_unknown_dependencies_are_ignored() -> None:
    assert start_levels({"a": ("ghost",)}) == [["a"]]


def test_levels_refuse_a_cycle() -> None:
    with pytest.raises(ValueError, match=r"dependency cycle a -> b -> a"):
        start_levels({"a": ("b",), "b": ("a",), "c": ()})


def test_no_cycle() -> None:
    assert find_cycle({"a": ("b",), "b": (), "c": ("a", "b")}) is None


def test_two_service_cycle() -> None:
    assert find_cycle({"a": ("b",), "b": ("a",)}) == ["a", "b", "a"]


def test_self_dependency_is_a_cycle() -> None:
    assert find_cycle({"x": (), "a": ("a",)}) == ["a", "a"]


def test_cycle_starts_at_its_first_service_in_file_order() -> None:
    deps = {"z": ("c",), "a": ("b",), "b": ("c",), "c": ("a",)}
    assert find_cycle(deps) == ["a", "b", "c", "a"]


def test_cycle_behind_a_chain() -> None:
    deps = {"top": ("mid",), "mid": ("x",), "x": ("y",), "y": ("x",)}
    assert find_cycle(deps) == ["x", "y", "x"]


def test_long_chain_does_not_recurse() -> None:
    deps = {f"s{i}": (f"s{i + 1}",) for i in range(5000)}
    deps["s5000"] = ("s0",)
    cycle = find_cycle(deps)
    assert cycle is not None and cycle[0] == cycle[-1] == "s0" and len(cycle) == 5002
    del deps["s5000"]
    assert len(start_levels(deps)) == 5000


def test_closure() -> None:
    deps = {"web": ("db", "cache"), "db": (), "cache": ("db",), "jobs": ("db",), "x": ()}
    assert closure(deps, ["web"]) == {"web", "db", "cache"}
    assert closure(deps, ["jobs", "x"]) == {"jobs", "db", "x"}
    assert closure(deps, []) == set()


def test_closure_survives_cycles() -> None:
    assert closure({"a": ("b",), "b": ("a",)}, ["a"]) == {"a", "b"}
