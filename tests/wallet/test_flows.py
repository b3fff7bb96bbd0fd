"""The wallet driven as its user drives it: ``credgate wallet`` commands against a running wallet
service over the session's real holder agent, with an issuer tenant and the verifier agent on the
other side (their invitations behind short links, as the issuer and the gateway serve them).

* issuance: an out-of-band invitation with an attached offer, scanned and accepted; an offer from
  an issuer the wallet does not know needs the user's explicit trust;
* QR login: a connectionless DIF proof request, scanned from a PNG of its QR code and answered;
  several matching credentials are chosen between; declining, or having nothing that fits, makes
  the verifier's exchange fail within 2 s;
* live status, history, export and import, bad / expired / used QR codes.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid

import pytest
from click.testing import CliRunner

from suite.cli import cli
from tests.support.wallet import (
    TIMEOUT,
    credential_for,
    login_request,
    offer_link,
    png_of,
    verifier_outcome,
    wallet_runner,
)
from verifier.testing import Party, credgate_credential

pytestmark = [pytest.mark.agents, pytest.mark.db]


@pytest.fixture(scope="module")
def run(settings, service):
    """``credgate wallet ...`` against the module's wallet service (tests/wallet/conftest.py)."""
    return wallet_runner(settings.var_dir, service)


@pytest.fixture(scope="module")
def alice(run):
    code, out = run("create", "alice", "--pin", "4711")
    assert code == 0, out
    return out.split("holder DID ")[1].strip()


_indexes = iter(range(1, 10_000))


# -- tests -----------------------------------------------------------------------------------------


def test_create_list_show_and_the_did_stays(run, alice, service, settings, db):
    assert alice.startswith("did:key:z6Mk")
    code, out = run("list")
    assert code == 0 and "alice" in out and alice in out
    code, out = run("show", "alice", "--json")
    shown = json.loads(out)
    assert shown["did"] == alice and alice in shown["agent_dids"]
    code, out = run("create", "alice")
    assert code == 1 and "exists" in out

    # A restarted service (a new app, new tenant tokens) finds the same wallet and DID.
    from agents import tenants

    tenants._TOKENS.clear()
    code, out = run("show", "alice", "--json")
    assert json.loads(out)["did"] == alice and alice in json.loads(out)["agent_dids"]


def test_issuance_through_a_short_link_with_an_attached_offer(
    run, alice, authority, links, status_server, clock
):
    index = next(_indexes)
    credential = credential_for(
        authority, status=status_server.entry("wallet-revocation", index), legalName="Alice GmbH"
    )
    started = time.monotonic()
    code, out = run("scan", offer_link(links, authority, credential), "-w", "alice", "--accept")
    assert code == 0, out
    assert "Onboarding Authority offers OnboardingCredential" in out
    assert "known issuer: trusted by the data space" in out
    assert "stored OnboardingCredential" in out
    assert time.monotonic() - started < 10

    code, out = run("credentials", "-w", "alice", "--json")
    stored = {c["id"]: c for c in json.loads(out)}
    assert stored[credential["id"]]["status"]["status"] == "valid"
    assert stored[credential["id"]]["subject"] == alice  # bound late to the wallet's DID

    status_server.set("wallet-revocation", index)
    clock.advance(1.1)  # past the second the wallet caches a list for
    code, out = run("credentials", "-w", "alice")
    assert code == 0 and "revoked" in out and "OnboardingCredential" in out


def test_offer_from_an_unknown_issuer_needs_explicit_trust(run, alice, stranger, links):
    credential = credential_for(stranger, "RoleCredential")
    code, out = run("scan", offer_link(links, stranger, credential), "-w", "alice", "--accept")
    assert code == 1
    assert "WARNING unknown issuer" in out
    assert "Offer from an unknown issuer" in out and stranger.did in out

    code, out = run("pending", "-w", "alice", "--json")
    (pending,) = [p for p in json.loads(out) if p["counterparty_did"] == stranger.did]
    code, out = run("accept", pending["id"], "-w", "alice", "--trust-issuer")
    assert code == 0, out
    code, out = run("accept", pending["id"], "-w", "alice", "--trust-issuer")
    assert code == 1 and "already answered" in out

    # Known from now on: the next offer from it is accepted without asking for trust.
    again = credential_for(stranger, "RoleCredential")
    code, out = run("scan", offer_link(links, stranger, again), "-w", "alice", "--accept")
    assert code == 0 and "accepted credentials from this issuer before" in out, out


