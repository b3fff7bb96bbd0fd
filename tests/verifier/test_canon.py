"""Our canonicalization against the reference: byte-identical to pyld, refused when hostile.

The fast JSON-LD path and the URDNA2015 implementation are only allowed because these tests
prove them identical to pyld on the inputs that matter: the vectors, credgate's credential
families, presentations holding several similarly shaped credentials (the case pyoxigraph got
wrong), graphs that need N-degree hashing, and the JSON-LD features the fast path hands back to
pyld. JCS likewise against the rfc8785 library.
"""

from __future__ import annotations

import copy
import json
import random
import time

import pytest
import rfc8785
from pyld import jsonld

from schemas.loader import document_loader
from schemas.registry import credential_types
from tests.conftest import VECTORS
from verifier import errors
from verifier.encoding import multibase_encode
from verifier.engine import Verifier
from verifier.errors import VerificationError
from verifier.jsonld import _FastExpander, _Unsupported, canonize, processor
from verifier.rdfc import Budget, canonicalize
from verifier.suites import jcs
from verifier.testing import Party, credgate_credential

EDDSA = VECTORS / "vc-di-eddsa"
V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"  # @vocab: every term is defined


def reference(document) -> str:
    """pyld itself, with the frozen loader: what ACA-Py signs."""
    return jsonld.normalize(
        copy.deepcopy(document),
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader(),
        },
    )


def takes_fast_path(document) -> bool:
    try:
        _FastExpander(processor()).document(document)
    except _Unsupported:
        return False
    return True


ISSUER = Party.from_seed(bytes(range(32)))
HOLDER = Party.from_seed(bytes(range(1, 33)))


def _credentials():
    out = []
    for index, name in enumerate(sorted(credential_types())):
        credential = credgate_credential(name, ISSUER, HOLDER.did)
        credential["id"] = f"urn:uuid:00000000-0000-4000-8000-{index:012d}"
        out.append(ISSUER.sign({k: v for k, v in credential.items() if k != "proof"}))
    return out


def _presentation(credentials, proof=True):
    presentation = {
        "@context": [V1, "https://identity.foundation/presentation-exchange/submission/v1"],
        "type": ["VerifiablePresentation", "PresentationSubmission"],
        "holder": HOLDER.did,
        "presentation_submission": {
            "id": "1a4d1c5e-5a8e-4a4a-9c4e-3b3f2b7c1d10",
            "definition_id": "2f4c6a10-2d3e-4b8f-9a4b-1c2d3e4f5a6b",
            "descriptor_map": [
                {"id": "x", "format": "ldp_vc", "path": f"$.verifiableCredential[{i}]"}
                for i in range(len(credentials))
            ],
        },
        "verifiableCredential": credentials,
    }
    if proof:  # as ACA-Py signs DIF presentations
        return HOLDER.sign(
            presentation,
            proof_type="Ed25519Signature2018",
            proof_purpose="authentication",
            challenge="c-1",
        )
    return presentation


def _similar(count: int, *, same_ids: bool = False):
    """Credentials alike but for one value (and their ids and signatures)."""
    base = _credentials()[0]
    out = []
    for i in range(count):
        credential = copy.deepcopy(base)
        if not same_ids:
            credential["id"] = f"urn:uuid:11111111-0000-4000-8000-{i:012d}"
        credential["credentialSubject"]["mandatee"]["name"] = f"Employee {i % 2}"
        out.append(ISSUER.sign({k: v for k, v in credential.items() if k != "proof"}))
    return out


CORPUS = {
    **{
        f"vector-{p.parent.name}-{p.name}": json.loads(p.read_text())
        for p in sorted(EDDSA.rglob("signed*.json"))
    },
    "unsigned": json.loads((EDDSA / "unsigned.json").read_text()),
    "employment": json.loads((EDDSA / "employmentAuth.json").read_text()),
    **{f"credgate-{c['type'][1]}": c for c in _credentials()},
    "vp-2": _presentation(_credentials()[:2]),
    "vp-all-families": _presentation(_credentials()),
    "vp-similar-3": _presentation(_similar(3)),
    "vp-similar-6": _presentation(_similar(6)),
    "vp-same-ids": _presentation(_similar(3, same_ids=True)),
    "vp-identical-twice": _presentation([_similar(1)[0], _similar(1)[0]]),
    "vp-envelope-only": _presentation(_similar(2), proof=False),
}

