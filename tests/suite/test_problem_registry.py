"""The registry of problem types is complete and its page current: every slug the code emits is
registered (found by reading the code's syntax trees, so an unregistered slug fails ``make test``
before any client sees it), and ``docs/problems.md`` is what the registry renders."""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from credgate.problem_types import ProblemType, markdown

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "credgate",
    "verifier",
    "gateway",
    "signin",
    "suite",
    "schemas",
    "agents",
    "issuer",
    "revocation",
    "kcit",
    "depute",
    "wallet",
    "apps",
)
REGISTERED = {t.slug for t in ProblemType}

#: What takes a problem slug, and at which positional index: the problem and error classes, and
#: the records that carry a slug on to one (a policy reason, a KCIT field error).
CARRIERS = {
    "Problem": 0,
    "DomainError": 0,
    "VerificationError": 0,
    "BodyRefused": 0,
    "Reason": 0,
    "FieldError": 1,
    "type_uri": 0,
}
SLUG_TEXT = re.compile(r"/problems/([a-z0-9-]+)")


def sources() -> Iterator[tuple[str, str]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


def _super_inits(tree: ast.AST) -> Iterator[ast.Call]:
    """``super().__init__(...)`` in classes derived from a problem class: where a subclass names
    its type (``class Oid4vciFailed(Problem)``)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = {getattr(base, "id", getattr(base, "attr", None)) for base in node.bases}
        if bases & set(CARRIERS):
            for call in ast.walk(node):
                func = call.func if isinstance(call, ast.Call) else None
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr == "__init__"
                    and isinstance(func.value, ast.Call)
                    and getattr(func.value.func, "id", None) == "super"
                ):
                    yield call


def slug_helpers(tree: ast.AST) -> dict[str, int | None]:
    """A module's functions with a ``slug`` parameter: its positional index, ``None`` if it is
    keyword-only (``bad_code(detail, *, slug=...)``)."""
    found: dict[str, int | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name != "__init__":
            positional = [a.arg for a in node.args.posonlyargs + node.args.args]
            positional = [name for name in positional if name not in ("self", "cls")]
            if "slug" in positional:
                found[node.name] = positional.index("slug")
            elif any(a.arg == "slug" for a in node.args.kwonlyargs):
                found[node.name] = None
    return found


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _tuple_heads(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = ("slug", ...)``, for ``Problem(*NAME)``."""
    heads = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple) and node.value.elts:
            head = _text(node.value.elts[0])
            for target in node.targets:
                if head and isinstance(target, ast.Name):
                    heads[target.id] = head
    return heads


