"""W3C VC-API ``POST /credentials/issue``: sign a credential directly, without an exchange.

Any credential that meets the VC Data Model (1.1 or 2.0) may be signed; one of ours must also meet
its JSON Schema and come from an issuer allowed for its type. Before the agent sees it, the
credential goes through the checks our own verifier runs (data model, member rules, JSON-LD
expansion: undefined terms, protected-term clashes): nothing is signed that we would refuse.

Options as the VC-API specifies them: ``credentialId``, and ``credentialStatus`` (``{"type":
...}``) to ask for a status entry (StatusList2021 for 1.1, BitstringStatusList for 2.0). By policy
every credgate credential type gets its entry whether asked or not (the gateway refuses one
without); other types get one only when asked. The entry is allocated in the transaction that
records the issuance; the signature comes from the issuer DID's tenant on the issuer agent.

Issuing the same credential id again with the same content answers the first signed credential
again (idempotent); the same id with other content is a ``credential-exists`` conflict.

Two issuer instances, as the VC-API has them per configuration: ``POST /credentials/issue`` signs
``Ed25519Signature2020`` (ACA-Py's linked-data signer), ``POST
/credentials/issue?cryptosuite=eddsa-rdfc-2022`` a ``DataIntegrityProof`` with
``eddsa-rdfc-2022``: ACA-Py's Data Integrity API with the cryptosuite our plugin registers
(:mod:`agents.acapy_plugin.rdfc`), which canonicalizes as our verifier does, ``@direction``
included (``rdfDirection: 'i18n-datatype'``). The key stays in the agent either way.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from agents.client import AgentError, AgentUnavailable
from agents.tenants import TenantHandle
from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer import credentials, inputs, records
from issuer.context import IssuerContext
from issuer.models import ISSUED, IssuedCredential
from issuer.status import add_status_context, model_for
from issuer.tenants import agent_problem
from issuer.trust import authorize_issuer, unknown_issuer
from issuer.vcdm import STATUS_LIST_2021_CONTEXT, data_model, issuer_id, types_of
from schemas.registry import credential_types, raw_control_pointer
from verifier.credentials import check_credential as verifier_structure
from verifier.errors import VerificationError
from verifier.jsonld import has_direction, to_quads
from verifier.rdfc import Budget, BudgetExceeded, canonicalize
from verifier.status import MODEL_ENTRY_TYPES
from verifier.suites import check_compact

SIGNING_OPTIONS = {"proofType": "Ed25519Signature2020", "proofPurpose": "assertionMethod"}
#: The cryptosuite of the second issuer instance (``?cryptosuite=``), signed over ACA-Py's
#: Data Integrity API; None is the default instance (Ed25519Signature2020).
EDDSA_RDFC = "eddsa-rdfc-2022"
CRYPTOSUITES = (EDDSA_RDFC,)
#: Defines DataIntegrityProof and cryptosuite for a VCDM 1.1 credential (credentials/v2 does
#: for 2.0); added to a 1.1 credential signed with eddsa-rdfc-2022.
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_CREDGATE_IRIS = frozenset(t.type_iri for t in credential_types().values())
#: ACA-Py adds it to what it signs with Ed25519Signature2020: checked with it.
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
OPTIONS = ("credentialId", "credentialStatus")
#: Members the issuer adds or may fill in; a re-issue is the same credential without them.
ISSUER_ADDED = frozenset({"proof", "credentialStatus", "issuanceDate"})


def issue(
    ctx: IssuerContext, body: Any, actor: str, cryptosuite: str | None = None
) -> dict[str, Any]:
    if cryptosuite is not None and cryptosuite not in CRYPTOSUITES:
        raise DomainError(
            ProblemType.UNSUPPORTED_CRYPTOSUITE,
            f"cryptosuite must be one of {', '.join(CRYPTOSUITES)}, or left out "
            "(Ed25519Signature2020)",
        )
    body = inputs.json_object(body, ("credential", "options"))
    if not isinstance(body.get("credential"), dict):
        raise inputs.invalid("credential must be a JSON object", "credential")
    options = inputs.json_object(body.get("options", {}), OPTIONS)
    asked_status = status_option(options)
    requested = copy.deepcopy(body["credential"])
    credential = prepare(copy.deepcopy(requested), options)

    credentials.check_vcdm(credential)
    type_name = credgate_type(credential)
    with_status = type_name is not None or asked_status is not None
    if asked_status is not None and asked_status != MODEL_ENTRY_TYPES[model_for(credential)]:
        raise DomainError(
            ProblemType.UNSUPPORTED_STATUS_TYPE,
            f"a VCDM {data_model(credential)} credential is issued with a "
            f"{MODEL_ENTRY_TYPES[model_for(credential)]}, not {asked_status}",
        )
    if with_status:
        add_status_context(credential)
    if cryptosuite == EDDSA_RDFC:
        add_data_integrity_context(credential)
    if type_name is not None:
        credentials.check_schema(credential, placeholders=True, subject=False)
    check_expansion(credential, with_status=with_status, cryptosuite=cryptosuite)
    did = issuer_id(credential)
    tenant = ctx.tenants.by_did(did) if did else None
    if tenant is None:
        raise unknown_issuer(did)
    authorize_issuer(ctx, type_name, tenant.did)
    if "id" in requested or options.get("credentialId"):
        earlier = replay(
            ctx, requested, credential, with_status=with_status, cryptosuite=cryptosuite
        )
        if earlier is not None:
            return earlier

    with transaction(ctx.factory) as session:
        record = records.reserve(
            session,
            credential,
            type_name=type_name,
            workflow="vc-api",
            channel="vc-api",
            actor=actor,
            status_base_url=ctx.status_base_url,
            embed_status=with_status,
        )
    signed, delivered = sign_reserved(ctx, tenant, record, credential, cryptosuite=cryptosuite)
    if not delivered:  # swept as interrupted meanwhile: its index is abandoned, it cannot verify
        raise DomainError(
            ProblemType.ISSUANCE_INTERRUPTED,
            "the issuance took too long and was abandoned; try again",
            retry_after=1,
        )
    return signed


def status_option(options: Mapping[str, Any]) -> str | None:
    """The entry type ``options.credentialStatus`` asks for, or None."""
    value = options.get("credentialStatus")
    if value is None:
        return None
    value = inputs.json_object(value, ("type",))
    kind = value.get("type")
    if kind not in MODEL_ENTRY_TYPES.values():
        raise DomainError(
            ProblemType.UNSUPPORTED_STATUS_TYPE,
            f"options.credentialStatus.type must be one of "
            f"{', '.join(sorted(MODEL_ENTRY_TYPES.values()))}",
        )
    return kind


def prepare(credential: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Fill in what the issuer decides when the client leaves it out: id, issuance date. The
    issuer is the client's to name (the VC-API requires it)."""
    if "id" not in credential:
        credential_id = options.get("credentialId") or credentials.new_credential_id()
        if not isinstance(credential_id, str):
            raise inputs.invalid("options.credentialId must be a string", "options")
        credential["id"] = credential_id
    if data_model(credential) == "1.1" and "issuanceDate" not in credential:
        credential["issuanceDate"] = credentials.xsd_datetime(utcnow())
    return credential


