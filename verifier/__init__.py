"""The verification library: W3C credentials and presentations (Data Integrity, JWT, SD-JWT),
DIDs, status lists, trust registries and the policy decision point, in process and Flask-free.

Every service verifies with it; the verifier service and its gateway (:mod:`gateway`) are
built on it. Modules, each with one job:

``engine``       :class:`Verifier`: a credential or presentation from proof to status
``credentials``  VCDM 1.1/2.0 structure and validity
``suites``       Data Integrity cryptosuites (Ed25519Signature2020, eddsa-jcs/rdfc-2022)
``jsonld``, ``rdfc``  JSON-LD expansion with bundled contexts, RDFC-1.0 canonicalization
``jose``, ``jwtvc``, ``sdjwt``, ``vptoken``  JOSE-secured credentials and OpenID4VP answers
``dids``         did:key, did:web, did:peer resolution
``status``, ``tokenstatus``, ``feeds``  status lists (Bitstring, Token Status List) and change feeds
``trust``, ``trust_kcit``  who may issue what (files, KCIT)
``pdp``          requirements and decisions
``fetch``        the one policy for every URL the library fetches
``challenges``   single-use challenges, stored
``errors``       :class:`VerificationError` and its problem types
"""

from verifier.dids import DidResolver
from verifier.engine import CredentialResult, PresentationResult, ProofCache, Verifier
from verifier.errors import VerificationError
from verifier.fetch import FetchPolicy, fetch_policy
from verifier.status import StatusListCache
from verifier.trust import (
    CombinedTrustRegistry,
    FileTrustRegistry,
    StaticTrustRegistry,
    TrustRegistry,
)

__all__ = [
    "CombinedTrustRegistry",
    "CredentialResult",
    "DidResolver",
    "FetchPolicy",
    "FileTrustRegistry",
    "PresentationResult",
    "ProofCache",
    "StaticTrustRegistry",
    "StatusListCache",
    "TrustRegistry",
    "VerificationError",
    "Verifier",
    "fetch_policy",
]
