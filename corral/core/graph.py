"""The dependency graph of services: start order, cycles, and what a set of services needs.

`deps` maps each service id to the ids it depends on, in file order. A dependency that is not a
key of `deps` is ignored here; the config validator reports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping


def start_levels(deps: Mapping[str, tuple[str, ...]]) -> list[list[str]]:
    """Services grouped into levels that can start together, each after the levels before it.

    A level holds the services whose dependencies are all in earlier levels, in file order.
    Raises ValueError on a cycle.
    """
    known = {name: tuple(dict.fromkeys(dep for dep in deps[name] if dep in deps)) for name in deps}
    dependents: dict[str, list[str]] = {name: [] for name in deps}
    for name, names in known.items():
        for dep in names:
            dependents[dep].append(name)
    unmet = {name: len(names) for name, names in known.items()}
    depth: dict[str, int] = {}
    ready = [name for name in deps if not unmet[name]]
    rounds = 0
    # Kahn's algorithm by rounds: round k holds what waits on nothing outside rounds 0..k-1.
    while ready:
        following: list[str] = []
        for name in ready:
            depth[name] = rounds
            for dependent in dependents[name]:
                unmet[dependent] -= 1
                if not unmet[dependent]:
                    following.append(dependent)
        ready = following
        rounds += 1
    if len(depth) < len(deps):
        cycle = find_cycle(deps) or [name for name in deps if name not in depth]
        raise ValueError(f"dependency cycle {' -> '.join(cycle)}")
    levels: list[list[str]] = [[] for _ in range(rounds)]
    for name in deps:
        levels[depth[name]].append(name)
    return levels


def find_cycle(deps: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """A dependency cycle as a closed path, e.g. ["a", "b", "a"] (a depends on b), or None.

    The path starts at the member that comes first in file order, so reports are stable.
    """
    order = {name: index for index, name in enumerate(deps)}
    done: set[str] = set()
    # Iterative depth-first search: a long chain of services must not hit the recursion limit.
    for root in deps:
        if root in done:
            continue
        path = [root]
        on_path = {root}
        pending: list[Iterator[str]] = [iter(deps[root])]
        while path:
            for dep in pending[-1]:
                if dep not in deps or dep in done:
                    continue
                if dep in on_path:
                    cycle = path[path.index(dep) :]
                    first = min(range(len(cycle)), key=lambda i: order[cycle[i]])
                    cycle = cycle[first:] + cycle[:first]
                    return [*cycle, cycle[0]]
                path.append(dep)
                on_path.add(dep)
                pending.append(iter(deps[dep]))
                break
            else:
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                pending.pop()
    return None


def closure(deps: Mapping[str, tuple[str, ...]], names: Iterable[str]) -> set[str]:
    """The named services plus everything they depend on, directly or not."""
    needed: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(deps.get(name, ()))
    return needed
