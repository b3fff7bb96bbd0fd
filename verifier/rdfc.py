"""RDF Dataset Canonicalization (RDFC-1.0, formerly URDNA2015) under a work budget.

Passes the W3C RDFC-1.0 test suite (tests/verifier/test_rdfc_suite.py: every evaluation, map and
negative test, SHA-384 included) and agrees with pyld's ``URDNA2015`` (the canonicalizer ACA-Py
signs with) on every dataset without control characters in its literals: pyld writes ``\b``,
``\f`` and the other C0 controls unescaped, RDFC-1.0 escapes them (:func:`escape_literal`), as
the reference libraries do. It is about ten times faster than pyld: quads are tuples of
already-serialized N-Quads terms instead of nested dicts, and issuers are copied shallowly.

The N-degree hashing step is exponential in the number of blank nodes that first-degree hashes
cannot tell apart (a clique of eight is ~10^9 paths). Every credential we meet needs none of it,
so a small budget of N-degree steps plus a deadline refuse poison graphs in milliseconds
instead of hanging a worker, with :class:`BudgetExceeded`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from hashlib import sha256, sha384

from pyld.canon import permutations

#: One quad: subject, predicate, object, graph name, each a serialized N-Quads term
#: (``<iri>``, ``_:label`` or a literal); the graph name is "" for the default graph.
Quad = tuple[str, str, str, str]

#: N-degree steps (hash_n_degree calls plus permutations tried) allowed per canonicalization.
#: Measured on the W3C suite: the hardest computable tests ("poison - evil", 044-046) need
#: 3,348 steps (~10 ms); every other test under 60; the 10-node clique (074) over 1.7 million
#: (unfinished after 5 s). 20,000 admits six times the evil graphs and refuses the clique
#: after ~60 ms of work (one budget covers a whole presentation).
DEFAULT_STEPS = 20000
#: CPU-time limit per canonicalization, in seconds, a backstop to the steps. The thread's own CPU
#: time, not the wall clock: on a loaded host an honest graph waits for a core without working,
#: and must not be refused for it.
DEFAULT_DEADLINE = 0.1
#: Largest dataset accepted at all.
MAX_QUADS = 20000


#: Hash functions RDFC-1.0 may be run with (SHA-256 is the default and what signatures use).
HASHES: dict[str, Callable] = {"sha256": sha256, "sha384": sha384}

# RDFC-1.0 canonical N-Quads: these seven as ECHAR, the other C0 controls and DEL as \uXXXX
# (upper-case hex), everything else verbatim (pyld's escape leaves \b, \f and the rest raw).
_ECHAR = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_ESCAPES = {
    **{chr(c): f"\\u{c:04X}" for c in [*range(0x20), 0x7F]},
    **_ECHAR,
}
_NEEDS_ESCAPE = frozenset(_ESCAPES)


def escape_literal(value: str) -> str:
    """The lexical form ``value`` as RDFC-1.0's canonical N-Quads writes it between quotes."""
    if _NEEDS_ESCAPE.isdisjoint(value):
        return value
    return "".join(_ESCAPES.get(char, char) for char in value)


class BudgetExceeded(Exception):
    """The dataset needs more canonicalization work than the budget allows."""


