"""OpenID for Verifiable Credential Issuance 1.0 beside DIDComm.

Every DIDComm exchange the issuer opens has an OpenID4VCI twin: a credential offer by reference
(``openid-credential-offer://?credential_offer_uri=...``) with the pre-authorized code grant and a
numeric ``tx_code`` shown on the page. Whichever protocol the wallet uses first takes the offer;
the other is then refused. The wallet proves possession of its key (``jwt`` proof type) and gets
the credential bound to that key, as SD-JWT VC (``dc+sd-jwt``, Token Status List), VC-JWT
(``jwt_vc_json``) or Data Integrity (``ldp_vc``). Signing keys stay in the issuer agent.

- :mod:`issuer.oid4vci.proofs`: key-proof checks (pure functions);
- :mod:`issuer.oid4vci.metadata`: credential configurations and the metadata documents;
- :mod:`issuer.oid4vci.grants`: offers, tokens and nonces (one table, keyed hashes);
- :mod:`issuer.oid4vci.issuance`: the credential endpoint's work, through issuance records.
"""