def test_declining_an_offer_keeps_nothing(run, alice, authority, links):
    credential = credential_for(authority)
    code, out = run("scan", offer_link(links, authority, credential), "-w", "alice", input="n\n")
    assert code == 0 and "offer declined" in out, out
    code, out = run("credentials", "-w", "alice", "--json")
    assert credential["id"] not in {c["id"] for c in json.loads(out)}


def test_qr_login_from_a_png_of_the_login_page(run, alice, authority, links, suite, tmp_path):
    role = credential_for(authority, "RoleCredential", roles=["DataConsumer"])
    assert run("scan", offer_link(links, authority, role), "-w", "alice", "--accept")[0] == 0

    pres_ex_id, link = login_request(suite, links)
    picture = tmp_path / "login.png"
    picture.write_bytes(png_of(link))
    since = suite.hub.last_seq
    started = time.monotonic()
    code, out = run("scan", str(picture), "-w", "alice", "--accept")
    assert code == 0, out
    assert "credgate gateway (gateway.credgate.test) asks for Data consumer portal" in out
    assert "presented" in out
    outcome = verifier_outcome(suite, pres_ex_id, since)
    assert outcome["state"] == "done" and outcome["verified"] == "true"
    assert time.monotonic() - started < 5


def test_choosing_between_matching_credentials(run, alice, authority, links, suite):
    second = credential_for(authority, "RoleCredential", roles=["DataConsumer", "DataProvider"])
    assert run("scan", offer_link(links, authority, second), "-w", "alice", "--accept")[0] == 0

    # A script that does not choose is told to.
    pres_ex_id, link = login_request(suite, links)
    code, out = run("scan", link, "-w", "alice", "--accept")
    assert code == 1 and "choose with --use" in out

    # Interactively: the second of the listed candidates, then "share".
    code, out = run("pending", "-w", "alice", "--json")
    (pending,) = [p for p in json.loads(out) if p["kind"] == "proof-request"]
    candidates = pending["proof_request"]["descriptors"][0]["candidates"]
    assert len(candidates) == 2
    since = suite.hub.last_seq
    code, out = run("present", pending["id"], "-w", "alice", "--use", candidates[1]["record_id"])
    assert code == 0, out
    outcome = verifier_outcome(suite, pres_ex_id, since)
    assert outcome["verified"] == "true"
    record = (
        suite.agents["verifier"].client().request("GET", f"/present-proof-2.0/records/{pres_ex_id}")
    )
    presented = record["by_format"]["pres"]["dif"]["verifiableCredential"]
    assert [c["id"] for c in presented] == [candidates[1]["id"]]

    pres_ex_id, link = login_request(suite, links)
    since = suite.hub.last_seq
    code, out = run("scan", link, "-w", "alice", input="1\ny\n")
    assert code == 0 and "Which credential" in out and "presented" in out, out
    assert verifier_outcome(suite, pres_ex_id, since)["verified"] == "true"


def test_declining_a_proof_request_fails_the_login_within_two_seconds(run, alice, links, suite):
    pres_ex_id, link = login_request(suite, links)
    code, out = run("scan", link, "-w", "alice", "--decline")
    assert code == 0 and "declined; the verifier was told" in out
    since_decline = time.monotonic()
    outcome = verifier_outcome(suite, pres_ex_id, 0, timeout=2.0)
    assert outcome["state"] == "abandoned" and "declined" in outcome["error_msg"]
    assert time.monotonic() - since_decline < 2.0


def test_nothing_to_present_tells_the_verifier(run, links, suite):
    assert run("create", "bob")[0] == 0
    pres_ex_id, link = login_request(suite, links, "company-access")
    started = time.monotonic()
    code, out = run("scan", link, "-w", "bob")
    assert code == 1
    assert "cannot answer: no credential in the wallet satisfies: Attorney credential" in out
    outcome = verifier_outcome(suite, pres_ex_id, 0, timeout=2.0)
    assert outcome["state"] == "abandoned"
    assert time.monotonic() - started < 5


def test_bad_expired_and_used_qr_codes(run, alice, authority, links, tmp_path):
    link = offer_link(links, authority, credential_for(authority))
    assert run("scan", link, "-w", "alice", "--decline")[0] == 0
    code, out = run("scan", link, "-w", "alice")
    assert code == 1 and "QR code already used" in out

    expired = offer_link(links, authority, credential_for(authority), ttl=0.0)
    code, out = run("scan", expired, "-w", "alice")
    assert code == 1 and "QR code expired" in out

    code, out = run("scan", f"{links.url}/i/nothing-here", "-w", "alice")
    assert code == 1 and "QR code not recognised" in out

    blank = tmp_path / "blank.png"
    blank.write_bytes(png_of("x")[:60])
    code, out = run("scan", str(blank), "-w", "alice")
    assert code == 1 and "Unreadable QR code" in out

    # A host the wallet's fetch policy does not list is never contacted.
    code, out = run("scan", "https://example.invalid.localhost/nothing", "-w", "alice")
    assert code == 1 and "Link not allowed" in out

    code, out = run("scan", "hello", "-w", "alice")
    assert code == 1 and "neither an invitation nor a web link" in out


