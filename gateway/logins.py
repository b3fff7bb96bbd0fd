"""QR login: pending → scanned → verified | failed | expired.

:meth:`LoginService.start` asks the verifier agent for a connectionless present-proof 2.0
request (DIF Presentation Exchange, a fresh single-use challenge) wrapped in an out-of-band
invitation, and records the login. The page shows a QR code of the short URL ``/i/<id>``; the
wallet fetching it (once) marks the login *scanned*.

The presentation arrives through the agent (its webhook, or a poll of its record when this worker
did not get the webhook) or is posted directly to ``/login/<id>/presentation`` by a wallet that
does not speak DIDComm. Either way the gateway verifies it itself — proofs, holder binding,
validity, status, trust and KCIT, the challenge spent once — and decides the portal's
definition before the login becomes *verified*. A problem report from the holder ends it as
*failed* with the holder's reason; the server ends it as *expired* when its time is up.

Every state lives in the database and changes by conditional UPDATE (one winner when two
workers race); an in-process condition only wakes this worker's event streams sooner.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient, AgentError
from agents.hub import WebhookEvent, WebhookHub, problem_report_reason
from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.hashing import hash_token
from credgate.notify import notifier_for
from credgate.problem_types import ProblemType
from credgate.problems import Problem
from gateway.audit import AuditLog, AuditRecord
from gateway.challenges import login_challenges
from gateway.grants import RETENTION, GrantStore, LoadedGrant, recheck
from gateway.models import Login
from gateway.portals import portal
from gateway.requirements import DefinitionName, evaluate
from schemas.presentation import presentation_definition
from verifier.challenges import bound_to
from verifier.engine import PresentationResult, Verifier

log = logging.getLogger(__name__)

PENDING, SCANNED, VERIFIED, FAILED, EXPIRED = "pending", "scanned", "verified", "failed", "expired"
OPEN = (PENDING, SCANNED)
TERMINAL = frozenset({VERIFIED, FAILED, EXPIRED})
MAX_REASON = 500
LOGINS_CHANNEL = "gateway.logins"


@dataclass(frozen=True)
class LoginView:
    id: str
    portal: str
    state: str
    version: int
    reason: str | None
    expires_at: datetime
    next_url: str | None
    grant_id: str | None
    holder: str | None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def to_json(self) -> dict[str, Any]:
        """What anyone holding the login id may see (not the holder: the id is on screen)."""
        return {
            "id": self.id,
            "portal": self.portal,
            "state": self.state,
            "reason": self.reason,
            "expires": self.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


@dataclass(frozen=True)
class StartedLogin:
    view: LoginView
    browser_secret: str
    invitation: dict[str, Any]


def _view(row: Login) -> LoginView:
    return LoginView(
        row.id,
        row.portal,
        row.state,
        row.version,
        row.reason,
        row.expires_at,
        row.next_url,
        row.grant_id,
        row.holder,
    )


def reason_of(result: PresentationResult) -> str:
    failures = [*result.errors, *(e for c in result.credentials for e in c.errors)]
    if not failures:
        return "the presentation did not verify"
    return "; ".join(f"{e.slug}: {e.detail}" for e in failures)[:MAX_REASON]


class LoginService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        agent: AdminClient | None,
        verifier: Verifier,
        grants: GrantStore,
        audit: AuditLog,
        *,
        domain: str,
        ttl: timedelta = timedelta(minutes=5),
        session_ttl: timedelta = timedelta(hours=8),
        agent_name: str = "verifier",
        label: str = "credgate gateway",
    ) -> None:
        self.factory = factory
        self.agent = agent
        self.verifier = verifier
        self.grants = grants
        self.audit = audit
        self.domain = domain
        self.ttl = ttl
        self.session_ttl = session_ttl
        self.agent_name = agent_name
        self.label = label
        self.notifier = notifier_for(factory)  # login state changes reach every node's streams
        self._work = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gateway-login")
        self._unsubscribe: list[Any] = []

    # -- wiring --------------------------------------------------------------------------------

    def follow(self, hub: WebhookHub) -> None:
        """Take the verifier agent's present-proof and problem-report webhooks from ``hub``."""
        self._unsubscribe = [
            hub.subscribe("present_proof_v2_0", self._on_event),
            hub.subscribe("problem_report", self._on_event),
        ]

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._work.shutdown(wait=False, cancel_futures=True)

    def _notify(self) -> None:
        self.notifier.publish(LOGINS_CHANNEL)

    @property
    def generation(self) -> int:
        return self.notifier.generation(LOGINS_CHANNEL)

    def wait_change(self, generation: int, timeout: float) -> None:
        self.notifier.wait(LOGINS_CHANNEL, generation, timeout)

    # -- start and scan ------------------------------------------------------------------------

    def start(
        self, portal_name: str, next_url: str | None = None, *, didcomm: bool = True
    ) -> StartedLogin:
        """A login of ``portal_name``: its challenge (also the OpenID4VP nonce), and, with
        ``didcomm``, the verifier agent's request for DIDComm wallets (an OpenID4VP-only login
        needs no agent)."""
        chosen = portal(portal_name)
        if didcomm and self.agent is None:
            raise DomainError(
                ProblemType.AGENT_UNAVAILABLE,
                "the gateway has no verifier agent",
                title="Wallet login unavailable",
            )
        issued = login_challenges(self.factory, chosen.name, self.ttl).issue(self.domain)
        request: dict[str, Any] = {}
        stored: dict[str, Any] = {}
        message: dict[str, Any] = {}
        if didcomm:
            assert self.agent is not None
            try:
                request = self.agent.create_presentation_request(
                    presentation_definition(chosen.name),
                    challenge=issued.challenge,
                    domain=self.domain,
                    comment=f"Log in: {chosen.title}",
                )
                invitation = self.agent.create_invitation(
                    label=self.label,
                    handshake=False,
                    attachments=[{"id": request["pres_ex_id"], "type": "present-proof"}],
                )
            except AgentError as exc:
                log.warning("verifier agent refused a login request: %s", exc)
                detail = "the verifier agent did not answer; try again"
                raise DomainError(
                    ProblemType.AGENT_UNAVAILABLE,
                    detail,
                    title="Wallet login unavailable",
                    retry_after=5,
                ) from None
            stored = {"message": invitation.message, "url": invitation.url}
            message = invitation.message
        # OpenID4VP's state: what a wallet's direct_post must echo (the login id is in the URL).
        stored["oid4vp_state"] = secrets.token_urlsafe(16)
        now = utcnow()
        browser_secret = secrets.token_urlsafe(32)
        row = Login(
            id=secrets.token_urlsafe(9),
            portal=chosen.name,
            state=PENDING,
            version=1,
            challenge=issued.challenge,
            domain=self.domain,
            pres_ex_id=request.get("pres_ex_id"),
            thread_id=request.get("thread_id"),
            invitation=stored,
            browser_hash=hash_token(browser_secret),
            next_url=next_url,
            created_at=now,
            expires_at=now + self.ttl,
        )
        with transaction(self.factory) as session:
            session.execute(delete(Login).where(Login.expires_at < now - RETENTION))
            session.add(row)
        return StartedLogin(_view(row), browser_secret, message)

    def scan(self, login_id: str) -> dict[str, Any]:
        """The invitation behind ``/i/<id>``: once, while the login is open."""
        if "message" not in self._row(login_id).invitation:
            raise DomainError(ProblemType.UNKNOWN_LOGIN, "this login offers no DIDComm invitation")
        return self.mark_scanned(login_id).invitation

    def mark_scanned(self, login_id: str) -> Login:
        """A wallet took the login's request (DIDComm invitation or OpenID4VP request object):
        once, while the login is open."""
        view = self.view(login_id)
        if view.state == EXPIRED:
            raise DomainError(ProblemType.LOGIN_EXPIRED, "reload the login page")
        changed = self._transition(
            login_id,
            (PENDING,),
            state=SCANNED,
            scanned_at=utcnow(),
            extra=(Login.scanned_at.is_(None),),
        )
        if not changed:
            raise DomainError(
                ProblemType.INVITATION_USED,
                "this QR code was already scanned; reload the login page",
            )
        return self._row(login_id)

    # -- state ---------------------------------------------------------------------------------

    def _row(self, login_id: str) -> Login:
        if not isinstance(login_id, str) or not 0 < len(login_id) <= 32:
            raise DomainError(ProblemType.UNKNOWN_LOGIN, "no such login")
        with self.factory() as session:
            row = session.get(Login, login_id)
        if row is None:
            raise DomainError(ProblemType.UNKNOWN_LOGIN, "no such login")
        return row

    def view(self, login_id: str, now: datetime | None = None) -> LoginView:
        """The login's state; an open login past its time becomes *expired* here (server-side)."""
        row = self._row(login_id)
        now = now or utcnow()
        if row.state in OPEN and row.expires_at <= now:
            self._transition(
                login_id, OPEN, state=EXPIRED, reason="the login expired", finished_at=now
            )
            row = self._row(login_id)
        return _view(row)

    def _transition(self, login_id: str, sources: tuple[str, ...], *, extra=(), **values) -> bool:
        with transaction(self.factory) as session:
            changed = session.execute(
                update(Login)
                .where(Login.id == login_id, Login.state.in_(sources), *extra)
                .values(version=Login.version + 1, **values)
            ).rowcount
        if changed:
            self._notify()
        return changed == 1

    def fail(self, login_id: str, reason: str) -> bool:
        return self._transition(
            login_id, OPEN, state=FAILED, reason=reason[:MAX_REASON], finished_at=utcnow()
        )

    # -- presentations -------------------------------------------------------------------------

    def submit(self, login_id: str, presentation: Any, *, via: str) -> LoginView:
        """Verify a presentation for the login and decide the portal's definition."""
        row = self.open_row(login_id)
        # This login's challenge only, spent from its portal's store: a challenge of the token
        # API, depute, another portal or another login is refused.
        verifier = bound_to(self.verifier, login_challenges(self.factory, row.portal, self.ttl))
        result = verifier.verify_presentation(
            presentation, challenge=row.challenge, domain=row.domain
        )
        return self.conclude(login_id, result, via=via)

    def open_row(self, login_id: str) -> Login:
        """The login, which must still be open for a presentation."""
        view = self.view(login_id)
        if view.state == EXPIRED:
            raise DomainError(ProblemType.LOGIN_EXPIRED, "the login expired")
        if view.terminal:
            raise DomainError(ProblemType.LOGIN_CLOSED, f"the login is {view.state}")
        return self._row(login_id)

    def conclude(self, login_id: str, result: PresentationResult, *, via: str) -> LoginView:
        """A verified (or refused) presentation decides the login: the portal's definition over
        its trusted credentials, then the grant; audited either way. Both protocols end here."""
        view = self.view(login_id)
        record = {
            "via": "login",
            "method": "POST",
            "route": f"/login/{view.portal}",
            "requirement": f"definition {view.portal}",
        }
        if not result.verified:
            reason = reason_of(result)
            self.audit.record(
                AuditRecord(
                    **record,
                    allow=False,
                    holder=result.holder,
                    reason=(result.error_types() or ["denied"])[0],
                    detail=f"{via}: {reason}",
                )
            )
            self.fail(login_id, reason)
            return self.view(login_id)
        decision = evaluate(DefinitionName(view.portal), result.credentials)
        if not decision.allow:
            reason = "; ".join(r.detail for r in decision.reasons)[:MAX_REASON]
            self.audit.record(
                AuditRecord(
                    **record,
                    allow=False,
                    holder=result.holder,
                    reason=decision.reasons[0].code,
                    detail=reason,
                )
            )
            self.fail(login_id, reason)
            return self.view(login_id)
        grant_id, _ = self.grants.create(
            result, kind="session", ttl=self.session_ttl, portal=view.portal
        )
        if self._transition(
            login_id,
            OPEN,
            state=VERIFIED,
            holder=result.holder,
            grant_id=grant_id,
            finished_at=utcnow(),
        ):
            self.audit.record(
                AuditRecord(
                    **record,
                    allow=True,
                    holder=result.holder,
                    credentials=list(decision.credentials),
                )
            )
        else:  # expired or failed meanwhile: the grant must not be usable
            self.grants.end(grant_id)
        return self.view(login_id)

    def _on_event(self, event: WebhookEvent) -> None:
        # Runs on the hub's thread: hand the work over, and never raise into the hub (its other
        # subscribers must still get the event).
        if event.agent != self.agent_name:
            return
        try:
            self._dispatch(event)
        except RuntimeError:  # the pool is shut down: this worker is stopping
            log.info("login webhook ignored: the gateway is stopping")

    def _dispatch(self, event: WebhookEvent) -> None:
        payload = event.payload
        if event.topic == "problem_report":
            thread = payload.get("~thread") or {}
            self._work.submit(self._report, thread.get("thid"), problem_report_reason(payload))
        elif payload.get("state") == "presentation-received":
            self._work.submit(self._from_agent, payload.get("pres_ex_id"))
        elif payload.get("state") == "abandoned":
            reason = str(payload.get("error_msg") or "the holder refused")
            self._work.submit(
                self._abandoned, payload.get("pres_ex_id"), reason.removeprefix("abandoned: ")
            )

    def _login_for(self, **where: Any) -> Login | None:
        key, value = next(iter(where.items()))
        if not value:
            return None
        with self.factory() as session:
            return session.scalar(select(Login).where(getattr(Login, key) == value))

    def _report(self, thread_id: str | None, reason: str) -> None:
        row = self._login_for(thread_id=thread_id)
        if row is not None:
            self.fail(row.id, f"the wallet refused: {reason}")

    def _abandoned(self, pres_ex_id: str | None, reason: str) -> None:
        row = self._login_for(pres_ex_id=pres_ex_id)
        if row is not None:
            self.fail(row.id, f"the wallet refused: {reason}")

    def _from_agent(self, pres_ex_id: str | None) -> None:
        row = self._login_for(pres_ex_id=pres_ex_id)
        if row is None or row.state not in OPEN or self.agent is None:
            return
        try:
            record = self.agent.presentation_exchange(pres_ex_id)
            presentation = ((record.get("by_format") or {}).get("pres") or {}).get("dif")
            if presentation is None:
                self.fail(row.id, "the wallet sent no DIF presentation")
            else:
                self.submit(row.id, presentation, via="didcomm")
        except DomainError as problem:
            log.info("login %s: %s", row.id, problem.detail)
        except AgentError as exc:
            log.warning("login %s: cannot read the presentation: %s", row.id, exc)
            self.fail(row.id, "the gateway could not read the presentation from its agent")
        except Exception:  # a worker thread must never die silently with the login open
            log.exception("login %s: verification crashed", row.id)
            self.fail(row.id, "the gateway could not verify the presentation")

    def poll_agent(self, login_id: str) -> None:
        """Catch up from the agent's record (a webhook that went to another worker, or none)."""
        row = self._row(login_id)
        if row.state not in OPEN or self.agent is None or row.pres_ex_id is None:
            return
        try:
            record = self.agent.presentation_exchange(row.pres_ex_id)
        except AgentError:
            return
        if record.get("state") == "presentation-received":
            self._from_agent(row.pres_ex_id)
        elif record.get("state") == "abandoned":
            reason = str(record.get("error_msg") or "the holder refused")
            self._abandoned(row.pres_ex_id, reason.removeprefix("abandoned: "))

    # -- sessions ------------------------------------------------------------------------------

    def claim(self, login_id: str, browser_secret: str | None) -> tuple[LoadedGrant, LoginView]:
        """Take a verified login's grant, once, for the browser that opened it (its session, or
        the code handed to another service)."""
        view = self.view(login_id)
        row = self._row(login_id)
        if not browser_secret or not hmac.compare_digest(
            row.browser_hash, hash_token(browser_secret)
        ):
            raise DomainError(
                ProblemType.LOGIN_NOT_YOURS,
                "finish the login in the browser that showed the QR code",
            )
        if view.state != VERIFIED or view.grant_id is None:
            raise DomainError(ProblemType.LOGIN_NOT_VERIFIED, f"the login is {view.state}")
        with transaction(self.factory) as session:
            claimed = session.execute(
                update(Login)
                .where(Login.id == login_id, Login.session_opened_at.is_(None))
                .values(session_opened_at=utcnow())
            ).rowcount
        grant = self.grants.get(view.grant_id)
        if not claimed or grant is None:
            raise DomainError(ProblemType.LOGIN_USED, "log in again")
        failing = [r for r in recheck(self.verifier, grant.credentials, utcnow()) if not r.verified]
        if failing:  # revoked between the scan and now
            self.grants.end(grant.id)
            raise Problem(
                failing[0].error_types()[0],
                "Credential no longer valid",
                403,
                failing[0].errors[0].detail,
            )
        return grant, view

    def open_session(self, login_id: str, browser_secret: str | None) -> tuple[str, LoginView]:
        """Turn a verified login into a browser session, once, for the browser that opened it."""
        grant, view = self.claim(login_id, browser_secret)
        secret = self.grants.attach_session(grant.id)
        if secret is None:
            raise DomainError(ProblemType.LOGIN_USED, "log in again")
        return secret, view