# Constructs the fast path hands to pyld; the answer must not change either way.
FALLBACK = {
    "language-value": {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential"],
        "issuer": "did:ex:1",
        "credentialSubject": {"id": "did:example:2", "name": {"@value": "Ana", "@language": "hr"}},
    },
    "language-map-and-number": {
        "@context": [
            V2,
            EXAMPLES,
            {"names": {"@id": "https://example.org/names", "@container": "@language"}},
        ],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:1",
        "credentialSubject": {
            "id": "did:example:2",
            "names": {"en": "Ana", "fr": "Anne"},
            "age": 42,
            "score": 1.5,
            "ok": True,
        },
    },
    "list-and-typed-value": {
        "@context": [
            V2,
            EXAMPLES,
            {"seq": {"@id": "https://example.org/seq", "@container": "@list"}},
        ],
        "type": ["VerifiableCredential"],
        "issuer": {"id": "did:example:1", "name": "I"},
        "credentialSubject": {
            "id": "did:example:2",
            "seq": ["a", "b", {"@id": "did:example:3"}],
            "when": {"@value": "2024-01-01", "@type": "xsd:date"},
        },
    },
    "blank-node-labels": {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential"],
        "issuer": "did:ex:1",
        "credentialSubject": {
            "friend": [
                {"@id": "_:x", "name": "a"},
                {"@id": "_:x"},
                {"@id": "_:y", "knows": {"@id": "_:x"}},
            ]
        },
    },
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_fast_path_is_byte_identical_to_pyld(name):
    document = CORPUS[name]
    assert canonize(document) == reference(document)
    assert canonize(document, fast=False) == reference(document)
    assert takes_fast_path(document), "the corpus is what the fast path exists for"


@pytest.mark.parametrize("name", sorted(FALLBACK))
def test_constructs_handed_to_pyld_give_the_same_answer(name):
    document = FALLBACK[name]
    assert canonize(document) == reference(document)


def test_fast_path_memo_replay_relabels_blank_nodes():
    """Credentials seen before are replayed from the memo with fresh blank nodes; twice the
    same credential in one presentation still gives two graphs."""
    presentation = CORPUS["vp-identical-twice"]
    first = canonize(presentation)
    again = canonize(presentation)
    assert first == again == reference(presentation)
    assert len({line.split()[-2] for line in first.splitlines() if "c14n" in line}) > 2


def _random_dataset(rng: random.Random, nodes: int, edges: int):
    quads = []
    for _ in range(edges):
        s, o = rng.randrange(nodes), rng.randrange(nodes)
        p = rng.choice(["<http://e/p>", "<http://e/q>"])
        g = rng.choice(["", "", f"_:n{rng.randrange(nodes)}"])
        quads.append((f"_:n{s}", p, f"_:n{o}", g))
    quads.append(("_:n0", "<http://e/v>", '"x"', ""))
    return sorted(set(quads))


def _pyld_canon(quads) -> str:
    text = "".join(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n" for s, p, o, g in quads)
    return jsonld.normalize(
        text,
        {
            "algorithm": "URDNA2015",
            "inputFormat": "application/n-quads",
            "format": "application/n-quads",
        },
    )


def test_urdna2015_matches_pyld_on_graphs_that_need_n_degree_hashing():
    rng = random.Random(7)
    shapes = [
        # a ring, two identical disconnected triangles, a star, a small clique
        [(f"_:a{i}", "<http://e/p>", f"_:a{(i + 1) % 6}", "") for i in range(6)],
        [(f"_:{c}{i}", "<http://e/p>", f"_:{c}{(i + 1) % 3}", "") for c in "xy" for i in range(3)],
        [("_:hub", "<http://e/p>", f"_:leaf{i}", "") for i in range(5)],
        [(f"_:k{i}", "<http://e/p>", f"_:k{j}", "") for i in range(4) for j in range(4) if i != j],
    ]
    shapes += [_random_dataset(rng, rng.randrange(2, 7), rng.randrange(3, 14)) for _ in range(40)]
    for quads in shapes:
        assert canonicalize(list(quads), Budget(steps=10**6, seconds=30)) == _pyld_canon(quads)


def _clique_credential(size: int = 8) -> dict:
    """A VCDM 2.0 credential whose subject links ``size`` blank nodes to each other."""
    nodes = [
        {
            "id": f"_:participant{i}",
            "connectedTo": [{"id": f"_:participant{j}"} for j in range(size) if j != i],
        }
        for i in range(size)
    ]
    return {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER.did,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"connectedTo": nodes},
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2025-01-01T00:00:00Z",
            "verificationMethod": ISSUER.method,
            "proofPurpose": "assertionMethod",
            "proofValue": multibase_encode(b"\x01" * 64),
        },
    }


