"""The frozen JSON-LD document loader: bundled contexts only, never the network.

Every JSON-LD operation in credgate, and every ACA-Py agent through ``agents.acapy_plugin``,
resolves contexts here. An unknown URL is refused with :class:`UnknownContextError`, which names
the URL, so that a credential with an unexpected context fails at once instead of stalling on a
fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pyld.documentloader.frozen import BUNDLED_CONTEXTS, FrozenDocumentLoader
from pyld.jsonld import JsonLdError

CONTEXTS_DIR = Path(__file__).parent / "contexts"

#: The project's own context: one versioned URL, shipped here and never fetched.
CREDGATE_CONTEXT_V1 = "https://w3id.org/credgate/v1"

# URL -> file in schemas/contexts/. pyld's own bundle (credentials v1, security v1/v2, ed25519-2020,
# did v1, jws-2020) fills in the rest; where both have a context, ours wins.
_OUR_CONTEXTS: Mapping[str, str] = {
    CREDGATE_CONTEXT_V1: "credgate-v1.jsonld",
    # W3C vc-data-model @ 979c4af1 (tests/vectors/contexts holds the upstream copy to compare)
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "examples-v2.jsonld",
    # w3c-ccg/citizenship-vocab @ 50a3689e
    "https://w3id.org/citizenship/v4rc1": "citizenship-v4rc1.jsonld",
    # StatusList2021 (VCDM 1.1 status entries); same file ACA-Py ships
    "https://w3id.org/vc/status-list/2021/v1": "status-list-2021-v1.jsonld",
    # w3c/vc-data-integrity @ 570d7641 contexts/data-integrity/v2 (W3C Software and Document
    # License): DataIntegrityProof and previousProof, for proof sets and chains
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    # ACA-Py adds it to every DIF presentation it signs
    "https://identity.foundation/presentation-exchange/submission/v1": (
        "presentation-exchange-submission-v1.jsonld"
    ),
}


class UnknownContextError(JsonLdError):
    """A JSON-LD document referred to a context that credgate does not bundle."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD context {url!r} is not bundled with credgate; refusing to fetch it",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading document failed",
        )
        self.url = url


def bundled_documents() -> dict[str, Path]:
    """Every URL the loader serves, mapped to its file on disk."""
    documents: dict[str, Path] = dict(BUNDLED_CONTEXTS)
    documents.update({url: CONTEXTS_DIR / name for url, name in _OUR_CONTEXTS.items()})
    return documents


class CredgateDocumentLoader(FrozenDocumentLoader):
    """pyld's frozen loader over our bundle, with an error that names the refused URL."""

    def __init__(self, documents: Mapping[str, dict | Path] | None = None) -> None:
        super().__init__(bundled_documents() if documents is None else documents)

    def __call__(self, url: str, options: dict | None = None) -> dict[str, Any]:
        if url not in self.documents:
            raise UnknownContextError(url)
        return super().__call__(url, options or {})


@cache
def document_loader() -> CredgateDocumentLoader:
    """The process-wide loader; parsed contexts are cached inside it."""
    return CredgateDocumentLoader()


def load_context(url: str) -> dict[str, Any]:
    """The parsed JSON of one bundled context (raises UnknownContextError otherwise)."""
    return document_loader()(url)["document"]