def test_a_redirecting_short_link_and_a_deep_link(run, alice, authority, links):
    # Short link -> redirect to the agent's ?oob= URL (what a phone's browser would get).
    offer = credential_for(authority)
    first = offer_link(links, authority, offer)
    invitation = links.links[first.rsplit("/", 1)[1]]["invitation"]
    import base64

    encoded = base64.urlsafe_b64encode(json.dumps(invitation).encode()).decode().rstrip("=")
    links.links[first.rsplit("/", 1)[1]]["redirect"] = f"http://127.0.0.1:9/?oob={encoded}"
    code, out = run("scan", first, "-w", "alice", "--decline")
    assert code == 0 and "offer declined" in out, out

    deep = credential_for(authority)
    link = offer_link(links, authority, deep)
    message = links.links[link.rsplit("/", 1)[1]]["invitation"]
    encoded = base64.urlsafe_b64encode(json.dumps(message).encode()).decode().rstrip("=")
    code, out = run("scan", f"didcomm://invite?oob={encoded}", "-w", "alice", "--decline")
    assert code == 0 and "offer declined" in out, out


def test_history_export_and_import(run, alice, authority, links, tmp_path):
    kept, refused = credential_for(authority), credential_for(authority)
    assert run("scan", offer_link(links, authority, kept), "-w", "alice", "--accept")[0] == 0
    assert run("scan", offer_link(links, authority, refused), "-w", "alice", "--decline")[0] == 0
    code, out = run("history", "-w", "alice")
    assert code == 0
    assert re.search(r"credential-offer +done +Onboarding Authority", out), out
    assert re.search(r"credential-offer +declined +Onboarding Authority +\(declined by the", out)

    exported = tmp_path / "alice.json"
    code, out = run("export", "-w", "alice", "-o", str(exported))
    assert code == 0, out
    body = json.loads(exported.read_text())
    assert body["did"] == alice and kept["id"] in {c["id"] for c in body["credentials"]}

    assert run("create", "carol")[0] == 0
    tampered = json.loads(json.dumps(body["credentials"][0]))
    tampered["credentialSubject"]["legalName"] = "Somebody Else"
    tampered["id"] = f"urn:uuid:{uuid.uuid4()}"
    body["credentials"].append(tampered)
    exported.write_text(json.dumps(body))
    code, out = run("import", str(exported), "-w", "carol")
    assert code == 1
    assert f"imported {len(body['credentials']) - 1}, already there 0, rejected 1" in out
    code, out = run("import", str(exported), "-w", "carol")
    assert f"imported 0, already there {len(body['credentials']) - 1}, rejected 1" in out
    code, out = run("credentials", "-w", "carol", "--json")
    assert {c["id"] for c in json.loads(out)} == {c["id"] for c in body["credentials"][:-1]}

    gone = body["credentials"][0]["id"]
    assert run("forget", gone, "-w", "carol")[0] == 0
    code, out = run("credential", gone, "-w", "carol")
    assert code == 1 and "Credential not found" in out


def test_delete_a_wallet(run):
    assert run("create", "dave")[0] == 0
    code, out = run("delete", "dave", "--yes")
    assert code == 0 and "deleted" in out
    code, out = run("show", "dave")
    assert code == 1 and "Wallet not found" in out
    assert run("create", "dave")[0] == 0  # the name is free again, with a new tenant


def test_offer_over_a_connection(run, alice, authority, suite):
    """A connection invitation (several credentials, or an issuer that connects first): the
    offer comes over the connection once it is up, and the scan picks it up."""
    hub = suite.hub
    invitation = authority.client.create_invitation(label="Onboarding Authority")
    credential = credential_for(authority, "RoleCredential", roles=["ModelProvider"])

    def issuer_side():
        event = hub.wait_for(
            lambda e: (
                e.topic == "connections"
                and e.wallet_id == authority.wallet_id
                and e.payload.get("invitation_msg_id") == invitation.invi_msg_id
                and e.payload.get("state") in ("active", "completed")
            ),
            timeout=TIMEOUT,
        )
        options = {"proofType": "Ed25519Signature2020", "proofPurpose": "assertionMethod"}
        authority.client.send_ld_proof_offer(event.payload["connection_id"], credential, options)

    thread = threading.Thread(target=issuer_side, daemon=True)
    thread.start()
    encoded = invitation.url.split("oob=", 1)[1]
    code, out = run(
        "scan",
        f"{invitation.url.split('?', 1)[0]}?oob={encoded}",
        "-w",
        "alice",
        "--accept",
        "--wait",
        "10",
    )
    thread.join(TIMEOUT)
    assert code == 0, out
    assert "Onboarding Authority offers RoleCredential" in out and "stored RoleCredential" in out


