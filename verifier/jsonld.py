"""JSON-LD to canonical N-Quads, fast and under a work budget, byte-identical to pyld.

Linked-data proofs sign the RDFC-1.0 canonical form of a document. pyld computes it correctly
but slowly: for every call it re-processes the same contexts (VCDM contexts are full of
type-scoped contexts that pyld's own cache misses), deep-copies the document, builds an expanded
form, a node map and a dict-per-term dataset. Profiling showed context processing and expansion
are three quarters of a verification.

So:

* :class:`_MemoProcessor` is pyld's processor with ``_process_context`` memoized on (active
  context, local context): the processed active contexts — pyld's own objects — are reused
  across calls. Contexts come only through :func:`schemas.loader.document_loader` (marked
  ``static`` so pyld's resolved-context cache applies too).
* :func:`_FastExpander` walks the JSON document once and emits quads directly, mirroring pyld's
  expansion and toRdf for the subset of JSON-LD that credentials use (terms, compact IRIs,
  ``@id``/``@vocab``/datatype coercion, ``@set``/``@list``/``@graph`` containers, scoped
  contexts, value objects). Anything else raises :class:`_Unsupported` and the document goes
  through pyld itself; so does every document the walk would refuse, so that refusals are
  pyld's too. The fast path is refused-or-identical to pyld: tests compare both paths on many
  documents, including presentations that carry several similarly shaped credentials, and a
  property-based differential test (tests/security/test_jsonld_differential.py).
* :mod:`verifier.rdfc` canonicalizes the quads under a work budget.

Strictness, both paths: a property or type that the contexts do not define would be silently
dropped from the signed graph, so it is an error (``undefined-term``), as are relative IRIs.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from hashlib import sha256
from typing import Any

from c14n.Canonicalize import canonicalize as json_canonicalize
from pyld.context_resolver import ContextResolver
from pyld.jsonld import (
    DEFAULT_BASE_IRI,
    RDF_FIRST,
    RDF_JSON_LITERAL,
    RDF_LANGSTRING,
    RDF_NIL,
    RDF_REST,
    RDF_TYPE,
    XSD_DOUBLE,
    XSD_STRING,
    JsonLdError,
    JsonLdProcessor,
    _is_absolute_iri,
    _is_keyword,
    _resolved_context_cache,
)

from schemas.loader import UnknownContextError, document_loader
from verifier import errors
from verifier.errors import VerificationError
from verifier.rdfc import Budget, BudgetExceeded, Quad, canonicalize, escape_literal

#: Memo entries kept before the memo is dropped and rebuilt (each is one processed context).
MEMO_LIMIT = 4096
IRI_MEMO_LIMIT = 65536
GRAPH_MEMO_LIMIT = 1024

# rdfDirection as the reference implementations (and the W3C vectors) use it: a value's
# direction becomes an i18n datatype instead of being dropped from the signed graph.
_BASE_OPTIONS = {
    "processingMode": "json-ld-1.1",
    "base": "",
    "extractAllScripts": True,
    "rdfDirection": "i18n-datatype",
}


class _Unsupported(Exception):
    """The fast path does not handle this construct; pyld will."""


class _Dropped(Exception):
    def __init__(self, term: str | None) -> None:
        super().__init__(term)
        self.term = term


def _refuse_dropped(term: str | None) -> None:
    raise _Dropped(term)


# -- contexts ---------------------------------------------------------------------------------


class _StaticLoader:
    """The frozen loader, with documents tagged ``static`` so pyld caches their resolution, and
    the identity of every object inside a bundled context remembered (only those are memo keys:
    an inline context from a request is processed afresh, as it may be mutated later)."""

    def __init__(self) -> None:
        self._loader = document_loader()
        self.bundled_ids: set[int] = set()
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, url: str, options: dict | None = None) -> dict[str, Any]:
        remote = self._loader(url, options)
        if url not in self._seen:
            with self._lock:
                self._remember(remote["document"])
                self._seen.add(url)
        return {**remote, "tag": "static"}

    def _remember(self, value: Any) -> None:
        if isinstance(value, dict):
            self.bundled_ids.add(id(value))
            for item in value.values():
                self._remember(item)
        elif isinstance(value, list):
            self.bundled_ids.add(id(value))
            for item in value:
                self._remember(item)


class _MemoProcessor(JsonLdProcessor):
    """pyld's processor whose context processing results are reused across documents."""

    def __init__(self, loader: _StaticLoader) -> None:
        super().__init__(on_property_dropped=_refuse_dropped)
        self.loader = loader
        self.memo: dict[tuple, tuple[Any, Any]] = {}
        self.iri_memo: dict[tuple, Any] = {}
        self.graph_memo: OrderedDict[tuple, tuple[str, tuple[Quad, ...]]] = OrderedDict()
        self._graph_lock = threading.Lock()

    def remember_graph(self, key: tuple, value: tuple[str, tuple[Quad, ...]]) -> None:
        with self._graph_lock:
            self.graph_memo[key] = value
            while len(self.graph_memo) > GRAPH_MEMO_LIMIT:
                self.graph_memo.popitem(last=False)

    def _local_key(self, local_ctx: Any) -> tuple | None:
        """A memo key for a local context: URLs by value, objects of a bundled context by
        identity (tagged, so a hit is only taken for that very object), anything else None."""
        if isinstance(local_ctx, str):
            return ("url", local_ctx)
        if isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
            return ("urls", *local_ctx)
        if id(local_ctx) in self.loader.bundled_ids:
            return ("bundled", id(local_ctx))
        return None

    def _process_context(
        self,
        active_ctx,
        local_ctx,
        options,
        override_protected=False,
        propagate=True,
        validate_scoped=True,
        cycles=None,
    ):
        local_key = self._local_key(local_ctx)
        uuid = active_ctx.get("_uuid") if isinstance(active_ctx, Mapping) else None
        if local_key is None or uuid is None:
            return super()._process_context(
                active_ctx,
                local_ctx,
                options,
                override_protected,
                propagate,
                validate_scoped,
                cycles,
            )
        key = (
            uuid,
            local_key,
            override_protected,
            propagate,
            validate_scoped,
            options.get("base"),
            options.get("processingMode"),
        )
        hit = self.memo.get(key)
        if hit is not None and (local_key[0] != "bundled" or hit[0] is local_ctx):
            return hit[1]
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()
            self.iri_memo.clear()
        # Keep local_ctx alive with the entry, so its id cannot be reused by another object.
        self.memo[key] = (local_ctx, result)
        return result

    def expand_iri(self, ctx, value: str, vocab: bool, base: str | None):
        """pyld's IRI expansion; terms and types (vocab-relative) are memoized, document IRIs
        (ids, which are new in every credential) are not."""
        uuid = ctx.get("_uuid")
        if uuid is None or not vocab:
            return self._expand_iri(ctx, value, vocab=vocab, base=base)
        if len(self.iri_memo) >= IRI_MEMO_LIMIT:
            self.iri_memo.clear()
        key = (uuid, value, vocab, base)
        try:
            return self.iri_memo[key]
        except KeyError:
            pass
        result = self._expand_iri(ctx, value, vocab=vocab, base=base)
        self.iri_memo[key] = result
        return result

    def options(self) -> dict[str, Any]:
        """Options for one operation (pyld wants a context resolver per operation)."""
        return {
            **_BASE_OPTIONS,
            "documentLoader": self.loader,
            "contextResolver": ContextResolver(_resolved_context_cache, self.loader),
        }


