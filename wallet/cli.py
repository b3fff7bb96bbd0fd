"""``credgate wallet``: the holder's wallet from a terminal.

Every command talks to the running suite's wallet service (see :mod:`wallet.remote` for why):
create, list, show and delete wallets; scan a QR code (a link, a deep link, invitation JSON, or
a PNG/JPEG picture of the code) and decide on what it brings; list and show credentials with
their live status; sign a presentation over an API's challenge (`prove`); history; export and
import.

Decisions are asked interactively unless a flag makes them (for scripts): ``--accept``,
``--decline``, ``--trust-issuer``, ``--use <credential>``. Without a flag and without an answer
on standard input, an offer or request stays pending (``credgate wallet pending``, then
``accept`` / ``present`` / ``decline``). Declining a proof request, or having nothing that fits
it, tells the verifier at once, so its login page fails instead of waiting.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from wallet.remote import WalletAPI, WalletAPIError

IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
MAX_FILE = 6 * 1024 * 1024


class Context:
    def __init__(self, settings, url: str | None, token: str | None) -> None:
        self.settings = settings
        self.url = url
        self.token = token
        self._api: WalletAPI | None = None

    @property
    def api(self) -> WalletAPI:
        if self._api is None:
            self._api = _guard(lambda: WalletAPI.locate(self.settings, self.url, self.token))
        return self._api

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return _guard(lambda: self.api.call(method, path, **kwargs))

    def wallet_name(self, name: str | None) -> str:
        """The wallet to act on: the one named, or the only one there is."""
        if name:
            return name
        wallets = self.call("GET", "/wallets")["wallets"]
        if len(wallets) == 1:
            return wallets[0]["name"]
        if not wallets:
            raise click.ClickException("there is no wallet yet: `credgate wallet create NAME`")
        raise click.ClickException("several wallets exist: choose one with -w NAME")


def _guard(action):
    try:
        return action()
    except WalletAPIError as exc:
        raise click.ClickException(str(exc)) from None


def _path(name: str, *rest: str) -> str:
    return "/wallets/" + "/".join(quote(part, safe="") for part in (name, *rest))


wallet_option = click.option(
    "-w", "--wallet", "wallet", envvar="CREDGATE_WALLET", help="Wallet name (CREDGATE_WALLET)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the service's JSON.")


@click.group("wallet")
@click.option(
    "--url", envvar="CREDGATE_WALLET_URL", help="Wallet service URL (default: the suite's)."
)
@click.option("--token", envvar="CREDGATE_TOKEN", help="Operator API token (default: var/secrets).")
@click.pass_context
def wallet(ctx: click.Context, url: str | None, token: str | None) -> None:
    """The holder's wallet: scan QR codes, accept credentials, log in by presenting them."""
    ctx.obj = Context(ctx.obj, url, token)


# -- wallets -------------------------------------------------------------------------------------


@wallet.command()
@click.argument("name")
@click.option("--pin", help="PIN that opens the wallet's web screen (or set it later: `pin`).")
@json_option
@click.pass_obj
def create(obj: Context, name: str, pin: str | None, as_json: bool) -> None:
    """Create a wallet (a tenant on the holder agent with its own DID)."""
    body = obj.call("POST", "/wallets", json={"name": name, "pin": pin})
    if as_json:
        return _print_json(body)
    click.echo(f"wallet {body['name']} created; holder DID {body['did']}")


@wallet.command("list")
@json_option
@click.pass_obj
def list_wallets(obj: Context, as_json: bool) -> None:
    """List the wallets."""
    wallets = obj.call("GET", "/wallets")["wallets"]
    if as_json:
        return _print_json(wallets)
    if not wallets:
        click.echo("no wallets yet: `credgate wallet create NAME`")
    for item in wallets:
        pending = f"  ({item['pending']} pending)" if item["pending"] else ""
        click.echo(f"{item['name']:<20} {item['did']}{pending}")