def test_live_status_of_imported_credentials(run, status_server, tmp_path):
    """Expired, suspended, and a status list that cannot be had, for credentials a holder
    brings along (signed elsewhere: the import verifies each)."""
    holder = run("create", "erin")[1].split("holder DID ")[1].strip()
    other = Party.generate()
    index = next(_indexes)
    # The suspension list is the issuer's own: a list signed by anyone else would not count.
    status_server.add_list("erin-suspension", other, "suspension")
    credentials = {
        "expired": credgate_credential(
            "OnboardingCredential", other, holder, valid_until="2025-06-01T00:00:00Z"
        ),
        "suspended": credgate_credential(
            "AttorneyCredential",
            other,
            holder,
            status=status_server.entry("erin-suspension", index),
        ),
        "unknown": credgate_credential(
            "RoleCredential",
            other,
            holder,
            status={
                **status_server.entry("wallet-revocation", 1),
                "statusListCredential": "http://127.0.0.1:9/status/gone",
            },
        ),
        "valid": credgate_credential("RoleCredential", other, holder),
    }
    status_server.set("erin-suspension", index)
    path = tmp_path / "import.json"
    path.write_text(json.dumps(list(credentials.values())))
    code, out = run("import", str(path), "-w", "erin")
    assert code == 0 and "imported 4" in out, out
    code, out = run("credentials", "-w", "erin", "--json")
    status = {c["id"]: c["status"]["status"] for c in json.loads(out)}
    assert {name: status[c["id"]] for name, c in credentials.items()} == {
        "expired": "expired",
        "suspended": "suspended",
        "unknown": "unknown",
        "valid": "valid",
    }
    code, out = run("credential", credentials["suspended"]["id"], "-w", "erin")
    assert code == 0 and "AttorneyCredential: suspended (suspended by its issuer)" in out


def test_the_cli_finds_the_running_suite_by_itself(settings, suite):
    """No --url: the state file of the running suite names its wallet service."""
    result = CliRunner().invoke(cli, ["--var", str(settings.var_dir), "wallet", "list"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        cli, ["--var", str(settings.var_dir), "wallet", "--token", "wrong", "list"]
    )
    assert result.exit_code == 1 and "Invalid API token" in result.output


def test_a_decision_cut_off_by_a_stop_is_settled_later(run, alice, authority, links, db):
    """A service stopped mid-accept leaves the interaction "working"; the next look at the
    wallet finds the agent's record still waiting and offers the decision again."""
    from datetime import timedelta

    from sqlalchemy import update

    from credgate.db import transaction, utcnow
    from wallet.models import Interaction

    credential = credential_for(authority)
    code, out = run("scan", offer_link(links, authority, credential), "-w", "alice", input="")
    assert code == 0 and "left pending" in out, out
    interaction_id = out.split("left pending: `credgate wallet accept ")[1].split("`")[0]
    with transaction(db) as session:
        session.execute(
            update(Interaction)
            .where(Interaction.id == interaction_id)
            .values(state="working", updated_at=utcnow() - timedelta(hours=1))
        )
    code, out = run("pending", "-w", "alice", "--json")
    (again,) = [p for p in json.loads(out) if p["id"] == interaction_id]
    assert again["state"] == "pending" and again["detail"] == "interrupted; decide again"
    code, out = run("accept", interaction_id, "-w", "alice")
    assert code == 0, out


def test_wrong_pins_lock_the_phone_screen(run, service):
    import re

    import requests

    assert run("create", "henry", "--pin", "1357")[0] == 0
    session = requests.Session()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', session.get(f"{service}/wallet/", timeout=5).text
    ).group(1)

    def attempt(pin: str) -> requests.Response:
        form = {"name": "henry", "pin": pin, "csrf_token": token}
        return session.post(f"{service}/wallet/open", data=form, timeout=5, allow_redirects=False)

    assert [attempt("0000").status_code for _ in range(5)] == [401] * 5
    locked = attempt("1357")  # even the right PIN waits now
    assert locked.status_code == 429 and "Too many wrong PINs" in locked.text
