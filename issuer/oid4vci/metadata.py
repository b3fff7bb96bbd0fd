"""Credential configurations (four families x three formats) and the metadata documents.

Configuration ids are ``<Type>_<format suffix>``. The SD-JWT VC type (``vct``) of a family is a
URL under the credential issuer that answers with its type metadata. W3C formats are VCDM 1.1 --
what the Aries and OpenID wallets in use store -- with a StatusList2021 entry (the JSON-LD
``credentials/v1`` context cannot carry a BitstringStatusListEntry); SD-JWT VCs carry an IETF
Token Status List reference to the same list.

A SoftwareCertification's subject is the software, not the holder: its W3C configurations bind
nothing (no proof needed), while its SD-JWT is still bound to the wallet's key (``cnf``).
"""

from __future__ import annotations

from typing import Any

from issuer.credentials import CONTEXTS_V1

SD_JWT, JWT_VC, LDP_VC = "dc+sd-jwt", "jwt_vc_json", "ldp_vc"
FORMATS = {SD_JWT: "sd_jwt", JWT_VC: "jwt_vc_json", LDP_VC: "ldp_vc"}
PROOF_ALGS = ["EdDSA", "ES256"]
UNBOUND_W3C = frozenset({"SoftwareCertificationCredential"})

FAMILIES: dict[str, dict[str, str]] = {
    "OnboardingCredential": {
        "name": "Data space membership",
        "description": "You are an onboarded participant of the data space.",
    },
    "RoleCredential": {
        "name": "Data space roles",
        "description": "The roles the data space's operator certified for you.",
    },
    "AttorneyCredential": {
        "name": "Power of attorney",
        "description": "What your company authorised you to do on its behalf.",
    },
    "SoftwareCertificationCredential": {
        "name": "Software certification",
        "description": "A certifier vouches for software by its content hash.",
    },
}
BACKGROUND = "#12355b"


def configuration_id(type_name: str, fmt: str) -> str:
    return f"{type_name}_{FORMATS[fmt]}"


def parse_configuration_id(value: Any) -> tuple[str, str] | None:
    if not isinstance(value, str):
        return None
    for fmt, suffix in FORMATS.items():
        type_name = value.removesuffix("_" + suffix)
        if type_name != value and type_name in FAMILIES:
            return type_name, fmt
    return None


def vct(base: str, type_name: str) -> str:
    return f"{base}/vct/{type_name}"


def binds_subject(type_name: str) -> bool:
    return type_name not in UNBOUND_W3C


def needs_proof(type_name: str, fmt: str) -> bool:
    return fmt == SD_JWT or binds_subject(type_name)


def _display(type_name: str) -> list[dict[str, Any]]:
    family = FAMILIES[type_name]
    return [
        {
            "name": family["name"],
            "locale": "en",
            "description": family["description"],
            "background_color": BACKGROUND,
            "text_color": "#ffffff",
        }
    ]


def configuration(base: str, type_name: str, fmt: str) -> dict[str, Any]:
    display = _display(type_name)
    config: dict[str, Any] = {
        "format": fmt,
        "scope": configuration_id(type_name, fmt),
        "credential_metadata": {"display": display},  # OpenID4VCI 1.0
        "display": display,  # where drafts before 1.0 look for it
    }
    if fmt == SD_JWT:
        config["vct"] = vct(base, type_name)
        config["credential_signing_alg_values_supported"] = ["EdDSA"]
        config["cryptographic_binding_methods_supported"] = ["jwk", "did:key", "did:jwk"]
    else:
        types = ["VerifiableCredential", type_name]
        definition: dict[str, Any] = {"type": types}
        if fmt == LDP_VC:
            definition = {"@context": list(CONTEXTS_V1), "type": types}
            config["credential_signing_alg_values_supported"] = ["Ed25519Signature2020"]
        else:
            config["credential_signing_alg_values_supported"] = ["EdDSA"]
        config["credential_definition"] = definition
        if binds_subject(type_name):
            config["cryptographic_binding_methods_supported"] = ["did:key", "did:jwk"]
    if needs_proof(type_name, fmt):
        config["proof_types_supported"] = {
            "jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGS)}
        }
    return config


def all_configurations(base: str) -> dict[str, dict[str, Any]]:
    return {
        configuration_id(type_name, fmt): configuration(base, type_name, fmt)
        for type_name in FAMILIES
        for fmt in FORMATS
    }


def issuer_metadata(base: str, name: str) -> dict[str, Any]:
    """``/.well-known/openid-credential-issuer`` (OpenID4VCI 1.0 §12.2)."""
    return {
        "credential_issuer": base,
        "authorization_servers": [base],
        "credential_endpoint": f"{base}/oid4vci/credential",
        "nonce_endpoint": f"{base}/oid4vci/nonce",
        "display": [{"name": name, "locale": "en"}],
        "credential_configurations_supported": all_configurations(base),
    }


def authorization_server_metadata(base: str) -> dict[str, Any]:
    """``/.well-known/oauth-authorization-server`` (RFC 8414): the issuer is its own AS, for
    the pre-authorized code grant only."""
    return {
        "issuer": base,
        "token_endpoint": f"{base}/oid4vci/token",
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
        "pre-authorized_grant_anonymous_access_supported": True,
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": sorted(all_configurations(base)),
    }


def type_metadata(base: str, type_name: str) -> dict[str, Any]:
    """SD-JWT VC type metadata served at the ``vct`` URL."""
    family = FAMILIES[type_name]
    return {
        "vct": vct(base, type_name),
        "name": family["name"],
        "description": family["description"],
        "display": [
            {
                "lang": "en",
                "name": family["name"],
                "description": family["description"],
                "rendering": {"simple": {"background_color": BACKGROUND, "text_color": "#ffffff"}},
            }
        ],
    }