class Budget:
    def __init__(self, steps: int = DEFAULT_STEPS, seconds: float = DEFAULT_DEADLINE) -> None:
        self.steps = steps
        self.deadline = time.thread_time() + seconds

    def spend(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise BudgetExceeded("too many blank nodes that only N-degree hashing can tell apart")
        if time.thread_time() > self.deadline:
            raise BudgetExceeded("canonicalization deadline exceeded")


class _Issuer:
    """Identifier issuer (RDFC-1.0 §4.5) with a cheap copy."""

    __slots__ = ("prefix", "counter", "existing", "order")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.counter = 0
        self.existing: dict[str, str] = {}
        self.order: list[str] = []

    def issue(self, old: str) -> str:
        new = self.existing.get(old)
        if new is None:
            new = self.prefix + str(self.counter)
            self.counter += 1
            self.existing[old] = new
            self.order.append(old)
        return new

    def copy(self) -> _Issuer:
        twin = _Issuer(self.prefix)
        twin.counter = self.counter
        twin.existing = dict(self.existing)
        twin.order = list(self.order)
        return twin


def serialize(quad: Quad) -> str:
    s, p, o, g = quad
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


def _is_bnode(term: str) -> bool:
    return term.startswith("_:")


class _Canonicalizer:
    def __init__(self, quads: list[Quad], budget: Budget, hash_algorithm: str) -> None:
        self.quads = quads
        self.budget = budget
        self.hash = HASHES[hash_algorithm]
        self.bnode_quads: dict[str, list[Quad]] = {}
        self.first_degree: dict[str, str] = {}
        self.canonical = _Issuer("_:c14n")
        for quad in quads:
            s, _p, o, g = quad
            # One entry per occurrence (a quad naming a blank node twice is listed twice),
            # exactly as pyld does: it changes the first-degree hash.
            for term in (s, o, g):
                if term.startswith("_:"):
                    self.bnode_quads.setdefault(term, []).append(quad)

    def hash_first_degree(self, node: str) -> str:
        cached = self.first_degree.get(node)
        if cached is not None:
            return cached
        lines = []
        for s, p, o, g in self.bnode_quads[node]:
            if s.startswith("_:"):
                s = "_:a" if s == node else "_:z"
            if o.startswith("_:"):
                o = "_:a" if o == node else "_:z"
            if g.startswith("_:"):
                g = "_:a" if g == node else "_:z"
            lines.append(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n")
        lines.sort()
        digest = self.hash("".join(lines).encode("utf-8")).hexdigest()
        self.first_degree[node] = digest
        return digest

    def hash_related(self, related: str, predicate: str, issuer: _Issuer, position: str) -> str:
        if related in self.canonical.existing:
            ident = self.canonical.existing[related]
        elif related in issuer.existing:
            ident = issuer.existing[related]
        else:
            ident = self.hash_first_degree(related)
        data = position + (predicate if position != "g" else "") + ident
        return self.hash(data.encode("utf-8")).hexdigest()

    def hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        self.budget.spend()
        hash_to_related: dict[str, list[str]] = {}
        for s, p, o, g in self.bnode_quads[node]:
            for term, position in ((s, "s"), (o, "o"), (g, "g")):
                if term.startswith("_:") and term != node:
                    digest = self.hash_related(term, p, issuer, position)
                    hash_to_related.setdefault(digest, []).append(term)

        md = self.hash()
        for related_hash, blank_nodes in sorted(hash_to_related.items()):
            md.update(related_hash.encode("utf-8"))
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            for permutation in permutations(blank_nodes):
                self.budget.spend()
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    if related in self.canonical.existing:
                        path += self.canonical.existing[related]
                    else:
                        if related not in issuer_copy.existing:
                            recursion.append(related)
                        path += issuer_copy.issue(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, result_issuer = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy.issue(related)
                    path += "<" + result_hash + ">"
                    issuer_copy = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            md.update(chosen_path.encode("utf-8"))
            issuer = chosen_issuer  # type: ignore[assignment]
        return md.hexdigest(), issuer

    def issue(self) -> dict[str, str]:
        """The issued identifiers map: input blank node label -> canonical label."""
        non_normalized = set(self.bnode_quads)
        hash_to_nodes: dict[str, list[str]] = {}
        simple = True
        while simple:
            simple = False
            hash_to_nodes = {}
            for node in non_normalized:
                hash_to_nodes.setdefault(self.hash_first_degree(node), []).append(node)
            for digest, nodes in sorted(hash_to_nodes.items()):
                if len(nodes) > 1:
                    continue
                self.canonical.issue(nodes[0])
                non_normalized.discard(nodes[0])
                del hash_to_nodes[digest]
                simple = True

        for _digest, nodes in sorted(hash_to_nodes.items()):
            results = []
            for node in nodes:
                if node in self.canonical.existing:
                    continue
                issuer = _Issuer("_:b")
                issuer.issue(node)
                results.append(self.hash_n_degree(node, issuer))
            for _hash, issuer in sorted(results, key=lambda r: r[0]):
                for existing in issuer.order:
                    self.canonical.issue(existing)

        return self.canonical.existing

    def serialize(self) -> list[str]:
        labels = self.issue()
        out = []
        for s, p, o, g in self.quads:
            if s.startswith("_:"):
                s = labels[s]
            if o.startswith("_:"):
                o = labels[o]
            if g.startswith("_:"):
                g = labels[g]
            out.append(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n")
        out.sort()
        return out


def _prepared(quads: list[Quad], budget: Budget | None, hash_algorithm: str) -> _Canonicalizer:
    if hash_algorithm not in HASHES:
        raise ValueError(f"unsupported hash algorithm {hash_algorithm!r}")
    if len(quads) > MAX_QUADS:
        raise BudgetExceeded(f"dataset has {len(quads)} quads; the limit is {MAX_QUADS}")
    # A dataset is a set: a repeated quad would count twice in the first-degree hashes.
    return _Canonicalizer(list(dict.fromkeys(quads)), budget or Budget(), hash_algorithm)


def canonicalize(
    quads: list[Quad], budget: Budget | None = None, *, hash_algorithm: str = "sha256"
) -> str:
    """The canonical N-Quads document of ``quads`` (sorted lines, ``_:c14nN`` labels)."""
    return "".join(_prepared(quads, budget, hash_algorithm).serialize())


def issued_identifiers(
    quads: list[Quad], budget: Budget | None = None, *, hash_algorithm: str = "sha256"
) -> dict[str, str]:
    """RDFC-1.0's issued identifiers map (``_:b0`` -> ``_:c14n3``), its alternative result."""
    return dict(_prepared(quads, budget, hash_algorithm).issue())