_processor_lock = threading.Lock()
_processor: _MemoProcessor | None = None


def processor() -> _MemoProcessor:
    """The process-wide memoizing processor (one memo shared by every request)."""
    global _processor
    if _processor is None:
        with _processor_lock:
            if _processor is None:
                _processor = _MemoProcessor(_StaticLoader())
    return _processor


# -- fast path --------------------------------------------------------------------------------


def _literal(value: str, datatype: str | None = None, language: str | None = None) -> str:
    text = '"' + escape_literal(value) + '"'
    if language is not None:
        return text + "@" + language
    if datatype is None or datatype == XSD_STRING:
        return text
    return text + "^^<" + datatype + ">"


def _typed_literal(value: str, datatype: str) -> str:
    if datatype in (XSD_DOUBLE, RDF_LANGSTRING):
        # pyld reformats a double, and writes a langString without a language as a plain string
        raise _Unsupported(f"string typed {datatype}")
    return _literal(value, datatype)


_LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")


def _language(tag: Any) -> str:
    if not isinstance(tag, str) or not _LANGUAGE_TAG.match(tag):
        raise _Unsupported("unusual language tag")
    return tag


class _FastExpander:
    """One document's walk; see the module docstring for what it covers."""

    def __init__(self, proc: _MemoProcessor) -> None:
        self.proc = proc
        self.options = proc.options()
        self.quads: set[Quad] = set()
        self.counter = 0
        self.labels: dict[str, str] = {}
        #: blank node labels of the document looked up so far (see graph_item)
        self.label_uses = 0

    # helpers mirroring pyld
    def bnode(self) -> str:
        self.counter += 1
        return f"_:f{self.counter}"

    def user_bnode(self, label: str) -> str:
        self.label_uses += 1
        found = self.labels.get(label)
        if found is None:
            found = self.labels[label] = self.bnode()
        return found

    def iri(self, ctx, value: str, vocab: bool, base: str | None) -> str:
        expanded = self.proc.expand_iri(ctx, value, vocab, base)
        if not isinstance(expanded, str) or _is_keyword(expanded):
            raise _Unsupported(f"keyword where an IRI belongs: {value!r}")
        if expanded.startswith("_:"):
            return self.user_bnode(expanded)
        if not _is_absolute_iri(expanded):
            raise _Unsupported("relative IRI")
        if expanded.startswith(DEFAULT_BASE_IRI):
            raise _relative(expanded, vocab)
        return "<" + expanded + ">"

    def process(self, ctx, local, **flags):
        return self.proc._process_context(ctx, local, self.options, **flags)

    @staticmethod
    def term_value(ctx, key, kind):
        return JsonLdProcessor.get_context_value(ctx, key, kind)

    # the walk
    def document(self, element: Any) -> None:
        if not isinstance(element, dict):
            raise _Unsupported("top level is not an object")
        initial = self.proc._get_initial_context(self.options)
        terms = self.element(initial, None, element, "", inside_list=False, top=True)
        if not terms:
            raise _Unsupported("top-level node without properties")

    def element(self, ctx, active_property, element, graph, inside_list, top=False) -> list[str]:
        """Object terms for ``element`` as the value of ``active_property``."""
        if element is None:
            return []
        if isinstance(element, list):
            container = JsonLdProcessor.arrayify(
                self.term_value(ctx, active_property, "@container")
            )
            inside_list = inside_list or "@list" in container
            out: list[str] = []
            for item in element:
                if isinstance(item, list):
                    raise _Unsupported("nested array")
                out.extend(self.element(ctx, active_property, item, graph, inside_list))
            return out
        if not isinstance(element, dict):
            if active_property is None:
                return []
            return [self.scalar(ctx, active_property, element)]
        return self.object(ctx, active_property, element, graph, inside_list, top)

    def scalar(self, ctx, active_property, value) -> str:
        expanded_property = self.proc.expand_iri(ctx, active_property, True, None)
        if expanded_property in ("@id", "@type", "@graph") or _is_keyword(expanded_property):
            raise _Unsupported("scalar under a keyword")
        coercion = self.term_value(ctx, active_property, "@type")
        if isinstance(value, str):
            if coercion == "@id":
                return self.iri(ctx, value, False, "")
            if coercion == "@vocab":
                return self.iri(ctx, value, True, "")
        if coercion is not None and coercion not in ("@id", "@vocab", "@none"):
            if coercion == "@json":
                raise _Unsupported("@json")
            if isinstance(value, str):
                return _typed_literal(value, coercion)
            raise _Unsupported("native literal")
        if isinstance(value, str):
            if self.term_value(ctx, active_property, "@direction") is not None:
                raise _Unsupported("@direction")
            language = self.term_value(ctx, active_property, "@language")
            if language is None:
                return _literal(value)
            return _literal(value, None, _language(language))
        # A native number or boolean next to an equal string would be two quads to pyld.
        raise _Unsupported("native literal")

    def object(
        self, ctx, active_property, element, graph, inside_list, top, node_only=False
    ) -> list[str]:
        proc = self.proc
        property_scoped = self.term_value(ctx, active_property, "@context")
        type_scoped_ctx = ctx if ctx.get("previousContext") else None
        must_revert = True
        if type_scoped_ctx and len(element) <= 2 and "@context" not in element:
            for key in sorted(element):
                expanded = proc.expand_iri(type_scoped_ctx, key, True, None)
                if expanded == "@value":
                    must_revert = False
                    ctx = type_scoped_ctx
                    break
                if expanded == "@id" and len(element) == 1:
                    must_revert = False
                    break
        if must_revert and "previousContext" in ctx:
            ctx = ctx["previousContext"]
        if property_scoped is not None:
            ctx = self.process(ctx, property_scoped, override_protected=True)

        # _prepare_nested_context
        if "@context" in element:
            local = element["@context"]
            if isinstance(local, dict) and len(local) == 1 and "@context" in local:
                raise _Unsupported("a context redefining @context")  # pyld refuses it
            ctx = self.process(ctx, local)
        type_scoped_ctx = ctx
        keys = sorted(element)
        expanded_keys = {}
        for key in keys:
            if key == "@context":
                continue
            expanded = proc.expand_iri(ctx, key, True, None)
            expanded_keys[key] = expanded
            if expanded == "@type":
                value = element[key]
                types = value if isinstance(value, list) else [value]
                for type_ in sorted(t for t in types if isinstance(t, str)):
                    scoped = self.term_value(type_scoped_ctx, type_, "@context")
                    if scoped is not None and scoped is not False:
                        ctx = self.process(ctx, scoped, propagate=False)
        # Keys expanded again under the type-scoped context, as pyld's _expand_object does.
        expanded_keys = {k: proc.expand_iri(ctx, k, True, None) for k in expanded_keys}
        keywords = [e for e in expanded_keys.values() if isinstance(e, str) and _is_keyword(e)]
        if len(keywords) != len(set(keywords)):
            # "@id" beside "id" and the like: pyld refuses colliding keywords (or merges @type)
            raise _Unsupported("two keys expand to one keyword")

        if "@value" in expanded_keys.values():
            if top or node_only:
                raise _Unsupported("top-level value")
            return [self.value_object(type_scoped_ctx, element, expanded_keys)]
        for expanded in expanded_keys.values():
            if expanded is None or not (_is_absolute_iri(expanded) or _is_keyword(expanded)):
                proc.on_property_dropped(expanded)
            if expanded.startswith("_:"):
                raise _Unsupported("blank node property")  # refused on the pyld path
            if _is_keyword(expanded) and expanded not in ("@id", "@type"):
                if expanded == "@list" and len(expanded_keys) == 1 and not (top or node_only):
                    return [self.list_object(ctx, active_property, element, expanded_keys, graph)]
                raise _Unsupported(f"keyword {expanded}")

        subject = None
        for key, expanded in expanded_keys.items():
            if expanded == "@id":
                value = element[key]
                if not isinstance(value, str):
                    raise _Unsupported("@id not a string")
                subject = self.iri(ctx, value, False, "")
        if top and len(expanded_keys) - (subject is not None) == 0:
            raise _Unsupported("free-floating node")
        if subject is None:
            subject = self.bnode()

        quads = self.quads
        for key, expanded in expanded_keys.items():
            value = element[key]
            if expanded == "@id":
                continue
            if expanded == "@type":
                if value is None or isinstance(value, dict):
                    raise _Unsupported("@type value")
                for type_ in value if isinstance(value, list) else [value]:
                    if not isinstance(type_, str):
                        raise _Unsupported("@type value")
                    type_term = self.iri(type_scoped_ctx, type_, True, "")
                    quads.add((subject, "<" + RDF_TYPE + ">", type_term, graph))
                continue
            definition = self.term_value(ctx, key, None)
            if definition is not None and (definition.get("reverse") or "@nest" in definition):
                raise _Unsupported("reverse or nested term")
            term_ctx = ctx
            scoped = self.term_value(ctx, key, "@context")
            if scoped is not None:
                term_ctx = self.process(ctx, scoped, propagate=True, override_protected=True)
            container = JsonLdProcessor.arrayify(self.term_value(ctx, key, "@container"))
            predicate = "<" + expanded + ">"
            if any(c in container for c in ("@language", "@index", "@id", "@type")):
                raise _Unsupported("map container")
            if self.term_value(ctx, key, "@type") == "@json":
                if "@list" in container or "@graph" in container:
                    raise _Unsupported("@json in a list or graph")
                json_text = json_canonicalize(value).decode("utf-8")
                quads.add((subject, predicate, _literal(json_text, RDF_JSON_LITERAL), graph))
                continue
            if "@graph" in container:
                if "@list" in container:
                    raise _Unsupported("graph list")
                for item in value if isinstance(value, list) else [value]:
                    if item is None:
                        continue
                    if not isinstance(item, dict):
                        raise _Unsupported("non-node in a graph container")
                    named = self.graph_item(term_ctx, key, item)
                    quads.add((subject, predicate, named, graph))
                continue
            if "@list" in container:
                if isinstance(value, dict) and any(
                    proc.expand_iri(term_ctx, k, True, None) == "@list" for k in value
                ):
                    raise _Unsupported("list object under a list container")
                items = value if isinstance(value, list) else [value]
                quads.add((subject, predicate, self.rdf_list(term_ctx, key, items, graph), graph))
                continue
            for obj in self.element(term_ctx, key, value, graph, False):
                quads.add((subject, predicate, obj, graph))
        return [subject]

    def graph_item(self, ctx, key, item) -> str:
        """Expand a node in a graph container (a credential in a presentation, a proof in a
        credential) into a graph of its own; returns the graph's blank node.

        The quads depend only on the active context, the property and the item's JSON, so they
        are memoized by those (blank nodes relabeled on reuse): a presentation of credentials
        seen before expands only its own envelope. Items that name blank nodes themselves are
        not memoized, since such a label may be shared with the rest of the document (also
        when the rest of the document named it first)."""
        uuid = ctx.get("_uuid")
        memo_key = None
        if uuid is not None:
            text = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            memo_key = (uuid, key, sha256(text.encode("utf-8", "surrogatepass")).digest())
            cached = self.proc.graph_memo.get(memo_key)
            if cached is not None:
                return self.replay(cached)
        outer_quads, outer_uses = self.quads, self.label_uses
        self.quads = set()
        named = self.bnode()
        try:
            self.object(ctx, key, item, named, False, False, node_only=True)
            inner = self.quads
        finally:
            # Restore the outer set itself: callers up the stack hold references to it.
            outer_quads.update(self.quads)
            self.quads = outer_quads
        if memo_key is not None and self.label_uses == outer_uses:
            self.proc.remember_graph(memo_key, (named, tuple(inner)))
        return named

    def replay(self, cached: tuple[str, tuple[Quad, ...]]) -> str:
        named, quads = cached
        fresh: dict[str, str] = {}

        def relabel(term: str) -> str:
            if not term.startswith("_:"):
                return term
            new = fresh.get(term)
            if new is None:
                new = fresh[term] = self.bnode()
            return new

        add = self.quads.add
        for s, p, o, g in quads:
            add((relabel(s), p, relabel(o), relabel(g)))
        return relabel(named)

    def value_object(self, ctx, element, expanded_keys) -> str:
        proc = self.proc
        value = datatype = language = None
        for key, expanded in expanded_keys.items():
            item = element[key]
            if expanded == "@value":
                value = item
            elif expanded == "@type":
                if not isinstance(item, str):
                    raise _Unsupported("value @type")
                datatype = proc.expand_iri(ctx, item, True, "")
                if datatype == "@json" or not isinstance(datatype, str):
                    raise _Unsupported("@json value")
                if not _is_absolute_iri(datatype) or datatype.startswith("_:"):
                    raise _Unsupported("bad datatype")
            elif expanded == "@language":
                if not isinstance(item, str):
                    raise _Unsupported("@language")
                language = _language(item).lower()
            else:
                raise _Unsupported(f"value object with {expanded}")
        if value is None or isinstance(value, (dict, list)):
            raise _Unsupported("null or structured @value")
        if language is not None:
            if datatype is not None or not isinstance(value, str):
                raise _Unsupported("language-tagged non-string")
            return _literal(value, RDF_LANGSTRING if datatype is None else datatype, language)
        if not isinstance(value, str):
            # Native numbers and booleans: pyld's formatting, and an equal string beside one
            # gives two quads there; leave both to pyld.
            raise _Unsupported("native literal")
        if datatype is None:
            return _literal(value)
        return _typed_literal(value, datatype)

    def list_object(self, ctx, active_property, element, expanded_keys, graph) -> str:
        (key,) = expanded_keys
        value = element[key]
        if value is None:
            raise _Unsupported("@list: null")  # pyld gives a blank node, not rdf:nil
        items = value if isinstance(value, list) else [value]
        return self.rdf_list(ctx, active_property, items, graph)

    def rdf_list(self, ctx, active_property, items, graph) -> str:
        objects: list[str] = []
        for item in items:
            if isinstance(item, list):
                raise _Unsupported("list of lists")
            if isinstance(item, dict) and any(
                self.proc.expand_iri(ctx, k, True, None) in ("@list", "@set") for k in item
            ):
                raise _Unsupported("nested list")
            produced = self.element(ctx, active_property, item, graph, True)
            objects.extend(produced)
        if not objects:
            return "<" + RDF_NIL + ">"
        head = node = self.bnode()
        for index, obj in enumerate(objects):
            self.quads.add((node, "<" + RDF_FIRST + ">", obj, graph))
            nxt = "<" + RDF_NIL + ">" if index == len(objects) - 1 else self.bnode()
            self.quads.add((node, "<" + RDF_REST + ">", nxt, graph))
            node = nxt
        return head