@wallet.command()
@click.argument("name", required=False)
@json_option
@click.pass_obj
def show(obj: Context, name: str | None, as_json: bool) -> None:
    """Show a wallet: its DID, pending decisions, credentials."""
    name = obj.wallet_name(name)
    body = obj.call("GET", _path(name))
    if as_json:
        return _print_json(body)
    click.echo(f"wallet   {body['name']}")
    click.echo(f"DID      {body['did']}")
    click.echo(f"created  {body['created_at']}")
    click.echo(f"PIN      {'set' if body['has_pin'] else 'not set (`credgate wallet pin`)'}")
    click.echo(f"pending  {body['pending']}")


@wallet.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete(obj: Context, name: str, yes: bool) -> None:
    """Delete a wallet, its keys and its credentials."""
    if not yes:
        click.confirm(f"Delete wallet {name} with its keys and credentials?", abort=True)
    obj.call("DELETE", _path(name))
    click.echo(f"wallet {name} deleted")


@wallet.command()
@click.argument("name")
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True)
@click.pass_obj
def pin(obj: Context, name: str, pin: str) -> None:
    """Set the PIN that opens the wallet's web screen."""
    obj.call("PUT", _path(name, "pin"), json={"pin": pin})
    click.echo("PIN set")


# -- scanning and deciding ----------------------------------------------------------------------


@wallet.command()
@click.argument("source")
@wallet_option
@click.option("--accept", "decision", flag_value="accept", help="Accept / present without asking.")
@click.option("--decline", "decision", flag_value="decline", help="Decline without asking.")
@click.option("--trust-issuer", is_flag=True, help="Accept offers from an issuer not yet known.")
@click.option("--use", "use", multiple=True, help="Credential (record id) to present; repeatable.")
@click.option("--wait", type=float, help="Seconds to wait for offers after a connection.")
@click.option("--tx-code", help="The PIN shown beside an OpenID4VCI offer's QR code.")
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["dc+sd-jwt", "jwt_vc_json", "ldp_vc"]),
    help="OpenID4VCI: take only these formats (default: all offered); repeatable.",
)
@json_option
@click.pass_obj
def scan(
    obj: Context,
    source: str,
    wallet: str | None,
    decision: str | None,
    trust_issuer: bool,
    use: tuple[str, ...],
    wait: float | None,
    tx_code: str | None,
    formats: tuple[str, ...],
    as_json: bool,
) -> None:
    """Scan a QR code: a link (also openid-credential-offer:// and openid4vp://), invitation
    JSON, or a PNG/JPEG file of the code."""
    name = obj.wallet_name(wallet)
    body: dict[str, Any] = _scan_body(source)
    if wait is not None:
        body["wait"] = wait
    if tx_code is not None:
        body["tx_code"] = tx_code
    if formats:
        body["formats"] = list(formats)
    found = obj.call("POST", _path(name, "scan"), json=body)["interactions"]
    results = [
        _decide(obj, name, item, decision, trust_issuer, list(use), quiet=as_json) for item in found
    ]
    if as_json:
        _print_json(results)
    if any(item["state"] == "failed" for item in results):
        sys.exit(1)


def _scan_body(source: str) -> dict[str, Any]:
    path = Path(source)
    if len(source) < 4096 and path.is_file():
        data = path.read_bytes()[: MAX_FILE + 1]
        if len(data) > MAX_FILE:
            raise click.ClickException(f"{source} is too large for a QR-code picture")
        if data.startswith(IMAGE_MAGIC):
            return {"image": base64.b64encode(data).decode("ascii")}
        return {"text": data.decode("utf-8", errors="replace")}
    return {"text": source}


