"""Test helpers, imported by name (``from tests.helpers import ...``): synthetic ultrasound-like images with known
lesions, dataset folders, DICOM files, the project root. The fixtures live in conftest.py.

Images are speckle (gamma-distributed) backgrounds with a darker elliptical
"lesion", so masks are known exactly and no patient data is needed.
"""
from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from core.locations import PROJECT_ROOT as ROOT  # noqa: F401  (tests import it from here)
from core.locations import SAMPLES_DIR

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SAMPLES = os.path.join(SAMPLES_DIR, "busi")


def synthetic_case(h=96, w=112, lesion=True, seed=0, centre=None, axes=None):
    """(gray uint8 (h, w), mask bool (h, w)) with a hypoechoic ellipse as the lesion."""
    import cv2

    rng = np.random.default_rng(seed)
    img = rng.gamma(2.0, 40.0, size=(h, w)).clip(0, 255)
    img = cv2.GaussianBlur(img.astype(np.float32), (3, 3), 0)
    mask = np.zeros((h, w), np.uint8)
    if lesion:
        cy, cx = centre or (int(rng.integers(h // 3, 2 * h // 3)), int(rng.integers(w // 3, 2 * w // 3)))
        ay, ax = axes or (int(rng.integers(h // 8, h // 4)), int(rng.integers(w // 8, w // 4)))
        cv2.ellipse(mask, (cx, cy), (ax, ay), 0, 0, 360, 1, -1)
        img[mask.astype(bool)] *= 0.25
    return img.clip(0, 255).astype(np.uint8), mask.astype(bool)


def png_bytes(arr, mode=None) -> bytes:
    buf = io.BytesIO()
    im = Image.fromarray(arr)
    if mode:
        im = im.convert(mode)
    im.save(buf, format="PNG")
    return buf.getvalue()


def write_busi_folder(root, n_per_class=4, size=(96, 112), rgb_images=True):
    """A BUSI-shaped folder: mixed image modes (L and RGB) and mask modes (1, L, RGB, RGBA), a _mask_1."""
    root = str(root)
    h, w = size
    k = 0
    for label in ("benign", "malignant", "normal"):
        os.makedirs(os.path.join(root, label))
        for i in range(1, n_per_class + 1):
            k += 1
            gray, mask = synthetic_case(h, w, lesion=label != "normal", seed=k)
            stem = os.path.join(root, label, f"{label} ({i})")
            image_mode = "RGB" if (rgb_images and i % 2 == 0) else "L"
            Image.fromarray(gray).convert(image_mode).save(stem + ".png")
            mask_mode = ["1", "L", "RGB", "RGBA"][i % 4]
            m = Image.fromarray(mask.astype(np.uint8) * 255).convert(mask_mode)
            m.save(stem + "_mask.png")
            if label == "benign" and i == 1:
                # a second mask file with an extra lesion, which must be merged in
                extra = np.zeros_like(mask)
                extra[2:8, 2:8] = True
                Image.fromarray(extra.astype(np.uint8) * 255).save(stem + "_mask_1.png")
    return root


def write_busbra_folder(root, patients=6, size=(120, 90), devices=("GE Logiq 7", "Toshiba Aplio 300")):
    """A folder in BUS-BRA's published layout: Images/bus_NNNN-x.png, Masks/mask_NNNN-x.png, bus_data.csv.

    Patients alternate benign and malignant; every other patient has two images (-l and -r), as in BUS-BRA."""
    root = str(root)
    os.makedirs(os.path.join(root, "Images"))
    os.makedirs(os.path.join(root, "Masks"))
    h, w = size
    rows = ["ID,Case,Histology,Pathology,BIRADS,Device,Width,Height,Side,BBOX"]
    for pid in range(1, patients + 1):
        label = "benign" if pid % 2 else "malignant"
        for side in (("l", "r") if pid % 2 == 0 else ("s",)):
            ident = f"{pid:04d}-{side}"
            gray, mask = synthetic_case(h, w, lesion=True, seed=100 + pid * 3 + len(side) + ord(side))
            Image.fromarray(gray).save(os.path.join(root, "Images", f"bus_{ident}.png"))
            Image.fromarray(mask.astype(np.uint8) * 255).save(os.path.join(root, "Masks", f"mask_{ident}.png"))
            rows.append(f'bus_{ident},{pid},fibroadenoma,{label},{3 if label == "benign" else 5},'
                        f'{devices[pid % len(devices)]},{w},{h},left,"[1,2,3,4]"')
    with open(os.path.join(root, "bus_data.csv"), "w") as fh:
        fh.write("\n".join(rows) + "\n")
    return root


US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"


def new_dicom_file(sop_class: str, name: str):
    """An empty pydicom FileDataset of this SOP class (explicit VR little endian), with fresh instance UIDs."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(name, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    return ds


def us_dicom_bytes(gray: np.ndarray, spacing=(0.1, 0.1), region=None) -> bytes:
    """A small synthetic single-frame ultrasound DICOM (Ultrasound Image Storage) with patient, study and
    series, gray (H, W) uint8 as MONOCHROME2; spacing (row, col mm) as PixelSpacing, or region (dx, dy cm)
    as SequenceOfUltrasoundRegions, as core.data.imageio reads them."""
    from pydicom.uid import generate_uid

    ds = new_dicom_file(US_IMAGE_STORAGE, "us.dcm")
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientID, ds.PatientName = "US", "SYNTH-1", "Synthetic^Phantom"
    ds.PatientBirthDate, ds.PatientSex, ds.AccessionNumber, ds.ReferringPhysicianName = "", "", "", ""
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "20260101", "120000", "1", 1, 1
    ds.Rows, ds.Columns = gray.shape
    ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 8, 8, 7, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = np.ascontiguousarray(gray, np.uint8).tobytes()
    return dicom_file_bytes(ds, spacing, region)


def dicom_file_bytes(ds, spacing=None, region=None) -> bytes:
    """A pydicom dataset as file bytes, with its pixel size given as PixelSpacing (row, col mm) and/or as an
    ultrasound region's physical deltas (x, y cm), the two ways scanners record it."""
    import pydicom

    if spacing:
        ds.PixelSpacing = list(spacing)
    if region:
        r = pydicom.Dataset()
        r.PhysicalDeltaX, r.PhysicalDeltaY = region
        r.PhysicalUnitsXDirection = r.PhysicalUnitsYDirection = 3
        ds.SequenceOfUltrasoundRegions = [r]
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def card_json(model_path) -> dict | None:
    """The card's JSON beside a model, exactly as written (a test of what the file holds reads the file, not the
    schema); None when there is none."""
    import json

    from core.cards.schema import card_paths

    path = card_paths(str(model_path))[0]
    return json.load(open(path)) if os.path.isfile(path) else None


def copy_default_model(weights, name="twin") -> str:
    """A second model in an isolated weights folder: the default's weights and card under another name."""
    import shutil

    for ext in (".keras", ".card.json"):
        shutil.copy(weights / f"default{ext}", weights / f"{name}{ext}")
    return str(weights / f"{name}.keras")


def require_ray():
    """Ray, or skip the test with the reason; in CI (CI=true) fail instead, so the Ray checks cannot silently
    vanish (.ci/run installs requirements-scale.txt), as the browser test does for Chromium."""
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("ray is not installed; .ci/run should have installed requirements-scale.txt")
        pytest.skip("ray not installed (pip install -r requirements-scale.txt)")
    return ray




# The Type 2 patient and study attributes that de-identification tools leave out (issue 32)
DEIDENTIFIED_AWAY = ("PatientBirthDate", "PatientSex", "StudyTime", "ReferringPhysicianName", "AccessionNumber",
                     "StudyID")
US_EXAMPLES = ("examples_palette.dcm", "examples_rgb_color.dcm", "examples_jpeg2k.dcm", "examples_ybr_color.dcm")


def us_example_bytes(name: str) -> bytes:
    """One of the real ultrasound DICOM files that ship inside the pydicom wheel."""
    from pydicom.data import get_testdata_file

    with open(get_testdata_file(name), "rb") as fh:
        return fh.read()


def anonymised_frame_bytes() -> bytes:
    """examples_rgb_color.dcm as a de-identification tool leaves it: new UIDs, without its Type 2 patient and study
    attributes, patient name and ID replaced."""
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(io.BytesIO(us_example_bytes("examples_rgb_color.dcm")))
    for keyword in DEIDENTIFIED_AWAY:
        delattr(ds, keyword)
    ds.PatientName, ds.PatientID = "ANON^CASE", "ANON0001"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    buf = io.BytesIO()
    ds.save_as(buf)
    return buf.getvalue()


def dciodvfy_errors(data: bytes, tmp_path) -> list[str]:
    """The lines dicom3tools' dciodvfy starts with 'Error' for a DICOM object; skips when dciodvfy is absent
    (CI installs dicom3tools, and there it fails instead)."""
    import shutil
    import subprocess

    tool = shutil.which("dciodvfy")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("dciodvfy is not installed; .ci/run should have installed dicom3tools")
        pytest.skip("dciodvfy not installed (apt-get install dicom3tools)")
    path = tmp_path / f"check_{len(list(tmp_path.iterdir()))}.dcm"
    path.write_bytes(data)
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Orthanc:
    """A real Orthanc (Debian's, with its DICOMweb plugin) on localhost with its own storage folder (NOTES.md's
    recipe); stopped by its process id. url: its DICOMweb root; rest: its own REST API, for the tests' checks."""

    PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

    def __init__(self, folder):
        import json
        import shutil
        import subprocess
        import time
        import urllib.request

        exe = shutil.which("Orthanc") or ("/usr/sbin/Orthanc" if os.path.exists("/usr/sbin/Orthanc") else None)
        if exe is None or not os.path.exists(self.PLUGIN):
            if os.environ.get("CI"):
                pytest.fail("Orthanc is not installed; .ci/run should have installed orthanc and orthanc-dicomweb")
            pytest.skip("Orthanc not installed (apt-get install orthanc orthanc-dicomweb)")
        port, dicom_port = free_port(), free_port()
        storage = os.path.join(folder, "storage")
        os.makedirs(storage, exist_ok=True)
        config = os.path.join(folder, "orthanc.json")
        with open(config, "w") as fh:
            json.dump({"Name": "busseg-test", "StorageDirectory": storage, "IndexDirectory": storage,
                       "HttpPort": port, "DicomPort": dicom_port, "RemoteAccessAllowed": False,
                       "AuthenticationEnabled": False, "Plugins": [self.PLUGIN],
                       "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}}, fh)
        self.log = open(os.path.join(folder, "orthanc.log"), "wb")
        self.process = subprocess.Popen([exe, config], stdout=self.log, stderr=subprocess.STDOUT)
        self.rest = f"http://127.0.0.1:{port}"
        self.url = f"{self.rest}/dicom-web"
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.rest}/system", timeout=2).read()
                break
            except OSError as exc:
                if self.process.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"Orthanc did not start; see {folder}/orthanc.log") from exc
                time.sleep(0.2)

    def get(self, path: str):
        import json
        import urllib.request

        with urllib.request.urlopen(f"{self.rest}{path}", timeout=10) as r:
            return json.loads(r.read())

    def upload(self, data: bytes) -> dict:
        import json
        import urllib.request

        req = urllib.request.Request(f"{self.rest}/instances", data=data, method="POST",
                                     headers={"Content-Type": "application/dicom"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def series_modalities(self, study_uid: str) -> list[str]:
        """The modality of each series in the study (by its StudyInstanceUID)."""
        (study,) = [s for s in self.get("/studies?expand") if s["MainDicomTags"]["StudyInstanceUID"] == study_uid]
        return sorted(self.get(f"/series/{s}")["MainDicomTags"].get("Modality", "") for s in study["Series"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except Exception:
                self.process.kill()
        self.log.close()


def us_study_bytes(source: bytes, patient_id: str, accession: str) -> tuple[bytes, str]:
    """A copy of an ultrasound file as a study of its own (new study, series and instance UIDs); (bytes, study UID)."""
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(io.BytesIO(source))
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID, ds.AccessionNumber, ds.StudyDate = patient_id, accession, "20261201"
    buf = io.BytesIO()
    ds.save_as(buf)
    return buf.getvalue(), str(ds.StudyInstanceUID)
