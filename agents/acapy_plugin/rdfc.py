"""The ``eddsa-rdfc-2022`` cryptosuite for ACA-Py's Data Integrity API (``POST /vc/di/add-proof``).

ACA-Py 1.7 ships only ``eddsa-jcs-2022`` (``acapy_agent.vc.data_integrity.cryptosuites``). This
one is registered beside it by the plugin: the hash data is credgate's own (the verifier's
:class:`verifier.suites.EddsaRdfc2022`: JSON-LD with ``rdfDirection: 'i18n-datatype'``, RDFC-1.0
over the bundled contexts, under the canonicalization budget), so what the agent signs is byte
for byte what our verifier and the reference libraries check, ``@direction`` included. The key
never leaves the agent: the verification method is resolved to its public key, and the wallet
holding that key signs (a key the wallet does not hold is a wallet error, a 400).
"""

from __future__ import annotations

from typing import Any

from acapy_agent.core.profile import ProfileSession
from acapy_agent.utils.multiformats import multibase
from acapy_agent.vc.data_integrity import manager as di_manager
from acapy_agent.vc.data_integrity.errors import PROBLEM_DETAILS
from acapy_agent.vc.data_integrity.manager import DataIntegrityManagerError
from acapy_agent.vc.data_integrity.models.options import DataIntegrityProofOptions
from acapy_agent.vc.data_integrity.models.proof import DataIntegrityProof
from acapy_agent.vc.data_integrity.models.verification_response import (
    DataIntegrityVerificationResult,
    ProblemDetails,
)
from acapy_agent.wallet.base import BaseWallet
from acapy_agent.wallet.keys.manager import (
    MultikeyManager,
    key_type_from_multikey,
    multikey_to_verkey,
)

from verifier.errors import VerificationError
from verifier.rdfc import Budget
from verifier.suites import EddsaRdfc2022 as HashSuite

CRYPTOSUITE = "eddsa-rdfc-2022"
_HASH = HashSuite()


def _check_options(options: dict[str, Any]) -> None:
    if options.get("type") != "DataIntegrityProof" or options.get("cryptosuite") != CRYPTOSUITE:
        # vc-di-eddsa §3.2.4/3.2.5: any other type or cryptosuite is a PROOF_TRANSFORMATION_ERROR
        raise DataIntegrityManagerError(
            f"the {CRYPTOSUITE} suite needs type DataIntegrityProof and cryptosuite {CRYPTOSUITE}"
        )


def hash_data(document: dict[str, Any], proof: dict[str, Any]) -> bytes:
    """sha256(canonical proof config) || sha256(canonical document), as our verifier computes it;
    a document it cannot canonicalize is a DataIntegrityManagerError (a 400, not a 500)."""
    try:
        return _HASH.hash_data(document, proof, Budget()).combined
    except VerificationError as exc:
        raise DataIntegrityManagerError(f"{exc.slug}: {exc.detail}") from None


class EddsaRdfc2022:
    """https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022, signing with the wallet's key."""

    def __init__(self, *, session: ProfileSession) -> None:
        self.session = session
        self.wallet = session.inject(BaseWallet)

    async def _multikey(self, verification_method: str) -> str:
        return await MultikeyManager(self.session).resolve_multikey_from_verification_method_id(
            verification_method
        )

    async def create_proof(
        self, unsecured_data_document: dict, options: DataIntegrityProofOptions
    ) -> DataIntegrityProof:
        config = {k: v for k, v in options.serialize().items() if k != "proofValue"}
        _check_options(config)
        if not config.get("verificationMethod"):
            raise DataIntegrityManagerError("options.verificationMethod is required")
        document = {k: v for k, v in unsecured_data_document.items() if k != "proof"}
        data = hash_data(document, config)
        verkey = multikey_to_verkey(await self._multikey(config["verificationMethod"]))
        signature = await self.wallet.sign_message(message=data, from_verkey=verkey)
        proof = DataIntegrityProof.deserialize(config)
        proof.proof_value = multibase.encode(signature, "base58btc")
        return proof

    async def verify_proof(self, secured_document: dict) -> DataIntegrityVerificationResult:
        document = {k: v for k, v in secured_document.items() if k != "proof"}
        proof = dict(secured_document["proof"])
        try:
            _check_options(proof)
            signature = multibase.decode(proof["proofValue"])
            data = hash_data(document, proof)
            multikey = await self._multikey(proof["verificationMethod"])
            verified = await self.wallet.verify_message(
                message=data,
                signature=signature,
                from_verkey=multikey_to_verkey(multikey),
                key_type=key_type_from_multikey(multikey),
            )
            problem = None if verified else "Invalid signature."
        except (DataIntegrityManagerError, KeyError, ValueError) as exc:
            verified, problem = False, str(exc)
        problems = []
        if problem is not None:
            detail = ProblemDetails.deserialize(PROBLEM_DETAILS["PROOF_VERIFICATION_ERROR"])
            detail.detail = problem
            problems.append(detail)
        return DataIntegrityVerificationResult(
            verified=verified, proof=DataIntegrityProof.deserialize(proof), problem_details=problems
        )


def install() -> None:
    """Register the suite where ACA-Py's DataIntegrityManager looks cryptosuites up."""
    di_manager.CRYPTOSUITES[CRYPTOSUITE] = EddsaRdfc2022