def add_data_integrity_context(credential: dict[str, Any]) -> None:
    """A VCDM 1.1 credential signed with a DataIntegrityProof needs the context defining it."""
    contexts = credential.get("@context")
    if (
        data_model(credential) == "1.1"
        and isinstance(contexts, list)
        and (DATA_INTEGRITY_CONTEXT not in contexts)
    ):
        credential["@context"] = [*contexts, DATA_INTEGRITY_CONTEXT]


def check_expansion(
    credential: Mapping[str, Any], *, with_status: bool, cryptosuite: str | None = None
) -> None:
    """What our verifier will check, on the credential as it will be signed (a stand-in status
    entry, the suite's context): a refusal here is a 400, never a signature on something that
    does not verify, nor an agent crash on input it cannot expand."""
    candidate = copy.deepcopy(dict(credential))
    if with_status:
        candidate = credentials.with_placeholders(candidate, subject=False)
    contexts = candidate.get("@context")
    if cryptosuite is None and isinstance(contexts, list) and ED25519_2020_CONTEXT not in contexts:
        candidate["@context"] = [*contexts, ED25519_2020_CONTEXT]
    try:
        verifier_structure(candidate)
        quads = to_quads(candidate)
        # Within the verifier's work budget, before an agent (pyld, unbudgeted) canonicalizes it
        canonicalize(quads, Budget())
    except VerificationError as exc:
        raise DomainError(exc.slug, exc.detail, title=exc.title, **exc.extra) from None
    except BudgetExceeded as exc:
        raise DomainError(ProblemType.HOSTILE_GRAPH, str(exc)) from None
    if cryptosuite is None and has_direction(quads):
        # ACA-Py's signer drops @direction (no rdfDirection): we and the reference libraries
        # would refuse its signature. Refused until the agent signs i18n datatypes.
        raise DomainError(
            ProblemType.UNSUPPORTED_DIRECTION,
            "the issuer agent cannot sign a string with @direction yet; leave it out",
        )
    if cryptosuite is None and raw_control_pointer(candidate) is not None:
        # ACA-Py's signer canonicalizes with pyld, which writes these unescaped where RDFC-1.0
        # (our verifier, the reference libraries) escapes them: its signature would not verify.
        raise DomainError(
            ProblemType.SIGNING_REFUSED,
            "the issuer agent cannot sign a string with a control character (other than tab, "
            "line feed, carriage return); leave it out, or issue with ?cryptosuite=eddsa-rdfc-2022",
        )
    subjects = candidate.get("credentialSubject")
    if (
        cryptosuite is None
        and isinstance(subjects, list)
        and len(subjects) > 1
        and any(isinstance(subject, Mapping) and set(subject) <= {"id"} for subject in subjects)
    ):
        # ACA-Py 1.7's signer crashes on it (ld_proofs check.diff_dict_keys): say so up front.
        raise DomainError(
            ProblemType.SUBJECT_WITHOUT_CLAIMS,
            "among several subjects, give each at least one claim besides its id",
        )
    try:
        check_compact(candidate)  # keys the verifier reads are the graph's, not aliases of it
    except VerificationError as exc:
        raise DomainError(exc.slug, exc.detail, title=exc.title, **exc.extra) from None
    named = {
        credential_types()[t].type_iri
        for t in types_of(candidate)
        if t in credentials.CREDGATE_TYPES
    }
    typed = {o[1:-1] for _, p, o, _ in quads if p == _RDF_TYPE and o[1:-1] in _CREDGATE_IRIS}
    if typed - named:
        # Written as an IRI, a credgate type escapes every rule that reads type terms, while
        # the signed graph is one of ours: presented with the term, it verifies as one.
        raise DomainError(
            ProblemType.UNSUPPORTED_JSONLD,
            f"name the credgate type {sorted(typed - named)[0]} by its term",
        )