def test_clique_of_eight_blank_nodes_is_refused_fast():
    credential = _clique_credential(8)
    size = len(json.dumps(credential))
    assert 2000 < size < 4000
    # Timed in the thread's CPU time: the work each took, not how long a loaded host (parallel
    # test workers) kept the thread waiting for a core.
    started = time.thread_time()
    with pytest.raises(VerificationError) as failure:
        canonize(credential)
    assert failure.value.slug == errors.HOSTILE_GRAPH
    assert time.thread_time() - started < 0.2

    verifier = Verifier(require_status=False)
    started = time.thread_time()
    result = verifier.verify_credential(credential)
    assert time.thread_time() - started < 0.2
    assert result.error_types() == [errors.HOSTILE_GRAPH]
    # The worker is fine afterwards.
    started = time.thread_time()
    assert verifier.verify_credential(CORPUS["credgate-RoleCredential"]).verified
    assert time.thread_time() - started < 0.2


def test_small_symmetric_graphs_stay_within_budget():
    canonize(_clique_credential(3))  # 3! paths: a legitimate, if odd, graph


def test_undefined_terms_unknown_contexts_and_relative_iris_are_refused():
    base = copy.deepcopy(CORPUS["credgate-RoleCredential"])
    base.pop("proof")
    with pytest.raises(VerificationError) as failure:
        canonize({**base, "favouriteColour": "blue"})
    assert failure.value.slug == errors.UNDEFINED_TERM
    with pytest.raises(VerificationError) as failure:
        canonize({**base, "type": [*base["type"], "MadeUpType"]})
    assert failure.value.slug == errors.UNDEFINED_TERM
    with pytest.raises(VerificationError) as failure:
        canonize({**base, "@context": [*base["@context"], "https://example.org/unknown/v1"]})
    assert failure.value.slug == errors.UNKNOWN_CONTEXT
    assert failure.value.extra["url"] == "https://example.org/unknown/v1"
    with pytest.raises(VerificationError) as failure:
        canonize({**base, "id": "relative/path"})
    assert failure.value.slug == errors.INVALID_JSONLD


def _random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 7, 2**53, -(2**53), 2**60, 1.5, -0.0, 1e21, 1e-7, 123456.789])
    if kind in (2, 3):
        return "".join(
            rng.choice('aZ\u00e9\u20ac\ud83d\ude00"\\\n\t\x01\x7f\u2028')
            for _ in range(rng.randrange(6))
        )
    if kind in (4, 5):
        keys = ["a", "B", "\u00e9", "\ufb01", "\U0001f600", "\ue000", "", "aa"]
        return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_jcs_is_rfc8785():
    rng = random.Random(3)
    samples = [json.loads((EDDSA / "eddsa-jcs-2022" / "signedJCS.json").read_text())]
    samples += [_random_json(rng) for _ in range(400)]
    for value in samples:
        try:
            expected = rfc8785.dumps(value)
        except rfc8785.CanonicalizationError:  # lone surrogates, integers beyond doubles
            with pytest.raises(VerificationError):
                jcs(value)
            continue
        assert jcs(value) == expected, value
