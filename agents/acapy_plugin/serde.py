"""Reused marshmallow schemas for ACA-Py's models (a CPU saving, same results).

ACA-Py builds a new schema instance for every ``serialize``/``deserialize`` of every message and
record: marshmallow deep-copies each declared field and, lazily, every nested schema. Measured
with ``bench/issue.py`` this was about a fifth of both agents' CPU per DIDComm issuance. Here each
(schema class, ``unknown``) pair keeps a pool of built instances: a call takes one (or builds
one when all are busy: a hook that (de)serializes the same model again, another thread) and
puts it back afterwards, so no instance is ever used by two calls at once.

Marshmallow schemas hold no per-call state, with one exception in ACA-Py: an
``AgentMessageSchema`` collects a message's decorators in ``self._decorators`` while loading and
hands that very object to the message. A reused instance must start each load with a new set, or
every message it loads would share (and pile up) decorators; :func:`install` resets it.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from acapy_agent.messaging.agent_message import AgentMessageSchema
from acapy_agent.messaging.decorators.default import DecoratorSet
from acapy_agent.messaging.models.base import (
    BaseModel,
    BaseModelError,
    resolve_meta_property,
)
from acapy_agent.protocols.issue_credential.v2_0.formats.ld_proof import handler as ld_proof
from acapy_agent.version import __version__ as acapy_version
from marshmallow import EXCLUDE, ValidationError

LOGGER = logging.getLogger(__name__)

# The replacements below are 1.7's own method bodies with a pooled schema; a later release may
# change those bodies, so it runs unpatched until this is checked against it.
SUPPORTED = "1.7."

_pools: dict[tuple[type, str], list] = {}


def _take(schema_cls: type, unknown: str | None):
    unknown = unknown or resolve_meta_property(schema_cls, "unknown", EXCLUDE)
    pool = _pools.setdefault((schema_cls, unknown), [])
    try:
        return pool, pool.pop()
    except IndexError:
        return pool, schema_cls(unknown=unknown)


def deserialize(cls, obj, *, unknown: str | None = None, none2none: bool = False):
    """:meth:`BaseModel.deserialize`, with a pooled schema."""
    if obj is None and none2none:
        return None
    pool, schema = _take(cls._get_schema_class(), unknown)
    try:
        return schema.loads(obj) if isinstance(obj, str) else schema.load(obj)
    except (AttributeError, ValidationError) as err:
        LOGGER.exception(f"{cls.__name__} message validation error:")
        raise BaseModelError(f"{cls.__name__} schema validation failed") from err
    finally:
        pool.append(schema)


def serialize(self, *, as_string: bool = False, unknown: str | None = None) -> Any:
    """:meth:`BaseModel.serialize`, with a pooled schema."""
    pool, schema = _take(self._get_schema_class(), unknown)
    try:
        return schema.dumps(self, separators=(",", ":")) if as_string else schema.dump(self)
    except (AttributeError, ValidationError, TypeError) as err:
        LOGGER.exception(f"{self.__class__.__name__} message serialization error:")
        raise BaseModelError(f"{self.__class__.__name__} schema validation failed") from err
    finally:
        pool.append(schema)


def validate_ld_proof_fields(cls, message_type: str, attachment_data) -> None:
    """:meth:`LDProofCredFormatHandler.validate_fields` (run on every offer, request and
    credential, sent or received), with a pooled schema."""
    schema_cls = {
        ld_proof.CRED_20_PROPOSAL: ld_proof.LDProofVCDetailSchema,
        ld_proof.CRED_20_OFFER: ld_proof.LDProofVCDetailSchema,
        ld_proof.CRED_20_REQUEST: ld_proof.LDProofVCDetailSchema,
        ld_proof.CRED_20_ISSUE: ld_proof.VerifiableCredentialSchema,
    }[message_type]
    pool, schema = _take(schema_cls, EXCLUDE)
    try:
        schema.load(attachment_data)
    finally:
        pool.append(schema)


def install() -> None:
    """Swap the pooled versions in, once; only on the ACA-Py release whose methods they copy."""
    if getattr(BaseModel.deserialize, "__func__", None) is deserialize:
        return
    if not acapy_version.startswith(SUPPORTED):
        LOGGER.warning(
            "acapy-agent %s: schema pooling is written for %s.x, not installed",
            acapy_version,
            SUPPORTED,
        )
        return
    extract = AgentMessageSchema.extract_decorators

    # wraps() keeps the hook mark, which schema classes defined later look for.
    @functools.wraps(extract)
    def extract_decorators(self, data, **kwargs):
        self._decorators = DecoratorSet()  # each loaded message gets its own decorators
        return extract(self, data, **kwargs)

    # Classes defined earlier call their hooks by attribute name: they get the replacement too.
    AgentMessageSchema.extract_decorators = extract_decorators
    BaseModel.deserialize = classmethod(deserialize)
    BaseModel.serialize = serialize
    ld_proof.LDProofCredFormatHandler.validate_fields = classmethod(validate_ld_proof_fields)
