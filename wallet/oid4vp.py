"""The wallet's side of OpenID4VP: answer an ``openid4vp://`` link or QR code.

1. The link names the verifier's ``client_id`` and a ``request_uri``; the request object there
   is fetched under the wallet's fetch policy and must be signed (``typ: oauth-authz-req+jwt``)
   by a key of the DID the client_id names (``decentralized_identifier:<did>``, or the drafts'
   ``client_id_scheme=did``), with the same client_id inside.
2. Its DCQL query (or, from the drafts, presentation definition) is matched against the held
   credentials: the first satisfiable option of each required credential set.
3. The answer, per matched query: an SD-JWT with only the requested claims disclosed and a
   KB-JWT (nonce, audience = client_id, ``sd_hash``); a VC-JWT presentation signed by the
   holder; or an LD presentation signed by whoever holds the key (``sign_ldp``).
4. ``direct_post`` of ``vp_token`` and ``state`` to the ``response_uri``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from jwcrypto import jwk

from credgate.errors import DomainError
from verifier import jose, sdjwt
from verifier.dids import DidResolver
from verifier.errors import VerificationError
from verifier.fetch import Fetcher, FetchError, FetchPolicy, check_url

SCHEMES = ("openid4vp:", "eudi-openid4vp:", "haip:", "mdoc-openid4vp:")
DID_PREFIX = "decentralized_identifier:"
REQUEST_DEADLINE = 8.0


#: Signs a JWT payload for the holder: (payload, extra header) -> compact JWS. The stand-in's
#: signer is the holder agent (the key never leaves it); tests hold a key.
Signer = Callable[[dict[str, Any], dict[str, Any]], str]


def key_signer(key: jwk.JWK, kid: str | None = None) -> Signer:
    def sign(payload: dict[str, Any], header: dict[str, Any]) -> str:
        head = {"alg": jose.algorithm_of(key), **({"kid": kid} if kid else {}), **header}
        return jose.sign(payload, key, head)

    return sign


@dataclass(frozen=True)
class Held:
    """A credential in the wallet and how to sign for the key that binds it."""

    format: str  # dc+sd-jwt | jwt_vc_json | ldp_vc
    credential: Any  # the issued SD-JWT (every disclosure), the VC-JWT, or the LD credential
    signer: Signer | None = None  # signs with the holder's key (cnf.jwk, or the subject DID's)
    holder: str | None = None  # the holder DID (a VC-JWT presentation's iss)
    record_id: str | None = None  # the wallet's record of it (an LD credential in the agent)

    def claims(self) -> dict[str, Any]:
        """What the credential says (all disclosures applied; the wallet's own copy)."""
        if self.format == "dc+sd-jwt":
            sd = sdjwt.split(self.credential)
            _, payload = jose.parse(sd.issuer_jwt, "SD-JWT")
            return sdjwt.disclose(payload, sd.disclosures)
        if self.format == "jwt_vc_json":
            _, payload = jose.parse(self.credential, "VC-JWT")
            return dict(payload.get("vc") or {})
        return dict(self.credential)


@dataclass(frozen=True)
class PresentationRequest:
    client_id: str
    did: str
    claims: dict[str, Any]

    @property
    def nonce(self) -> str:
        return self.claims["nonce"]

    @property
    def state(self) -> str | None:
        return self.claims.get("state")

    @property
    def response_uri(self) -> str:
        return self.claims["response_uri"]


def bad(detail: str, slug: str = "invalid-openid4vp-request") -> DomainError:
    return DomainError(slug, detail)


def is_openid4vp(text: str) -> bool:
    return isinstance(text, str) and text.strip().lower().startswith(SCHEMES)


def parse_link(url: str) -> tuple[str, str]:
    """(client_id, request_uri) of an authorization request link."""
    query = parse_qs(urlsplit(url.strip()).query)
    client_id = (query.get("client_id") or [None])[0]
    request_uri = (query.get("request_uri") or [None])[0]
    if not client_id or not request_uri:
        raise bad(
            "the link names no client_id and request_uri "
            "(only signed requests by reference are answered)"
        )
    return client_id, request_uri


def _client_did(client_id: str, scheme: str | None) -> str:
    if client_id.startswith(DID_PREFIX):
        return client_id.removeprefix(DID_PREFIX)
    if scheme == "did" and client_id.startswith("did:"):
        return client_id
    raise bad(f"client_id {client_id[:80]!r} is not a DID this wallet can check")


def fetch_request(
    url: str, *, policy: FetchPolicy | None = None, resolver: DidResolver | None = None
) -> PresentationRequest:
    """Fetch and verify the request object a link points at."""
    client_id, request_uri = parse_link(url)
    scheme = (parse_qs(urlsplit(url.strip()).query).get("client_id_scheme") or [None])[0]
    did = _client_did(client_id, scheme)
    policy = policy if policy is not None else FetchPolicy()
    try:
        check_url(request_uri, policy)
        body = (
            Fetcher(policy, deadline=REQUEST_DEADLINE, max_bytes=256 * 1024)
            .get(request_uri, accept="application/oauth-authz-req+jwt")
            .body
        )
        token = body.decode("ascii").strip()
    except FetchError as exc:
        raise bad(exc.describe("the request object"), "request-unavailable") from None
    except UnicodeDecodeError:
        raise bad("the request object is not a JWT") from None
    resolver = resolver or DidResolver(policy=policy)
    try:
        header, claims = jose.parse(token, "request object")
        if header.get("typ") != "oauth-authz-req+jwt":
            raise bad(f"request object typ {header.get('typ')!r}")
        key = jose.method_key(resolver, header.get("kid"), did, "authentication", "request object")
        jose.verify(token, key, "request object")
    except VerificationError as exc:
        raise bad(f"the request object is not signed by {did}: {exc.detail}") from None
    if claims.get("client_id") != client_id:
        raise bad("the request object names another client_id than the link")
    if claims.get("response_type") != "vp_token" or claims.get("response_mode") != "direct_post":
        raise bad("only response_type=vp_token with response_mode=direct_post is answered")
    if not isinstance(claims.get("nonce"), str) or not isinstance(claims.get("response_uri"), str):
        raise bad("the request has no nonce or response_uri")
    if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < time.time():
        raise bad("the request has expired", "request-expired")
    return PresentationRequest(client_id, did, claims)


# -- matching --------------------------------------------------------------------------------------


def _at(value: Any, path: Sequence[Any]) -> list[Any]:
    """DCQL claims path: names, indices, or null for every element."""
    found = [value]
    for step in path:
        nxt = []
        for item in found:
            if step is None and isinstance(item, list):
                nxt.extend(item)
            elif (isinstance(step, int) and isinstance(item, list) and 0 <= step < len(item)) or (
                isinstance(step, str) and isinstance(item, Mapping) and step in item
            ):
                nxt.append(item[step])
        found = nxt
    return found


def _types(held: Held, claims: Mapping[str, Any]) -> set[str]:
    types = claims.get("type")
    types = types if isinstance(types, list) else [types]
    found = {t for t in types if isinstance(t, str)}
    if held.format == "ldp_vc":  # DCQL asks ldp_vc for expanded IRIs: ours expand simply
        from schemas.registry import VOCAB, credential_types

        known = credential_types()
        found |= {VOCAB + t for t in found if t in known}
        found.add("https://www.w3.org/2018/credentials#VerifiableCredential")
    return found


def query_matches(query: Mapping[str, Any], held: Held) -> bool:
    if query.get("format") != held.format and not (
        query.get("format") == "vc+sd-jwt" and held.format == "dc+sd-jwt"
    ):
        return False
    claims = held.claims()
    meta = query.get("meta") or {}
    if held.format == "dc+sd-jwt":
        if "vct_values" in meta and claims.get("vct") not in meta["vct_values"]:
            return False
    elif "type_values" in meta:
        have = _types(held, claims)
        if not any(set(option) <= have for option in meta["type_values"]):
            return False
    for claim in query.get("claims") or []:
        values = _at(claims, claim.get("path") or [])
        if not values:
            return False
        if "values" in claim and not any(v in claim["values"] for v in values):
            return False
    return True


def match_dcql(query: Mapping[str, Any], held: Sequence[Held]) -> dict[str, tuple[Held, Mapping]]:
    """Query id -> (credential, its query) for the first satisfiable option of every required
    credential set (or every query, without sets)."""
    queries = {q["id"]: q for q in query.get("credentials") or []}
    hits = {qid: next((h for h in held if query_matches(q, h)), None) for qid, q in queries.items()}
    chosen: dict[str, tuple[Held, Mapping]] = {}
    # Without credential sets, every query is required.
    sets = query.get("credential_sets") or [{"options": [list(queries)], "required": True}]
    for credential_set in sets:
        option = next((o for o in credential_set["options"] if all(hits.get(i) for i in o)), None)
        if option is None:
            if credential_set.get("required", True):
                raise bad(
                    "no credential in this wallet answers the request", "no-matching-credential"
                )
            continue
        for qid in option:
            chosen[qid] = (hits[qid], queries[qid])  # type: ignore[assignment]
    return chosen


# -- presenting ------------------------------------------------------------------------------------


def select_disclosures(
    payload: Mapping[str, Any], disclosures: Sequence[str], wanted: set[str] | None
) -> list[str]:
    """The disclosures to present: of the top-level claims in ``wanted`` (every one if None),
    and every disclosure nested in what is disclosed — never one whose parent stays hidden
    (the verifier refuses a disclosure it cannot place)."""
    by_digest = {sdjwt.digest(text): text for text in disclosures}
    chosen: list[str] = []

    def take(digest_value: Any) -> list[Any] | None:
        text = by_digest.get(digest_value) if isinstance(digest_value, str) else None
        if text is None:
            return None
        return json.loads(jose.b64url_decode(text))

    def walk(value: Any, top: bool) -> None:
        if isinstance(value, Mapping):
            for name, item in value.items():
                if name not in ("_sd", "_sd_alg"):
                    walk(item, False)
            for digest_value in value.get("_sd") or []:
                decoded = take(digest_value)
                if decoded is None or len(decoded) != 3:
                    continue
                if top and wanted is not None and decoded[1] not in wanted:
                    continue  # a top-level claim nobody asked for stays undisclosed
                chosen.append(by_digest[digest_value])
                walk(decoded[2], False)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping) and set(item) == {"..."}:
                    decoded = take(item["..."])
                    if decoded is not None and len(decoded) == 2:
                        chosen.append(by_digest[item["..."]])
                        walk(decoded[1], False)
                else:
                    walk(item, False)

    walk(payload, True)
    return chosen