# -- pyld path --------------------------------------------------------------------------------


def _term(component: dict[str, Any]) -> str:
    kind = component["type"]
    if kind == "IRI":
        return "<" + component["value"] + ">"
    if kind == "blank node":
        return component["value"]
    datatype = component.get("datatype")
    if datatype == RDF_LANGSTRING:
        language = component.get("language")
        return '"' + escape_literal(component["value"]) + '"' + ("@" + language if language else "")
    return _literal(component["value"], datatype)


def _relative(iri: str, vocab: bool) -> VerificationError:
    relative = iri.removeprefix(DEFAULT_BASE_IRI)
    if vocab:
        return VerificationError(
            errors.UNDEFINED_TERM, f"{relative!r} is not defined by the document's contexts"
        )
    return VerificationError(errors.INVALID_JSONLD, f"relative IRI {relative!r}")


def _check_absolute(expanded: Any) -> None:
    """pyld silently drops triples with relative IRIs, or resolves them against its default
    base ``http://example.org/base/`` (an undefined type becomes a type under example.org); we
    refuse both."""
    if isinstance(expanded, list):
        for item in expanded:
            _check_absolute(item)
        return
    if not isinstance(expanded, dict):
        return
    if "@value" in expanded:
        return
    for key, value in expanded.items():
        if key.startswith("_:"):
            # toRdf drops a triple whose predicate is a blank node: unsigned data
            raise VerificationError(
                errors.UNDEFINED_TERM, f"property {key!r} is a blank node, not a defined term"
            )
        if key == "@id":
            ids = value if isinstance(value, list) else [value]
            for ident in ids:
                if isinstance(ident, str) and (
                    not _is_absolute_iri(ident) or ident.startswith(DEFAULT_BASE_IRI)
                ):
                    raise _relative(ident, vocab=False)
        elif key == "@type":
            for type_ in value if isinstance(value, list) else [value]:
                if isinstance(type_, str) and (
                    not _is_absolute_iri(type_) or type_.startswith(DEFAULT_BASE_IRI)
                ):
                    raise _relative(type_, vocab=True)
        else:
            _check_absolute(value)


