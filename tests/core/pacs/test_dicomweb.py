"""The PACS over DICOMweb against a real Orthanc on localhost (started by the ``orthanc`` fixture), not a mock."""
import io
import json

import pydicom
import pytest

from core.access import pacs_actions
from core.access.roles import AccessConfig, AccessDenied, Identity
from core.pacs.dicomweb import Pacs, PacsConfig, PacsConfigError, PacsError, pacs_config
from tests.helpers import anonymised_frame_bytes, free_port, us_example_bytes, us_study_bytes


@pytest.fixture(scope="module")
def two_studies(orthanc):
    """Two ultrasound studies on the server: (study A's UID, study B's UID)."""
    a, uid_a = us_study_bytes(us_example_bytes("examples_rgb_color.dcm"), "PAT-A", "ACC-A")
    b, uid_b = us_study_bytes(anonymised_frame_bytes(), "PAT-B", "ACC-B")
    for data in (a, b):
        assert orthanc.upload(data)["Status"] == "Success"
    return uid_a, uid_b


def test_settings_are_read_and_checked():
    assert pacs_config({}) is None
    assert pacs_config({"pacs": {"url": "http://h:8042/dicom-web/"}}) == PacsConfig("http://h:8042/dicom-web")
    with pytest.raises(PacsConfigError, match="http"):
        pacs_config({"pacs": {"url": "h:8042"}})
    with pytest.raises(PacsConfigError, match="together"):
        pacs_config({"pacs": {"url": "http://h", "username": "u"}})


def test_studies_are_found_by_patient_id_accession_and_date(orthanc, two_studies):
    uid_a, uid_b = two_studies
    pacs = Pacs(PacsConfig(orthanc.url))
    assert [s.study_uid for s in pacs.find_studies(patient_id="PAT-A")] == [uid_a]
    assert [s.study_uid for s in pacs.find_studies(accession="ACC-B")] == [uid_b]
    assert {s.study_uid for s in pacs.find_studies(date="20261201")} >= {uid_a, uid_b}
    assert pacs.find_studies(patient_id="NOBODY") == []


def test_a_server_that_is_down_gets_a_plain_sentence():
    pacs = Pacs(PacsConfig(f"http://127.0.0.1:{free_port()}/dicom-web"))
    with pytest.raises(PacsError, match="not answering") as err:
        pacs.find_studies(patient_id="x")
    assert "Traceback" not in str(err.value) and "127.0.0.1" in str(err.value)


def test_a_wrong_address_is_explained(orthanc):
    with pytest.raises(PacsError, match="404"):
        Pacs(PacsConfig(orthanc.rest + "/not-dicom-web")).find_studies()


def test_only_roles_that_segment_pull_and_every_pull_is_audited_by_study_uid(orthanc, two_studies, tmp_path):
    uid_a, _ = two_studies
    log = tmp_path / "audit.jsonl"
    config = AccessConfig(sign_in=True, audit_log=str(log))
    pacs = Pacs(PacsConfig(orthanc.url))
    with pytest.raises(AccessDenied):
        pacs_actions.pull(Identity("x@else.org", "X", None), config, pacs, uid_a)
    images = pacs_actions.pull(Identity("c@h.org", "C", "clinician"), config, pacs, uid_a)
    assert len(images) == 1 and pydicom.dcmread(io.BytesIO(images[0][1])).StudyInstanceUID == uid_a
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["action"] for r in records] == ["refused", "pacs_pull"]
    assert all(r["study"] == uid_a for r in records)
    assert "CompressedSamples" not in log.read_text() and "PatientName" not in log.read_text()


def test_the_command_stores_seg_and_sr_in_that_study_only(orthanc, two_studies, tmp_path, isolated_dirs):
    import csv

    from core.predict import main

    uid_a, uid_b = two_studies
    weights, runs = isolated_dirs
    out = tmp_path / "out"
    rc = main(["--dicomweb", orthanc.url, "--study", uid_a, "--out", str(out), "--store",
               "--weights", str(weights / "default.keras")])
    assert rc == 0
    rows = list(csv.DictReader(open(out / "predictions.csv")))
    assert len(rows) == 1 and rows[0]["error"] == "" and rows[0]["dicom_sr"].endswith("_sr.dcm")
    assert orthanc.series_modalities(uid_a) == ["SEG", "SR", "US"]
    assert orthanc.series_modalities(uid_b) == ["US"]
    # the SEG on the server references the source image it was drawn on
    (study,) = [s for s in orthanc.get("/studies?expand") if s["MainDicomTags"]["StudyInstanceUID"] == uid_a]
    source_uid = pydicom.dcmread(io.BytesIO(Pacs(PacsConfig(orthanc.url)).ultrasound_images(uid_a)[0][1])).SOPInstanceUID
    seg_series = [orthanc.get(f"/series/{s}") for s in study["Series"]]
    (seg_series,) = [s for s in seg_series if s["MainDicomTags"]["Modality"] == "SEG"]
    (instance,) = seg_series["Instances"]
    tags = orthanc.get(f"/instances/{instance}/simplified-tags")
    assert tags["ReferencedSeriesSequence"][0]["ReferencedInstanceSequence"][0]["ReferencedSOPInstanceUID"] == source_uid
    actions = [json.loads(line)["action"] for line in (runs / "audit.jsonl").read_text().splitlines()]
    assert actions == ["pacs_pull", "pacs_store"]


def test_the_command_says_plainly_when_the_server_is_down(tmp_path, isolated_dirs, capsys):
    from core.predict import main

    weights, _ = isolated_dirs
    rc = main(["--dicomweb", f"http://127.0.0.1:{free_port()}/dicom-web", "--study", "1.2.3", "--out",
               str(tmp_path / "o"), "--store", "--weights", str(weights / "default.keras")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "is not answering" in err and "Traceback" not in err
