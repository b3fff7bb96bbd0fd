"""The wallet's pure parts: reading what was scanned, reading QR pictures, and choosing what to
present (with the workarounds ACA-Py's holder needs)."""

from __future__ import annotations

import base64
import io
import json

import pytest
import qrcode
from PIL import Image

from credgate.errors import DomainError
from credgate.problems import problem_of
from schemas.presentation import presentation_definition
from wallet import invitations, matching
from wallet.qrimage import QRImageError, decode_qr

SERVICE = [
    {
        "id": "#inline",
        "type": "did-communication",
        "recipientKeys": ["did:key:z6Mk"],
        "serviceEndpoint": "http://127.0.0.1:9",
    }
]


def oob(**extra) -> dict:
    message = {
        "@type": "https://didcomm.org/out-of-band/1.1/invitation",
        "@id": "inv-1",
        "label": "Issuer",
        "services": SERVICE,
    }
    return message | extra


def offer_attachment(thread: str, *, as_base64: bool = False) -> dict:
    message = {"@type": "https://didcomm.org/issue-credential/2.0/offer-credential", "@id": thread}
    if as_base64:
        return {"data": {"base64": base64.b64encode(json.dumps(message).encode()).decode()}}
    return {"data": {"json": message}}


def encoded(message: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(message).encode()).decode().rstrip("=")


def slug(excinfo) -> str:
    return excinfo.value.slug


def test_invitation_from_json_url_and_deep_link():
    message = oob(**{"requests~attach": [offer_attachment("t-1")]})
    for text in (
        json.dumps(message),
        f"http://127.0.0.1:9/?oob={encoded(message)}",
        f"didcomm://invite?oob={encoded(message)}",
    ):
        scanned = invitations.resolve(text)
        assert scanned.message == message and scanned.label == "Issuer"
        assert [(a.kind, a.thread_id) for a in scanned.attachments()] == [
            ("credential-offer", "t-1")
        ]
    base64_attached = oob(**{"requests~attach": [offer_attachment("t-2", as_base64=True)]})
    assert invitations.resolve(json.dumps(base64_attached)).attachments()[0].thread_id == "t-2"
    assert invitations.resolve(json.dumps(oob(handshake_protocols=["x"]))).handshake


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "bad-qr-code"),
        ("just words", "bad-qr-code"),
        ("{not json", "bad-qr-code"),
        ('{"@type": "https://didcomm.org/connections/1.0/invitation"}', "bad-qr-code"),
        (json.dumps(oob()), "bad-qr-code"),  # asks for nothing
        (json.dumps(oob(services=[])), "bad-qr-code"),
        ("http://127.0.0.1:9/?c_i=abc", "unsupported-invitation"),
        ("http://127.0.0.1:9/?oob=%%%", "bad-qr-code"),
        ("x" * 70_000, "bad-qr-code"),
    ],
)
def test_what_is_not_an_invitation(text, expected):
    with pytest.raises(DomainError) as excinfo:
        invitations.resolve(text)
    assert slug(excinfo) == expected and problem_of(excinfo.value).status == 400


def test_unknown_attachment_is_refused():
    message = oob(**{"requests~attach": [{"data": {"json": {"@type": "https://x/y/1.0/z"}}}]})
    with pytest.raises(DomainError) as excinfo:
        invitations.resolve(json.dumps(message)).attachments()
    assert slug(excinfo) == "unsupported-invitation"


def test_qr_pictures():
    image = qrcode.make("http://127.0.0.1:9/i/abc")
    png, jpeg = io.BytesIO(), io.BytesIO()
    image.save(png, format="PNG")
    Image.open(io.BytesIO(png.getvalue())).convert("RGB").save(jpeg, format="JPEG")
    assert decode_qr(png.getvalue()) == decode_qr(jpeg.getvalue()) == "http://127.0.0.1:9/i/abc"
    blank = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(blank, format="PNG")
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    for data, message in [
        (b"", "empty"),
        (b"not an image", "not a PNG or JPEG"),
        (gif.getvalue(), "not a PNG or JPEG"),
        (png.getvalue()[:80], "cannot be read"),
        (blank.getvalue(), "no QR code"),
        (b"\x89PNG" + b"0" * (5 * 1024 * 1024), "larger than"),
    ]:
        with pytest.raises(QRImageError, match=message):
            decode_qr(data)


def stored(
    record_id: str, roles: list[str], *, subject="did:key:z6MkA", proof="Ed25519Signature2020"
):
    return {
        "record_id": record_id,
        "subject_ids": [subject],
        "proof_types": [proof],
        "expanded_types": ["https://w3id.org/credgate/vocab#RoleCredential"],
        "cred_value": {
            "@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/credgate/v1"],
            "id": f"urn:uuid:{record_id}",
            "type": ["VerifiableCredential", "RoleCredential"],
            "credentialSubject": {"id": subject, "roles": roles},
        },
    }


def test_choosing_credentials_for_a_definition():
    definition = presentation_definition("data-consumer")
    descriptor = definition["input_descriptors"][0]["id"]
    records = [stored("a", ["DataConsumer"]), stored("b", ["DataProvider"])]
    found = matching.candidates(definition, records)
    assert [r["record_id"] for r in found[descriptor]] == ["a"]
    assert matching.select(definition, found, None) == {descriptor: ["a"]}

    records.append(stored("c", ["DataConsumer", "ModelProvider"]))
    found = matching.candidates(definition, records)
    with pytest.raises(DomainError) as excinfo:
        matching.select(definition, found, [])
    assert slug(excinfo) == "selection-required"
    assert excinfo.value.extra["choices"][0]["candidates"] == ["a", "c"]
    assert matching.select(definition, found, ["c"]) == {descriptor: ["c"]}
    with pytest.raises(DomainError) as excinfo:
        matching.select(definition, found, ["b"])
    assert slug(excinfo) == "invalid-selection"

    assert matching.unsatisfied(presentation_definition("company-access"), {}) == [
        "Attorney credential"
    ]


def test_presentation_spec_works_around_the_acapy_holder():
    definition = presentation_definition("data-consumer")
    descriptor = definition["input_descriptors"][0]["id"]
    records = [stored("a", ["DataConsumer"])]
    spec = matching.presentation_spec(definition, {descriptor: ["a"]}, records)["dif"]
    assert spec["record_ids"] == {descriptor: ["a"]}
    answer = spec["presentation_definition"]
    assert answer["id"] == definition["id"]  # the verifier's definition, not a new one
    assert answer["format"]["ldp_vp"]["proof_type"] == ["Ed25519Signature2020"]
    schemas = {s["uri"]: s.get("required") for s in answer["input_descriptors"][0]["schema"]}
    assert schemas == {
        "https://w3id.org/credgate/vocab#RoleCredential": None,
        "https://w3id.org/credgate/v1": False,
    }
    assert "format" not in definition  # the verifier's definition itself is left untouched

    two = [stored("a", ["DataConsumer"]), stored("b", ["DataConsumer"], subject="did:key:z6MkB")]
    with pytest.raises(DomainError) as excinfo:
        matching.presentation_spec(definition, {descriptor: ["a", "b"]}, two)
    assert slug(excinfo) == "mixed-subjects"