def _decide(
    obj: Context,
    name: str,
    item: dict[str, Any],
    decision: str | None,
    trust_issuer: bool,
    use: list[str],
    *,
    quiet: bool = False,
) -> dict[str, Any]:
    say = (lambda *_a, **_k: None) if quiet else click.echo
    if item["kind"] == "oid4vp-presentation":
        request, outcome = item.get("request") or {}, item.get("outcome") or {}
        if item["state"] == "done":
            say(
                f"presented {', '.join(request.get('queries') or [])} to "
                f"{item.get('counterparty')} over OpenID4VP"
            )
        else:
            say(
                f"the verifier refused: {item.get('detail')} "
                f"({', '.join((outcome.get('answer') or {}).get('errors') or [])})"
            )
        return item
    if item["kind"] == "oid4vci-credential":
        request = item.get("request") or {}
        say(
            f"received {request.get('configuration_id')} ({request.get('format')}) "
            f"from {item.get('counterparty_did')} over OpenID4VCI"
        )
        return item
    if item["kind"] == "connection":
        say(f"connected with {item['counterparty'] or 'an unnamed party'}; nothing offered yet")
        return item
    if item["state"] == "failed":
        _describe(say, item)
        who = "the verifier" if item["kind"] == "proof-request" else "the issuer"
        say(f"cannot answer: {item['detail']}; {who} was told")
        return item
    if item["state"] != "pending":
        say(f"{item['kind']} {item['id']} is {item['state']}")
        return item
    _describe(say, item)
    if item["kind"] == "credential-offer":
        return _decide_offer(obj, name, item, decision, trust_issuer, say)
    return _decide_request(obj, name, item, decision, use, say)


def _decide_offer(obj, name, item, decision, trust_issuer, say) -> dict[str, Any]:
    issuer = item["offer"]["issuer"]
    if decision is None:
        try:
            accepted = click.confirm("Accept this credential?", default=False)
            if accepted and not issuer["known"] and not trust_issuer:
                trust_issuer = click.confirm(
                    "You do not know this issuer. Trust it and accept?", default=False
                )
                accepted = trust_issuer
        except click.Abort:
            say(f"left pending: `credgate wallet accept {item['id']}` or `decline`")
            return item
        decision = "accept" if accepted else "decline"
    path = _path(name, "interactions", item["id"], decision)
    if decision == "decline":
        result = obj.call("POST", path, json={})
        say("offer declined")
        return result
    result = obj.call("POST", path, json={"trust_issuer": trust_issuer})
    types = ", ".join(item["offer"]["types"])
    say(f"stored {types} (credential {result['outcome'].get('record_id')})")
    return result


def _decide_request(obj, name, item, decision, use, say) -> dict[str, Any]:
    descriptors = item["proof_request"]["descriptors"]
    path = _path(name, "interactions", item["id"])
    if decision == "decline":
        result = obj.call("POST", path + "/decline", json={})
        say("declined; the verifier was told")
        return result
    chosen = list(use)
    if decision is None and not chosen:
        try:
            for descriptor in descriptors:
                candidates = descriptor["candidates"]
                if len(candidates) > 1:
                    number = click.prompt(
                        f"Which credential for {descriptor['name'] or descriptor['id']}?",
                        type=click.IntRange(1, len(candidates)),
                        default=1,
                    )
                    chosen.append(candidates[number - 1]["record_id"])
            share = click.confirm("Share?", default=False)
        except click.Abort:
            say(f"left pending: `credgate wallet present {item['id']}` or `decline`")
            return item
        if not share:
            result = obj.call("POST", path + "/decline", json={})
            say("declined; the verifier was told")
            return result
    try:
        result = obj.api.call("POST", path + "/present", json={"credentials": chosen})
    except WalletAPIError as exc:
        if exc.slug == "selection-required":
            raise click.ClickException(
                f"{exc.detail}: choose with --use <record id> (listed above)"
            ) from None
        raise click.ClickException(str(exc)) from None
    acknowledged = " and acknowledged" if result["outcome"].get("acknowledged") else ""
    say(f"presented{acknowledged}")
    return result