def replay(
    ctx: IssuerContext,
    requested: Mapping[str, Any],
    credential: Mapping[str, Any],
    *,
    with_status: bool,
    cryptosuite: str | None = None,
) -> dict[str, Any] | None:
    """The credential signed earlier under this id if this request asks for the same one; None
    if the id is new; a ``credential-exists`` problem if it was used for something else."""
    with ctx.factory() as session:
        record = session.scalar(
            select(IssuedCredential).where(IssuedCredential.credential_id == credential["id"])
        )
    if record is None:
        return None
    signed = record.credential
    if (
        record.channel == "vc-api"
        and record.state == ISSUED
        and isinstance(signed, dict)
        and "proof" in signed
        and ("credentialStatus" in signed) == with_status
        and isinstance(signed["proof"], dict)
        and signed["proof"].get("cryptosuite") == cryptosuite
        and same_content(requested, signed, credential["id"])
    ):
        return signed
    raise DomainError(
        ProblemType.CREDENTIAL_EXISTS,
        f"a credential with id {credential['id']!r} was already issued with other content "
        "(or is being issued); ids are unique",
    )


def same_content(requested: Mapping[str, Any], signed: Mapping[str, Any], credential_id: str):
    """Whether ``signed`` is ``requested`` plus only what the issuer adds."""
    ignore = (ED25519_2020_CONTEXT, STATUS_LIST_2021_CONTEXT, DATA_INTEGRITY_CONTEXT)

    def contexts(document: Mapping[str, Any]) -> Any:
        value = document.get("@context")
        return [c for c in value if c not in ignore] if isinstance(value, list) else value

    if contexts(requested) != contexts(signed):
        return False
    asked = {k: v for k, v in requested.items() if k != "@context"}
    asked.setdefault("id", credential_id)
    for key, value in asked.items():
        if signed.get(key) != value:
            return False
    extra = set(signed) - set(asked) - {"@context"}
    return extra <= ISSUER_ADDED


