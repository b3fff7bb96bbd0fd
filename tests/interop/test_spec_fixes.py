"""Where an independent wallet (Credo 0.6) showed us off the specifications, each fix pinned."""

from __future__ import annotations

from gateway.oid4vp import draft_definition

# The DIF Claim Format Registry's designations, the only format keys Presentation Exchange 2.0
# (format property of a presentation definition and its input descriptors) admits.
DIF_CLAIM_FORMATS = {
    "jwt",
    "jwt_vc",
    "jwt_vp",
    "jwt_vc_json",
    "jwt_vp_json",
    "ldp",
    "ldp_vc",
    "ldp_vp",
    "di",
    "di_vc",
    "di_vp",
    "vc+sd-jwt",
    "mso_mdoc",
    "ac_vc",
    "ac_vp",
}


def test_draft_presentation_definition_names_only_registered_claim_formats():
    definition = draft_definition("data-consumer")
    for descriptor in definition["input_descriptors"]:
        assert set(descriptor["format"]) <= DIF_CLAIM_FORMATS, descriptor["format"]
        assert "vc+sd-jwt" in descriptor["format"]  # SD-JWT still asked for, by its PE name
