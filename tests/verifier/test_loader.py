"""The frozen document loader: bundled contexts only, byte-exact against the W3C vectors."""

from __future__ import annotations

import json

import pytest
from pyld import jsonld

from agents.acapy_plugin.routes import find_unknown_context
from schemas.loader import (
    CONTEXTS_DIR,
    CREDGATE_CONTEXT_V1,
    UnknownContextError,
    bundled_documents,
    document_loader,
    load_context,
)
from tests.conftest import VECTORS

EDDSA = VECTORS / "vc-di-eddsa"


def canonical(document: dict) -> str:
    return jsonld.normalize(
        document,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader(),
        },
    )


def test_unknown_context_is_refused_naming_the_url():
    url = "https://example.org/contexts/unknown/v1"
    with pytest.raises(UnknownContextError) as err:
        document_loader()(url, {})
    assert url in str(err.value) and err.value.url == url


def test_unknown_context_inside_a_document_fails_and_the_cause_names_it():
    url = "https://example.org/contexts/elsewhere/v7"
    doc = {
        "@context": ["https://www.w3.org/2018/credentials/v1", url],
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(jsonld.JsonLdError) as err:
        jsonld.expand(doc, {"documentLoader": document_loader()})
    unknown = find_unknown_context(err.value)
    assert unknown is not None and unknown.url == url


def test_every_bundled_context_parses_and_declares_a_context():
    documents = bundled_documents()
    for url in documents:
        assert "@context" in load_context(url), url
    for must in (
        CREDGATE_CONTEXT_V1,
        "https://www.w3.org/2018/credentials/v1",
        "https://www.w3.org/ns/credentials/v2",
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "https://w3id.org/vc/status-list/2021/v1",
        "https://www.w3.org/ns/did/v1",
    ):
        assert must in documents


@pytest.mark.parametrize(
    "name", ["credentials-v2.jsonld", "examples-v2.jsonld", "citizenship-v4rc1.jsonld"]
)
def test_vector_contexts_are_shipped_unchanged(name):
    assert (CONTEXTS_DIR / name).read_bytes() == (VECTORS / "contexts" / name).read_bytes()


@pytest.mark.parametrize(
    ("unsigned", "canon"),
    [
        ("unsigned.json", "eddsa-rdfc-2022/canonDocDataInt.txt"),
        ("employmentAuth.json", "eddsa-rdfc-2022/employ/canonDocDataInt.txt"),
    ],
)
def test_canonicalization_offline_matches_the_w3c_vectors_byte_for_byte(unsigned, canon):
    document = json.loads((EDDSA / unsigned).read_text())
    assert canonical(document) == (EDDSA / canon).read_text()