def _describe(say, item: dict[str, Any]) -> None:
    who = item["counterparty"] or "an unnamed party"
    if item["kind"] == "credential-offer":
        offer = item["offer"]
        say(f"{who} offers {', '.join(offer['types'])}  [{item['id']}]")
        say(f"  issuer {offer['issuer']['did']}")
        if offer["issuer"]["known"]:
            say(f"  known issuer: {offer['issuer']['reason']}")
        else:
            say(f"  WARNING unknown issuer: {offer['issuer']['reason']}")
        for key, value in (offer.get("claims") or {}).items():
            say(f"  {key}: {json.dumps(value) if not isinstance(value, str) else value}")
        return
    request = item["proof_request"]
    domain = f" ({request['domain']})" if request.get("domain") else ""
    say(f"{who}{domain} asks for {request.get('name') or 'credentials'}  [{item['id']}]")
    if request.get("purpose"):
        say(f"  why: {request['purpose']}")
    for descriptor in request.get("descriptors") or []:
        say(f"  {descriptor['name'] or descriptor['id']}: {descriptor.get('purpose') or ''}")
        for number, candidate in enumerate(descriptor["candidates"], start=1):
            status = candidate["status"]["status"]
            say(
                f"    {number}. {', '.join(candidate['types'])} from "
                f"{candidate['issuer_label'] or candidate['issuer']} "
                f"[{status}]  record {candidate['record_id']}"
            )


@wallet.command()
@wallet_option
@json_option
@click.pass_obj
def pending(obj: Context, wallet: str | None, as_json: bool) -> None:
    """Offers and proof requests waiting for a decision."""
    name = obj.wallet_name(wallet)
    items = obj.call("GET", _path(name, "interactions"), params={"pending": "1"})["interactions"]
    if as_json:
        return _print_json(items)
    if not items:
        click.echo("nothing pending")
    for item in items:
        _describe(click.echo, item)


@wallet.command()
@click.argument("interaction")
@wallet_option
@click.option("--trust-issuer", is_flag=True, help="Accept even if the issuer is not known yet.")
@click.pass_obj
def accept(obj: Context, interaction: str, wallet: str | None, trust_issuer: bool) -> None:
    """Accept a pending credential offer."""
    name = obj.wallet_name(wallet)
    path = _path(name, "interactions", interaction, "accept")
    result = obj.call("POST", path, json={"trust_issuer": trust_issuer})
    click.echo(f"stored (credential {result['outcome'].get('record_id')})")


@wallet.command()
@click.argument("interaction")
@wallet_option
@click.option("--use", "use", multiple=True, help="Credential (record id) to present; repeatable.")
@click.pass_obj
def present(obj: Context, interaction: str, wallet: str | None, use: tuple[str, ...]) -> None:
    """Answer a pending proof request."""
    name = obj.wallet_name(wallet)
    path = _path(name, "interactions", interaction, "present")
    result = obj.call("POST", path, json={"credentials": list(use)})
    click.echo("presented" + (" and acknowledged" if result["outcome"].get("acknowledged") else ""))


@wallet.command()
@click.argument("interaction")
@wallet_option
@click.option("--reason", help="Told to the other side.")
@click.pass_obj
def decline(obj: Context, interaction: str, wallet: str | None, reason: str | None) -> None:
    """Decline a pending offer or proof request."""
    name = obj.wallet_name(wallet)
    path = _path(name, "interactions", interaction, "decline")
    obj.call("POST", path, json={"reason": reason} if reason else {})
    click.echo("declined")


@wallet.command()
@wallet_option
@click.option("--challenge", required=True, help="The challenge the verifier handed out.")
@click.option(
    "--domain",
    help="The domain that came with the challenge; the token API and "
    "depute's sign-in refuse a presentation without it.",
)
@click.option(
    "--use",
    "use",
    multiple=True,
    help="Credential (record id) to present; repeatable (default: all about you).",
)
@click.option(
    "--proof-type",
    type=click.Choice(["Ed25519Signature2020", "Ed25519Signature2018"]),
    default="Ed25519Signature2020",
    show_default=True,
)
@json_option
@click.pass_obj
def prove(
    obj: Context,
    wallet: str | None,
    challenge: str,
    domain: str | None,
    use: tuple[str, ...],
    proof_type: str,
    as_json: bool,
) -> None:
    """Sign a presentation over an API's challenge (a token or sign-in); prints it as JSON."""
    name = obj.wallet_name(wallet)
    body = {
        "challenge": challenge,
        "domain": domain,
        "credentials": list(use),
        "proof_type": proof_type,
    }
    result = obj.call("POST", _path(name, "prove"), json=body)
    _print_json(result if as_json else result["presentation"])


