"""Compute finds the certificates the catalogue published with a flist through the software
registry (:mod:`apps.registry`), not by importing the catalogue: only where the catalogue is
mounted too (apps are independent of each other, an import-linter contract)."""

from __future__ import annotations

import secrets

import pytest

import apps.catalogue
import apps.compute
from apps.catalogue.models import CatalogueItem
from apps.compute.services import JobRequest, admit, digests
from credgate.db import transaction
from credgate.problems import Problem
from credgate.web import create_service_app, shutdown

pytestmark = pytest.mark.db

HOLDER = "did:key:z6MkcataloguePublisher"


def mounted(settings, db, tmp_path, *specs):
    """A Flask app with these apps set up as the gateway sets them up."""
    flask_app = create_service_app(
        "apps-probe",
        config={
            "CREDGATE_SETTINGS": settings,
            "DB_SESSION_FACTORY": db,
            "COMPUTE_STORE": tmp_path,
        },
    )
    for spec in specs:
        spec.setup(flask_app)
    return flask_app


def offered_to_the_verifier(flask_app, data: bytes) -> list[dict]:
    """The certificates compute hands the verifier for a job on ``data`` sent without one."""
    runtime = flask_app.extensions["apps.compute"]
    digest, _md5 = digests(data)
    runtime.path(digest).write_bytes(data)
    offered: list[dict] = []

    def verify(certificates):
        offered.extend(certificates)
        return ()  # nothing verifies: the job is refused, which is not what is tried here

    request = JobRequest(
        flist=digest, dataset="s3://probe", purpose="anonymisation", certificates=[]
    )
    with pytest.raises(Problem):
        admit(runtime, request, verify)
    return offered


def publish_flist(db, data: bytes) -> dict:
    digest, md5 = digests(data)
    certificate = {"id": f"urn:uuid:{secrets.token_hex(8)}", "credentialSubject": {"id": digest}}
    with transaction(db) as session:
        session.add(
            CatalogueItem(
                kind="flist",
                title="probe",
                owner=HOLDER,
                publisher=HOLDER,
                digest=digest,
                md5=md5,
                certificate=certificate,
            )
        )
    return certificate


def test_compute_is_offered_what_the_mounted_catalogue_published(settings, db, tmp_path):
    data = secrets.token_bytes(64)
    certificate = publish_flist(db, data)
    flask_app = mounted(settings, db, tmp_path, apps.catalogue.app, apps.compute.app)
    try:
        assert offered_to_the_verifier(flask_app, data) == [certificate]
    finally:
        shutdown(flask_app)


def test_without_the_catalogue_compute_is_offered_none_of_its_certificates(settings, db, tmp_path):
    data = secrets.token_bytes(64)
    publish_flist(db, data)
    flask_app = mounted(settings, db, tmp_path, apps.compute.app)
    try:
        assert offered_to_the_verifier(flask_app, data) == []
    finally:
        shutdown(flask_app)
