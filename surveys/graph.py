"""Dependencies among relevance, calculations and repeat counts: cycles and evaluation order.

Nodes are element names. A repeat has two nodes: `R@head` (its own relevance and count,
which its children depend on) and `R` (complete: all its instances computed), which
anything outside the repeat that aggregates its fields depends on.
"""
from __future__ import annotations

import heapq

from surveys.model import Definition, Group, Question, Repeat

HEAD = "@head"


def _expressions(element) -> list:
    exprs = [element.relevant]
    if isinstance(element, Question):
        exprs.append(element.calculation)
    if isinstance(element, Repeat) and not isinstance(element.repeat_count, int):
        exprs.append(element.repeat_count)
    return [e for e in exprs if e is not None]


def build_graph(definition: Definition) -> tuple[dict[str, set[str]], list[str]]:
    """(node -> nodes it depends on, nodes in document order)."""
    fields = definition.fields
    repeats = definition.repeats
    names = {e.name for e in definition.elements()}
    deps: dict[str, set[str]] = {}
    order: list[str] = []

    def visit(elements, parent: str | None, repeat: str | None) -> None:
        for element in elements:
            node = element.name
            if isinstance(element, Repeat):
                head = node + HEAD
                order.append(head)
                deps.setdefault(head, set())
                if parent:
                    deps[head].add(parent)
                for expr in _expressions(element):
                    deps[head].update(_targets(expr.references, None))
                visit(element.children, head, node)
                order.append(node)
                deps.setdefault(node, set()).add(head)
                deps[node].update(e.name for e in element.children)
                continue
            order.append(node)
            mine = deps.setdefault(node, set())
            if parent:
                mine.add(parent)
            for expr in _expressions(element):
                mine.update(_targets(expr.references, repeat))
            if isinstance(element, Group):
                visit(element.children, node, repeat)

    def _targets(refs, repeat: str | None) -> set[str]:
        out = set()
        for ref in refs:
            if ref not in names:
                continue
            if ref in repeats:
                out.add(ref if ref != repeat else ref + HEAD)
                continue
            q = fields.get(ref)
            if q is not None and q.repeat is not None and q.repeat != repeat:
                out.add(q.repeat)
            else:
                out.add(ref)
        return out

    visit(definition.survey, None, None)
    # A repeat is complete once every element nested in it is.
    for element in definition.elements():
        if isinstance(element, Question | Group) and getattr(element, "repeat", None):
            deps.setdefault(element.repeat, set()).add(element.name)
    return deps, order


def find_cycles(deps: dict[str, set[str]], order: list[str]) -> list[list[str]]:
    """Each dependency cycle once, as a closed path of element names."""
    index = {n: i for i, n in enumerate(order)}
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(deps, white)
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for start in order:
        if color.get(start) != white:
            continue
        stack = [(start, iter(sorted(deps.get(start, ()), key=lambda n: index.get(n, 0))))]
        path = [start]
        color[start] = grey
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                color[node] = black
                stack.pop()
                path.pop()
                continue
            state = color.get(nxt, black)
            if state == white:
                color[nxt] = grey
                path.append(nxt)
                stack.append((nxt, iter(sorted(deps.get(nxt, ()), key=lambda n: index.get(n, 0)))))
            elif state == grey:
                cycle = path[path.index(nxt):] + [nxt]
                display = [n.removesuffix(HEAD) for n in cycle]
                key = frozenset(display)
                if key not in seen:
                    seen.add(key)
                    # collapse R@head -> ... -> R steps that read as "R -> R"
                    cleaned = [
                        n for i, n in enumerate(display)
                        if i == 0 or n != display[i - 1] or cycle[i] == cycle[i - 1]
                    ]
                    cycles.append(cleaned)
    return cycles


def topological_order(deps: dict[str, set[str]], order: list[str]) -> list[str]:
    """Nodes so that each comes after what it depends on (document order breaks ties)."""
    index = {n: i for i, n in enumerate(order)}
    pending = {n: len([d for d in deps.get(n, ()) if d in index]) for n in order}
    users: dict[str, list[str]] = {n: [] for n in order}
    for n in order:
        for d in deps.get(n, ()):
            if d in users:
                users[d].append(n)
    heap = [index[n] for n in order if pending[n] == 0]
    heapq.heapify(heap)
    out: list[str] = []
    while heap:
        n = order[heapq.heappop(heap)]
        out.append(n)
        for u in users[n]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(heap, index[u])
    if len(out) < len(order):
        out.extend(n for n in order if n not in set(out))
    return out