def _pyld_quads(proc: _MemoProcessor, document: Mapping[str, Any]) -> list[Quad]:
    options = proc.options()
    _check_absolute(proc.expand(document, options))
    dataset = proc.to_rdf(document, {**options, "produceGeneralizedRdf": False})
    quads: list[Quad] = []
    for graph_name, triples in dataset.items():
        graph = (
            ""
            if graph_name == "@default"
            else (graph_name if graph_name.startswith("_:") else "<" + graph_name + ">")
        )
        for triple in triples:
            quads.append(
                (
                    _term(triple["subject"]),
                    _term(triple["predicate"]),
                    _term(triple["object"]),
                    graph,
                )
            )
    return quads


# -- API --------------------------------------------------------------------------------------


#: Datatype IRIs of directed strings under ``rdfDirection: 'i18n-datatype'``.
I18N_DATATYPE = "https://www.w3.org/ns/i18n#"


def has_direction(quads: list[Quad]) -> bool:
    """Whether a literal of ``quads`` carries a base direction (an i18n datatype): what a signer
    without ``rdfDirection`` (ACA-Py's) would sign differently from us and the reference
    libraries."""
    marker = "^^<" + I18N_DATATYPE
    return any(o.startswith('"') and marker in o for _s, _p, o, _g in quads)