def used_slugs(source: str) -> Iterator[tuple[int, str]]:
    """Every literal slug one module hands to a problem, error or slug-taking helper, with its
    line: positional or ``slug=``/``code=`` arguments, ``slug`` parameters' defaults, and
    ``.../problems/<slug>`` written out in a string."""
    tree = ast.parse(source)
    carriers = {**CARRIERS, **slug_helpers(tree)}
    heads = _tuple_heads(tree)
    for call in _super_inits(tree):
        if call.args and _text(call.args[0]):
            yield call.lineno, _text(call.args[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in carriers:
                continue
            index = carriers[name]
            if index is not None and len(node.args) > index:
                arg = node.args[index]
                if isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
                    slug = heads.get(arg.value.id)
                else:
                    slug = _text(arg)
                if slug:
                    yield node.lineno, slug
            for keyword in node.keywords:
                if keyword.arg in ("slug", "code") and _text(keyword.value):
                    yield node.lineno, _text(keyword.value)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args.posonlyargs + node.args.args
            defaulted = args[len(args) - len(node.args.defaults) :]
            pairs = list(zip(defaulted, node.args.defaults, strict=True))
            pairs += list(zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True))
            for arg, default in pairs:
                if arg.arg == "slug" and _text(default):
                    yield node.lineno, _text(default)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            for match in SLUG_TEXT.finditer(text):
                yield node.lineno, match.group(1)


def test_every_slug_the_code_uses_is_registered():
    unregistered = [
        f"{path}:{line}: {slug}"
        for path, source in sources()
        for line, slug in used_slugs(source)
        if slug not in REGISTERED
    ]
    assert not unregistered, "register these in credgate/problem_types.py:\n" + "\n".join(
        unregistered
    )


def test_the_scan_finds_what_it_must():
    """The scan is not vacuous: each way of naming a slug is found."""
    source = textwrap.dedent("""
        def refuse(detail, *, slug="kw-default"):
            return Problem(slug, "T", 400, detail)
        def _conflict(slug, title):
            return Problem(slug, title, 409)
        _TOO = ("starred", "T", 413)
        raise Problem("direct", "T", 400)
        raise DomainError("domain")
        raise VerificationError("verification", "d")
        refuse("d", slug="keyword")
        _conflict("helper", "T")
        raise Problem(*_TOO)
        errors.add("field", "field-error", "detail")
        FieldError("field", "record", "detail")
        BODY = b'{"type": "https://w3id.org/credgate/problems/written-out"}'
        class Refused(Problem):
            def __init__(self, detail):
                super().__init__("subclass", "T", 502, detail)
    """)
    found = {slug for _line, slug in used_slugs(source)}
    assert found >= {
        "kw-default",
        "starred",
        "direct",
        "domain",
        "verification",
        "keyword",
        "helper",
        "record",
        "written-out",
        "subclass",
    }


def test_slugs_named_as_constants_are_registered():
    """Slugs the code passes by name rather than as literals."""
    from gateway import enforce, requirements
    from kcit import validation
    from verifier import errors, pdp, trust_kcit

    named = set(errors.ALL)
    named |= {
        value
        for name, value in vars(pdp).items()
        if name.isupper() and isinstance(value, str) and value.islower()
    }
    named |= {requirements.COMPANY_ROLE_MISSING, requirements.NO_CREDENTIAL}
    named |= {trust_kcit.TRUST_UNAVAILABLE} | set(validation.TITLES) | set(enforce.TITLES)
    assert named - REGISTERED == set()


def test_the_registry_is_well_formed():
    assert len(ProblemType.__members__) == len(ProblemType), "two members share a slug"
    for entry in ProblemType:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.slug), entry
        assert 400 <= entry.status <= 599, entry
        assert entry.title.strip() and entry.meaning.strip(), entry
        assert "|" not in entry.title + entry.meaning, entry  # the docs page is a table


def test_the_problems_page_is_current():
    page = ROOT / "docs" / "problems.md"
    assert page.read_text(encoding="utf-8") == markdown(), (
        "docs/problems.md is out of date: python -m credgate.problem_types > docs/problems.md"
    )


@pytest.mark.parametrize("entry", [ProblemType.WALLET_NOT_FOUND, ProblemType.REVOKED])
def test_a_domain_error_answers_with_its_registered_status(entry):
    from flask import Flask

    from credgate.errors import DomainError
    from credgate.problems import register_problem_handlers

    app = Flask(__name__)
    register_problem_handlers(app)

    @app.get("/refuse")
    def refuse():
        raise DomainError(entry, "because", title=None, hint="x")

    response = app.test_client().get("/refuse")
    assert response.status_code == entry.status
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == {
        "type": entry.uri,
        "title": entry.title,
        "status": entry.status,
        "detail": "because",
        "hint": "x",
        "instance": "/refuse",
    }


def test_an_unregistered_slug_is_refused_at_once():
    from credgate.errors import DomainError

    with pytest.raises(ValueError):
        DomainError("no-such-problem-type")


def test_when_to_retry_is_the_retry_after_header():
    from credgate.errors import DomainError
    from credgate.problems import problem_of

    busy = problem_of(DomainError(ProblemType.STATUS_LIST_UNAVAILABLE, "signing", retry_after=2))
    assert (busy.status, busy.headers) == (503, {"Retry-After": "2"})
    assert "retry_after" not in busy.to_dict()
    assert problem_of(DomainError(ProblemType.WALLET_NOT_FOUND)).headers == {}
