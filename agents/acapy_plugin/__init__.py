"""ACA-Py plugin: JSON-LD contexts come from credgate's bundle only (strict offline mode).

ACA-Py's own loader fetches any context it does not ship, synchronously and without a timeout,
inside its event loop. Loaded with ``--plugin agents.acapy_plugin``, this plugin replaces the
loader's HTTP(S) branch with :func:`schemas.loader.document_loader`, which refuses every URL it does
not bundle with an error naming that URL. DID URLs still go to ACA-Py's DID resolver.

ACA-Py binds its default loader after plugins are set up, so the replacement is bound when the
agent announces start-up, before its admin API reports ready.

It also makes ACA-Py reuse its marshmallow schemas (:mod:`agents.acapy_plugin.serde`), and adds
the ``eddsa-rdfc-2022`` cryptosuite to ACA-Py's Data Integrity API
(:mod:`agents.acapy_plugin.rdfc`).
"""

from __future__ import annotations

import logging
import re

from acapy_agent.config.injection_context import InjectionContext
from acapy_agent.core.event_bus import Event, EventBus
from acapy_agent.core.profile import Profile
from acapy_agent.core.util import STARTUP_EVENT_PATTERN
from acapy_agent.vc.ld_proofs.document_loader import DocumentLoader

from agents.acapy_plugin import rdfc, serde
from schemas.loader import document_loader

LOGGER = logging.getLogger(__name__)


class OfflineDocumentLoader(DocumentLoader):
    """ACA-Py's loader with the network replaced by the frozen bundle."""

    def __init__(self, profile: Profile, cache_ttl: int = 300) -> None:
        super().__init__(profile, cache_ttl)
        self.requests_loader = document_loader()
        self.online_request_loader = self.requests_loader

    def _load_http_document(self, url: str, options: dict):
        # Bundled contexts never change. Tagged "static", pyld keeps each one resolved and
        # processed across operations; untagged, it loads and re-processes every context for
        # every expansion, signature and verification (most of a DIDComm issuance's CPU).
        return {**self.requests_loader(url, options), "tag": "static"}


def bind_offline_loader(context: InjectionContext, profile: Profile) -> None:
    context.injector.bind_instance(DocumentLoader, OfflineDocumentLoader(profile))


async def _on_startup(profile: Profile, _event: Event) -> None:
    bind_offline_loader(profile.context, profile)
    LOGGER.info("credgate offline JSON-LD contexts active (strict)")


def _offline_http_document(self: DocumentLoader, url: str, options: dict):
    return {**document_loader()(url, options), "tag": "static"}


async def setup(context: InjectionContext) -> None:
    serde.install()
    rdfc.install()
    # Also every plain DocumentLoader, whatever context it was bound in: an agent restarted over
    # existing tenant wallets opens their profiles before start-up, and those keep ACA-Py's own
    # loader (which would fetch https://w3id.org/credgate/v1 from the network).
    DocumentLoader._load_http_document = _offline_http_document  # type: ignore[method-assign]
    bus = context.inject(EventBus)
    bus.subscribe(re.compile(STARTUP_EVENT_PATTERN.pattern), _on_startup)