def refused_construct(document: Any) -> str | None:
    """The construct for which :func:`canonize` refuses ``document`` with
    ``unsupported-jsonld`` by design, or None. None today: every construct the walk does not
    cover goes to pyld, whose answer is the reference by definition."""
    return None


def _unwrap(exc: BaseException) -> BaseException:
    """The root cause inside pyld's chain of wrapped JsonLdErrors."""
    seen = exc
    while True:
        if isinstance(seen, (_Dropped, UnknownContextError, BudgetExceeded)):
            return seen
        cause = seen.__cause__ or getattr(seen, "cause", None)
        if cause is None or cause is seen:
            return exc
        seen = cause


def _as_verification_error(exc: BaseException) -> VerificationError:
    root = _unwrap(exc)
    if isinstance(root, _Dropped):
        return VerificationError(
            errors.UNDEFINED_TERM,
            f"property {root.term!r} is not defined by the document's contexts",
        )
    if isinstance(root, UnknownContextError):
        return VerificationError(
            errors.UNKNOWN_CONTEXT, f"JSON-LD context {root.url!r} is not bundled", url=root.url
        )
    if isinstance(root, BudgetExceeded):
        return VerificationError(errors.HOSTILE_GRAPH, str(root))
    return VerificationError(errors.INVALID_JSONLD, f"JSON-LD processing failed: {exc}")