def signing_problem(exc: AgentError) -> DomainError:
    """The agent refused or failed on a credential that passed every check here: the client's
    input (a 400 naming what the agent said), unless the agent is away (503)."""
    if isinstance(exc, AgentUnavailable) or exc.status in (0, 502, 503, 504):
        return agent_problem(exc)
    if exc.status == 400 and "not bundled" in exc.message:
        return agent_problem(exc)
    return DomainError(
        ProblemType.SIGNING_REFUSED,
        f"the agent refused it ({exc.status}): {exc.message[:500]}",
    )


def sign_reserved(
    ctx: IssuerContext,
    tenant: TenantHandle,
    record: IssuedCredential,
    credential: dict[str, Any],
    problem: Callable[[AgentError], DomainError] = signing_problem,
    *,
    cryptosuite: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Have the tenant's agent sign a reserved record's credential and deliver it.

    A refusal abandons the record (its status index is never reused) and raises ``problem``.
    Returns the signed credential and whether it was delivered: False when the sweeper
    abandoned the record as interrupted meanwhile.
    """
    try:
        if cryptosuite == EDDSA_RDFC:
            signed = add_di_proof(tenant, credential, cryptosuite)
        else:
            signed = tenant.client.issue_vc(credential, SIGNING_OPTIONS)
    except AgentError as exc:
        with transaction(ctx.factory) as session:
            records.abandon(session, record, f"signing failed: {exc.message}")
        raise problem(exc) from exc
    with transaction(ctx.factory) as session:
        delivered = records.deliver(session, record, credential=signed)
    return signed, delivered


def verification_method(did: str) -> str:
    """The assertion key of a did:key issuer (its only key)."""
    if not did.startswith("did:key:z"):
        raise DomainError(
            ProblemType.UNSUPPORTED_CRYPTOSUITE,
            f"{EDDSA_RDFC} is signed for did:key issuers; {did} is not one",
        )
    return f"{did}#{did.removeprefix('did:key:')}"


def add_di_proof(tenant: TenantHandle, credential: dict[str, Any], cryptosuite: str):
    """A DataIntegrityProof by the tenant's agent (ACA-Py ``POST /vc/di/add-proof``), the proof
    as one object (ACA-Py answers a proof set of one)."""
    did = issuer_id(credential) or ""
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": cryptosuite,
        "proofPurpose": "assertionMethod",
        "verificationMethod": verification_method(did),
        "created": credentials.xsd_datetime(utcnow()),
    }
    body = {"document": credential, "options": options}
    secured = tenant.client.request("POST", "/vc/di/add-proof", json=body)["securedDocument"]
    proofs = secured.get("proof")
    if isinstance(proofs, list) and len(proofs) == 1:
        secured["proof"] = proofs[0]
    return secured


def credgate_type(credential: dict[str, Any]) -> str | None:
    """Our type if the credential declares one (then it is held to our rules), else None."""
    names = types_of(credential)
    if not any(name in credentials.CREDGATE_TYPES for name in names):
        return None
    return credentials.known_type(credential)
