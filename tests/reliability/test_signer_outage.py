"""Revoke while the signer is dead: one revocation during an issuer-agent outage locks out only the
revoked holder.

Three holders hold Onboarding credentials of one authority (a tenant of the issuer agent), so
their status entries sit on one status list, which that agent signs. With the agent stopped
(``SIGSTOP``: it keeps its port and hangs, the harder case of a dead signer; a supervisor that
waits on the process does not see it), one credential is revoked. The revocation is acknowledged
and the revoked holder is denied at the gateway within a second, through the change feed; the
other holders keep getting 200 for several seconds, a new access token included; the revocation
service keeps serving the last signed list. Once the agent runs again (``SIGCONT``, the test's
own means) the list is published again with the bit set, without anyone asking for it.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import requests

from revocation.bitstring import bit_at, decode_list
from revocation.models import StatusListCredential
from tests.support.didcomm import connect
from tests.support.gateway_wallet import AgentWallet, Issued, issue_with_status
from tests.support.issuer_wallet import operator_headers
from tests.support.problems import PROBLEMS
from tests.support.status_entries import revoke_entry
from tests.support.waits import eventually

pytestmark = [pytest.mark.agents, pytest.mark.db]

HOLDERS = ("revoked", "first", "second")
KEEP_WORKING = 5.0  # seconds the other holders are tried while the signer is down
REPUBLISHED_WITHIN = 30.0  # the signing job retries with back-off of at most 5 s


@pytest.fixture(scope="module")
def world(suite, db, hub, settings, tenant):
    revocation = suite.servers["revocation"].url
    authority = tenant("issuer", "outage-authority")
    trust = settings.var_dir / "verifier" / "trust.json"
    trust.parent.mkdir(parents=True, exist_ok=True)
    trust.write_text(json.dumps({"onboarding_authority": authority.did, "companies": {}}))
    holders, issued = {}, {}
    for name in HOLDERS:
        holder = holders[name] = tenant("holder", f"outage-{name}")
        connection = connect(hub, authority, holder)[0]
        issued[name] = issue_with_status(
            db, hub, authority, holder, connection, "OnboardingCredential", revocation
        )
    assert len({i.status.list_id for i in issued.values()}) == 1, "one list for all three"
    return {
        "gateway": suite.servers["verifier"].url,
        "revocation": revocation,
        "operator": operator_headers(settings, db),
        "holders": holders,
        "issued": issued,
    }


def token(world, hub, name: str) -> dict[str, str]:
    gateway = world["gateway"]
    issued = requests.post(f"{gateway}/auth/challenge", timeout=10).json()
    vp = AgentWallet(hub, world["holders"][name]).prove(
        [world["issued"][name].credential], challenge=issued["challenge"], domain=issued["domain"]
    )
    response = requests.post(f"{gateway}/auth/token", json=vp, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def history(world, headers: dict[str, str]) -> requests.Response:
    return requests.get(
        f"{world['gateway']}/apps/marketplace/api/history", headers=headers, timeout=10
    )


def bit_set(body: dict, got: Issued) -> bool:
    encoded = body["credentialSubject"]["encodedList"]
    return bit_at(decode_list(encoded, "StatusList2021"), got.status.index)


def test_revoking_while_the_signer_is_down_locks_out_only_the_revoked_holder(suite, db, world, hub):
    revoked = world["issued"]["revoked"]
    list_url = revoked.status.list_url
    tokens = {name: token(world, hub, name) for name in HOLDERS}
    for name in HOLDERS:
        assert history(world, tokens[name]).status_code == 200
    before = requests.get(list_url, timeout=10)
    assert before.status_code == 200 and not bit_set(before.json(), revoked)

    agent = suite.agents["issuer"]
    os.killpg(agent.pid, signal.SIGSTOP)
    try:
        assert not agent.client().is_ready(timeout=1.0)  # the signer is really out
        began = time.monotonic()
        response = revoke_entry(
            world["revocation"],
            revoked.status.entry_id,
            world["operator"],
            "revoked while the signer is down",
        )
        assert response.json()["status"] == "revoked"
        seq = response.json()["seq"]

        denials: list[requests.Response] = []

        def revoked_denied() -> bool:
            denials.append(history(world, tokens["revoked"]))
            return denials[-1].status_code == 403

        acknowledged = time.monotonic()
        eventually(revoked_denied, 1.0, what="the revoked holder denied")
        print(
            f"\nrevoke acknowledged in {acknowledged - began:.3f} s; the holder denied "
            f"{time.monotonic() - acknowledged:.3f} s later, after {len(denials)} request(s)"
        )
        assert denials[-1].json()["type"] == PROBLEMS + "revoked"

        # Everyone else on the list keeps working, with the tokens they hold and new ones.
        fresh = token(world, hub, "second")
        until = time.monotonic() + KEEP_WORKING
        tried = 0
        while time.monotonic() < until:
            for headers in (tokens["first"], tokens["second"], fresh):
                answer = history(world, headers)
                assert answer.status_code == 200, answer.text
                tried += 1
            assert history(world, tokens["revoked"]).status_code == 403
            time.sleep(0.1)
        assert tried >= 15

        # The last signed list is still served: signed, unexpired, without the new bit.
        served = requests.get(list_url, timeout=10)
        assert served.status_code == 200, served.text
        assert served.headers["ETag"] == before.headers["ETag"]
        assert not bit_set(served.json(), revoked)
    finally:
        os.killpg(agent.pid, signal.SIGCONT)

    # The signer is back: the list is published again by itself (the signing job's retry, not a
    # request), the bit set.
    def republished() -> bool:
        with db() as session:
            stored = session.get(StatusListCredential, revoked.status.list_id)
            return stored is not None and stored.version >= seq

    eventually(republished, REPUBLISHED_WITHIN, what="the list published again")
    after = requests.get(list_url, timeout=15)
    assert after.status_code == 200 and bit_set(after.json(), revoked)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert suite.agents["verifier"].client().verify_credential(after.json())["verified"] is True
    assert history(world, tokens["revoked"]).status_code == 403
    assert history(world, tokens["first"]).status_code == 200