# -- credentials and history --------------------------------------------------------------------


@wallet.command()
@wallet_option
@json_option
@click.pass_obj
def credentials(obj: Context, wallet: str | None, as_json: bool) -> None:
    """The wallet's credentials with their live status."""
    name = obj.wallet_name(wallet)
    items = obj.call("GET", _path(name, "credentials"))["credentials"]
    if as_json:
        return _print_json(items)
    if not items:
        click.echo("no credentials")
    for item in items:
        expires = f" until {item['expires']}" if item.get("expires") else ""
        click.echo(
            f"{item['status']['status']:<13} {', '.join(item['types'])} from "
            f"{item['issuer_label'] or item['issuer']}"
            f"{expires}\n              record {item['record_id']}  id {item['id']}"
        )


@wallet.command()
@click.argument("record")
@wallet_option
@json_option
@click.pass_obj
def credential(obj: Context, record: str, wallet: str | None, as_json: bool) -> None:
    """One credential (by record id or credential id), with its status."""
    name = obj.wallet_name(wallet)
    item = obj.call("GET", _path(name, "credentials", record))
    if as_json:
        return _print_json(item)
    status = item["status"]
    click.echo(
        f"{', '.join(item['types'])}: {status['status']}"
        + (f" ({status['detail']})" if status.get("detail") else "")
    )
    click.echo(json.dumps(item["credential"], indent=2))


@wallet.command()
@click.argument("record")
@wallet_option
@click.pass_obj
def forget(obj: Context, record: str, wallet: str | None) -> None:
    """Remove a credential from the wallet."""
    name = obj.wallet_name(wallet)
    obj.call("DELETE", _path(name, "credentials", record))
    click.echo("removed")


@wallet.command()
@wallet_option
@json_option
@click.pass_obj
def history(obj: Context, wallet: str | None, as_json: bool) -> None:
    """Everything this wallet was asked, and what it answered."""
    name = obj.wallet_name(wallet)
    items = obj.call("GET", _path(name, "interactions"))["interactions"]
    if as_json:
        return _print_json(items)
    for item in items:
        detail = f"  ({item['detail']})" if item.get("detail") else ""
        click.echo(
            f"{item['created_at'][:19]}  {item['kind']:<16} {item['state']:<9} "
            f"{item['counterparty'] or '-'}{detail}"
        )


@wallet.command()
@wallet_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File.")
@click.pass_obj
def export(obj: Context, wallet: str | None, output: str | None) -> None:
    """Export the wallet's credentials as JSON (stdout, or a file)."""
    name = obj.wallet_name(wallet)
    body = obj.call("GET", _path(name, "export"))
    text = json.dumps(body, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        click.echo(f"{len(body['credentials'])} credentials written to {output}")
    else:
        click.echo(text)


@wallet.command("import")
@click.argument("file", type=click.File("r"))
@wallet_option
@click.pass_obj
def import_(obj: Context, file, wallet: str | None) -> None:
    """Import credentials from an export (or a JSON list); each must verify."""
    name = obj.wallet_name(wallet)
    try:
        body = json.loads(file.read(MAX_FILE))
    except ValueError as exc:
        raise click.ClickException(f"not JSON: {exc}") from None
    result = obj.call("POST", _path(name, "import"), json=body)
    click.echo(
        f"imported {len(result['imported'])}, already there {len(result['skipped'])}, "
        f"rejected {len(result['rejected'])}"
    )
    for item in result["rejected"]:
        click.echo(f"  rejected #{item['index']} {item.get('id') or ''}: {item['reason']}")
    if result["rejected"]:
        sys.exit(1)


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))