def to_quads(document: Mapping[str, Any], *, fast: bool = True) -> list[Quad]:
    """The RDF dataset of a JSON-LD document, as serialized-term quads (blank node labels are
    arbitrary). Raises :class:`VerificationError` (unknown-context, undefined-term,
    invalid-jsonld)."""
    proc = processor()
    try:
        if fast:
            expander = _FastExpander(proc)
            try:
                expander.document(document)
                return list(expander.quads)
            except RecursionError:
                raise
            except Exception:  # noqa: BLE001
                # Refusals too are pyld's to decide: whether a bad term or IRI even reaches
                # the graph depends on rules (free-floating nodes, @none, ...) the walk skips,
                # and pyld's context errors surface here as any exception.
                pass
        return _pyld_quads(proc, document)
    except VerificationError:
        raise
    except (JsonLdError, _Dropped, UnknownContextError) as exc:
        raise _as_verification_error(exc) from None
    except RecursionError:
        raise VerificationError(errors.HOSTILE_GRAPH, "document nested too deeply") from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        # pyld reports some malformed input only as a Python error
        raise VerificationError(
            errors.INVALID_JSONLD, f"JSON-LD processing failed: {exc}"
        ) from None


def canonize(
    document: Mapping[str, Any], budget: Budget | None = None, *, fast: bool = True
) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of ``document``, identical to
    ``pyld.jsonld.normalize(document, {"algorithm": "URDNA2015", ...})`` with the frozen loader,
    or a :class:`VerificationError` (``hostile-graph`` when the budget runs out)."""
    quads = to_quads(document, fast=fast)
    try:
        return canonicalize(quads, budget)
    except BudgetExceeded as exc:
        raise VerificationError(errors.HOSTILE_GRAPH, str(exc)) from None
    except UnicodeEncodeError:
        # a lone surrogate (JSON allows "\ud800") has no UTF-8 form to hash
        raise VerificationError(
            errors.INVALID_JSONLD, "a string is not valid Unicode (lone surrogate)"
        ) from None
