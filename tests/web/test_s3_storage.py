"""The application on an S3 blob store (moto's S3 API server, reached through boto3): a whole filing
and approval story keeps its uploads and its signed result in the bucket and serves them back through
the API; a store that stops answering makes the health check say so and an upload answer 503 with a
message in both languages, committing nothing."""
from __future__ import annotations

import io

import pytest

from tests.conftest import S3_BUCKET, S3Server
from tests.web.test_access_and_errors import assert_error
from tests.web.test_lifecycle_api import PDF, birth_form
from tests.web.test_signed_results import approved_birth

pytestmark = pytest.mark.database


def _key(prefix: str, digest: str) -> str:
    return f"{prefix}/sha256/{digest[:2]}/{digest[2:4]}/{digest}"


class TestOnABucket:
    @pytest.fixture
    def config(self, config, s3_settings):
        return {**config, **s3_settings}

    def test_a_filed_and_approved_dossier_keeps_its_files_in_the_bucket_and_serves_them(
            self, demo, api_as, services, settings, s3_server, client):
        assert services.blobs.kind == "s3"
        wife = demo["scenarios"]["married_couple"]["wife"]
        d = approved_birth(demo, api_as)
        [result] = d["results"]
        assert result["status"] == "valid"
        raw = s3_server.client()
        in_bucket = raw.get_object(Bucket=S3_BUCKET, Key=_key(settings.s3_prefix.rstrip("/"), result["sha256"]))
        signed = in_bucket["Body"].read()
        assert signed.startswith(b"%PDF")
        pdf = api_as(wife).get(f"/api/v1/results/{result['id']}/pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert pdf.data == signed  # served from the bucket
        assert services.verification.verify_document(pdf.data).valid

        [upload] = [doc for doc in api_as(wife).get(f"/api/v1/dossiers/{d['id']}").get_json()["documents"]
                    if doc["requirement"] == "medical_birth_notice"]
        stored = raw.get_object(Bucket=S3_BUCKET, Key=_key(settings.s3_prefix.rstrip("/"), upload["sha256"]))
        assert stored["Body"].read() == PDF
        download = api_as("clerk").get(f"/api/v1/dossiers/{d['id']}/documents/{upload['id']}")
        assert download.status_code == 200 and download.data == PDF
        assert not (settings.data_dir / "blobs" / "sha256").exists()  # nothing kept on the local disk
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.get_json() == {"status": "ok", "checks": {"database": "ok", "blob_store": "ok"}}

    def test_a_signed_result_damaged_in_the_bucket_is_refused_not_served(self, demo, api_as, settings, s3_server):
        wife = demo["scenarios"]["married_couple"]["wife"]
        [result] = approved_birth(demo, api_as)["results"]
        key = _key(settings.s3_prefix.rstrip("/"), result["sha256"])
        s3_server.client().put_object(Bucket=S3_BUCKET, Key=key, Body=b"%PDF-1.7 forged")
        body = assert_error(api_as(wife).get(f"/api/v1/results/{result['id']}/pdf"), 500, "stored_file_damaged")
        assert "SHA-256" in body["message"] and " / " in body["message"]


class TestWhenTheStoreStops:
    @pytest.fixture
    def own_server(self):
        server = S3Server()  # its own, to be stopped by the test
        server.client().create_bucket(Bucket="outage")
        yield server
        server.stop()

    @pytest.fixture
    def config(self, config, own_server):
        return {**config, **own_server.settings("outage", "")}

    def test_health_says_unavailable_and_an_upload_answers_503_committing_nothing(self, demo, api_as, client,
                                                                                   own_server, services):
        couple = demo["scenarios"]["married_couple"]
        citizen = api_as(couple["wife"])
        d = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration",
                                                   "data": birth_form(couple)}).get_json()
        first = citizen.post(f"/api/v1/dossiers/{d['id']}/documents", content_type="multipart/form-data",
                             data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "gcs.pdf")})
        assert first.status_code == 201
        [uploaded] = [doc for doc in first.get_json()["documents"] if doc["requirement"] == "medical_birth_notice"]

        own_server.stop()
        health = client.get("/healthz")
        assert health.status_code == 503 and health.mimetype == "application/json"
        body = health.get_json()  # the error body, with the report beside it
        assert (body["error"], body["fields"]) == ("unavailable", {})
        assert body["status"] == "unavailable" and body["checks"] == {"database": "ok", "blob_store": "unavailable"}
        assert body["message"] == "Không truy cập được: kho lưu trữ tệp / unavailable: blob store"

        other = PDF.replace(b"%PDF-1.7", b"%PDF-1.7\n% another copy", 1)
        refused = citizen.post(f"/api/v1/dossiers/{d['id']}/documents", content_type="multipart/form-data",
                               data={"requirement": "medical_birth_notice", "file": (io.BytesIO(other), "gcs2.pdf")})
        body = assert_error(refused, 503, "storage_unavailable")
        assert body["message"].startswith("Kho lưu trữ tệp") and "the file store is unavailable" in body["message"]
        assert refused.headers["Retry-After"].isdigit()
        after = citizen.get(f"/api/v1/dossiers/{d['id']}").get_json()
        assert after["documents"] == first.get_json()["documents"] and after["version_counter"] == first.get_json()["version_counter"]

        download = citizen.get(f"/api/v1/dossiers/{d['id']}/documents/{uploaded['id']}")
        assert_error(download, 503, "storage_unavailable")
        page = api_as("clerk").get(f"/api/v1/dossiers/{d['id']}/documents/{uploaded['id']}")
        assert page.status_code == 503
