"""The W3C RDF Dataset Canonicalization (RDFC-1.0) test suite, every manifest entry.

tests/vectors/rdf-canon is w3c/rdf-canon's tests/ folder, unchanged (see tests/vectors/SOURCES.md):

* ``RDFC10EvalTest``: the canonical N-Quads of the input, byte for byte;
* ``RDFC10MapTest``: the issued identifiers map (input label -> canonical label);
* ``RDFC10NegativeEvalTest``: refused (:class:`BudgetExceeded`) under the default budget, fast.

The inputs are N-Quads; :func:`parse_nquads` reads them into our quads (serialized terms, IRIs
with their escapes resolved, literals escaped as RDFC-1.0 writes them).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from verifier.rdfc import (
    Budget,
    BudgetExceeded,
    Quad,
    canonicalize,
    escape_literal,
    issued_identifiers,
)

SUITE = Path(__file__).parents[1] / "vectors" / "rdf-canon"
MANIFEST = json.loads((SUITE / "manifest.jsonld").read_text(encoding="utf-8"))
ENTRIES = {entry["id"].lstrip("#"): entry for entry in MANIFEST["entries"]}
HASHES = {None: "sha256", "SHA256": "sha256", "SHA384": "sha384"}
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: A negative test must be refused within this much of the thread's CPU time (the worker must not
#: hang on a poison graph; CPU time, since a loaded host may keep the thread waiting for a core).
REFUSAL_SECONDS = 0.2

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_IRI = rf"<((?:[^\x00-\x20<>\"{{}}|^`\\]|{_UCHAR})*)>"
_BNODE = r"(_:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?)"
_STRING = rf"\"((?:[^\"\\\n\r]|\\[tbnrf\"'\\]|{_UCHAR})*)\""
_LITERAL = rf"{_STRING}(?:@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)|\^\^{_IRI})?"
_TERM = re.compile(rf"\s*(?:{_IRI}|{_BNODE}|{_LITERAL})")
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        escaped = match.group(0)
        if escaped[1] in "uU":
            return chr(int(escaped[2:], 16))
        return _ECHARS[escaped[1]]

    return re.sub(rf"{_UCHAR}|\\[tbnrf\"'\\]", one, text)


def _term(match: re.Match[str]) -> tuple[str, str]:
    iri, bnode, value, language, datatype = match.groups()
    if iri is not None:
        return "iri", "<" + _unescape(iri) + ">"
    if bnode is not None:
        return "bnode", bnode
    literal = '"' + escape_literal(_unescape(value)) + '"'
    if language is not None:
        return "literal", literal + "@" + language
    if datatype is not None and _unescape(datatype) != XSD_STRING:
        return "literal", literal + "^^<" + _unescape(datatype) + ">"
    return "literal", literal


def parse_nquads(text: str) -> list[Quad]:
    """The quads of an N-Quads document (strict enough for the suite; refuses what it cannot
    read rather than guessing)."""
    quads: list[Quad] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        terms: list[tuple[str, str]] = []
        position = 0
        while len(terms) < 4:
            match = _TERM.match(line, position)
            if match is None:
                break
            terms.append(_term(match))
            position = match.end()
        if not line[position:].strip() == "." or len(terms) not in (3, 4):
            raise ValueError(f"line {number}: not an N-Quad: {line!r}")
        kinds = [kind for kind, _ in terms]
        if kinds[0] == "literal" or kinds[1] != "iri" or "literal" in kinds[3:]:
            raise ValueError(f"line {number}: a term in the wrong position: {line!r}")
        s, p, o = (term for _, term in terms[:3])
        quads.append((s, p, o, terms[3][1] if len(terms) == 4 else ""))
    return quads


def _entries(kind: str) -> list[str]:
    return [name for name, entry in ENTRIES.items() if entry["type"] == f"rdfc:{kind}"]


def _input(entry) -> list[Quad]:
    return parse_nquads((SUITE / entry["action"]).read_text(encoding="utf-8"))


def _hash(entry) -> str:
    return HASHES[entry.get("hashAlgorithm")]


def test_the_manifest_is_all_run():
    kinds = {entry["type"] for entry in ENTRIES.values()}
    assert kinds == {"rdfc:RDFC10EvalTest", "rdfc:RDFC10MapTest", "rdfc:RDFC10NegativeEvalTest"}
    assert len(_entries("RDFC10EvalTest")) == 64
    assert len(ENTRIES) == 86


@pytest.mark.parametrize("name", _entries("RDFC10EvalTest"))
def test_eval(name):
    entry = ENTRIES[name]
    expected = (SUITE / entry["result"]).read_text(encoding="utf-8")
    # The budget as deployed: its 0.1 s backstop counts the thread's CPU time, so a loaded host
    # (parallel test workers) does not refuse the poison graphs' ~10 ms of work.
    assert canonicalize(_input(entry), Budget(), hash_algorithm=_hash(entry)) == expected


@pytest.mark.parametrize("name", _entries("RDFC10MapTest"))
def test_map(name):
    entry = ENTRIES[name]
    quads = _input(entry)
    expected = json.loads((SUITE / entry["result"]).read_text(encoding="utf-8"))
    issued = issued_identifiers(quads, hash_algorithm=_hash(entry))
    assert {k.removeprefix("_:"): v.removeprefix("_:") for k, v in issued.items()} == expected
    labels = {t for quad in quads for t in (quad[0], quad[2], quad[3]) if t.startswith("_:")}
    assert set(issued) == labels


@pytest.mark.parametrize("name", _entries("RDFC10NegativeEvalTest"))
def test_negative_is_refused_within_budget(name):
    quads = _input(ENTRIES[name])
    started = time.thread_time()
    with pytest.raises(BudgetExceeded):
        canonicalize(quads)
    assert time.thread_time() - started < REFUSAL_SECONDS
    # Refused by the step count, not merely by the clock (a fast host refuses it too).
    with pytest.raises(BudgetExceeded, match="blank nodes"):
        canonicalize(quads, Budget(seconds=60))


def test_sha384_differs_from_sha256():
    entry = ENTRIES["test075c"]
    quads = _input(entry)
    assert canonicalize(quads, hash_algorithm="sha384") != canonicalize(quads)
    with pytest.raises(ValueError):
        canonicalize(quads, hash_algorithm="md5")


def test_control_characters_are_escaped_as_rdfc_requires():
    """pyld's escape function left \\b, \\f and the other C0 controls raw (test060)."""
    assert escape_literal('\b\f\t\n\r"\\') == '\\b\\f\\t\\n\\r\\"\\\\'
    assert escape_literal("\x00\x1f\x7f\x0b") == "\\u0000\\u001F\\u007F\\u000B"
    assert escape_literal("'é€😀 ") == "'é€😀 "


def test_a_repeated_quad_counts_once():
    quad = ("_:a", "<http://e/p>", '"x"', "")
    assert canonicalize([quad, quad]) == canonicalize([quad])


def test_the_backstop_counts_cpu_time_not_waiting():
    # A verification that waits for a core (a loaded host) has done no work: not refused for it.
    budget = Budget(seconds=0.05)
    time.sleep(0.1)
    budget.spend()
    # Work is counted: burning the thread's CPU past the backstop refuses.
    budget = Budget(steps=10**9, seconds=0.02)
    with pytest.raises(BudgetExceeded, match="deadline"):
        while True:
            budget.spend()