def present_sdjwt(held: Held, query: Mapping[str, Any], *, nonce: str, audience: str) -> str:
    """The SD-JWT with the requested claims disclosed, and a KB-JWT over it."""
    if held.signer is None:
        raise bad("the wallet holds no key for this SD-JWT")
    sd = sdjwt.split(held.credential)
    _, payload = jose.parse(sd.issuer_jwt, "SD-JWT")
    wanted = {str((c.get("path") or [None])[0]) for c in query.get("claims") or []}
    chosen = select_disclosures(payload, sd.disclosures, wanted | sdjwt.REGISTERED)
    bound = sdjwt.SdJwt(sd.issuer_jwt, tuple(chosen), None).bound_part
    claims = {
        "iat": int(time.time()),
        "aud": audience,
        "nonce": nonce,
        "sd_hash": sdjwt.digest(bound),
    }
    return bound + held.signer(claims, {"typ": sdjwt.KB_TYPE})


def present_jwt_vp(credentials: Sequence[Held], *, nonce: str, audience: str) -> str:
    holder = credentials[0]
    if holder.signer is None or holder.holder is None:
        raise bad("the wallet holds no key for this credential")
    now = int(time.time())
    payload = {
        "iss": holder.holder,
        "aud": audience,
        "nonce": nonce,
        "iat": now,
        "exp": now + 300,
        "vp": {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiablePresentation"],
            "holder": holder.holder,
            "verifiableCredential": [c.credential for c in credentials],
        },
    }
    return holder.signer(payload, {"typ": "JWT"})


def jose_kid(did: str) -> str:
    if did.startswith("did:key:"):
        return f"{did}#{did.removeprefix('did:key:')}"
    return f"{did}#0"


def build_vp_token(
    request: PresentationRequest,
    held: Sequence[Held],
    *,
    sign_ldp: Callable[[list[Held], str, str], Any] | None = None,
) -> dict[str, list[Any]]:
    query = request.claims.get("dcql_query")
    if not isinstance(query, Mapping):
        raise bad("only DCQL requests are answered by this wallet (OpenID4VP 1.0)")
    token: dict[str, list[Any]] = {}
    for qid, (credential, q) in match_dcql(query, held).items():
        if credential.format == "dc+sd-jwt":
            token[qid] = [
                present_sdjwt(credential, q, nonce=request.nonce, audience=request.client_id)
            ]
        elif credential.format == "jwt_vc_json":
            token[qid] = [
                present_jwt_vp([credential], nonce=request.nonce, audience=request.client_id)
            ]
        else:
            if sign_ldp is None:
                raise bad("this wallet cannot sign an LD presentation here")
            token[qid] = [sign_ldp([credential], request.nonce, request.client_id)]
    return token


def post_response(
    request: PresentationRequest,
    vp_token: Mapping[str, Any] | str,
    *,
    policy: FetchPolicy | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    """``direct_post`` to the verifier (its answer is returned whatever its status)."""
    try:
        check_url(request.response_uri, policy if policy is not None else FetchPolicy())
    except FetchError:
        raise bad("the response_uri is not a URL this wallet may post to") from None
    body = {"vp_token": vp_token if isinstance(vp_token, str) else json.dumps(vp_token)}
    if request.state is not None:
        body["state"] = request.state
    return requests.post(request.response_uri, data=body, timeout=timeout, allow_redirects=False)


def answer(
    url: str,
    held: Sequence[Held],
    *,
    policy: FetchPolicy | None = None,
    sign_ldp: Callable[[list[Held], str, str], Any] | None = None,
) -> requests.Response:
    """Scan → request → matching → vp_token → direct_post."""
    request = fetch_request(url, policy=policy)
    vp_token = build_vp_token(request, held, sign_ldp=sign_ldp)
    return post_response(request, vp_token, policy=policy)


# -- the wallet service ------------------------------------------------------------------------

KIND = "oid4vp-presentation"  # the wallet's interaction kind for a login answered this way


def held_in_wallet(ctx, account, holder) -> list[Held]:
    """What the wallet user holds: SD-JWT VCs and VC-JWTs received over OpenID4VCI (the
    wallet's own records), and the W3C credentials in the holder agent; every key is the
    user's did:key in the agent."""
    from sqlalchemy import select

    from wallet import oid4vci
    from wallet.inbox import stored_credentials
    from wallet.models import DONE, Interaction

    did = account.did

    def signer(payload: dict[str, Any], header: dict[str, Any]) -> str:
        return holder.call(lambda c: c.sign_jwt(payload, did=did, headers=header))

    held: list[Held] = []
    with ctx.factory() as session:
        rows = session.scalars(
            select(Interaction).where(
                Interaction.user_id == account.id,
                Interaction.kind == oid4vci.KIND,
                Interaction.state == DONE,
            )
        ).all()
    for row in rows:
        fmt = (row.outcome or {}).get("format")
        if fmt in ("dc+sd-jwt", "jwt_vc_json"):
            held.append(Held(fmt, row.outcome["credential"], signer, did, row.record_id))
    for record in stored_credentials(holder):
        credential = record.get("cred_value")
        if isinstance(credential, dict):
            held.append(Held("ldp_vc", credential, signer, did, record.get("record_id")))
    return held


def answer_into_wallet(ctx, account, text: str) -> list[Any]:
    """Answer a login link with the wallet's credentials; the interaction records what was
    presented to whom and what the verifier said."""
    from uuid import uuid4

    from credgate.db import transaction, utcnow
    from wallet import accounts, presentations
    from wallet.models import DONE, FAILED, Interaction

    holder = accounts.holder(ctx, account)
    policy = ctx.links.policy if ctx.links else None
    request = fetch_request(text, policy=policy)

    def sign_ldp(credentials: list[Held], nonce: str, audience: str) -> Any:
        signed = presentations.prove(
            ctx,
            account,
            challenge=nonce,
            domain=audience,
            chosen=[str(c.record_id) for c in credentials],
        )
        return signed["presentation"]

    vp_token = build_vp_token(request, held_in_wallet(ctx, account, holder), sign_ldp=sign_ldp)
    presented = {
        qid: [str(p)[:64] if isinstance(p, str) else "ldp_vp" for p in items]
        for qid, items in vp_token.items()
    }
    try:
        response = post_response(request, vp_token, policy=policy)
        status, answer = response.status_code, _answer(response)
    except requests.RequestException as exc:
        status, answer = 0, {"detail": f"the verifier did not answer ({exc.__class__.__name__})"}
    state = DONE if status == 200 else FAILED
    detail = "presented over OpenID4VP" if state == DONE else str(answer.get("detail"))[:500]
    with transaction(ctx.factory) as session:
        row = Interaction(
            id=uuid4().hex,
            user_id=account.id,
            kind=KIND,
            record_id=uuid4().hex,
            state=state,
            counterparty=urlsplit(request.response_uri).netloc[:200],
            counterparty_did=request.did[:500],
            request={
                "client_id": request.client_id,
                "response_uri": request.response_uri,
                "queries": sorted(vp_token),
            },
            outcome={"status": status, "presented": presented, "answer": answer},
            detail=detail,
            updated_at=utcnow(),
        )
        session.add(row)
    return [row]


def _answer(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    return {k: body[k] for k in ("type", "title", "detail", "errors") if k in body}
