"""Talking to a DICOMweb server (Orthanc, dcm4chee, a cloud DICOM store) with dicomweb-client.

Settings: ``[pacs] url = "http://host:8042/dicom-web"``, optional ``username`` and ``password`` (HTTP basic
auth) in the secrets, or the same three from the command line. A server that is down, refuses us or answers
nonsense raises ``PacsError`` with one plain sentence naming the server and what to check; nothing else escapes.
Images come back as file bytes, exactly as the rest of the product reads an upload.
"""
from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

TIMEOUT_S = 30
US_MODALITY = "US"


class PacsError(RuntimeError):
    """The DICOMweb server could not be used; the message says why in plain words."""


class PacsConfigError(ValueError):
    """The [pacs] settings are malformed; the message says which."""


@dataclass(frozen=True)
class PacsConfig:
    url: str
    username: str | None = None
    password: str | None = None


@dataclass
class Study:
    """One study as the search lists it (the patient's name is shown to the clinician, never logged)."""

    study_uid: str
    patient_id: str
    patient_name: str
    date: str
    accession: str
    description: str
    modalities: str


def pacs_config(secrets: Mapping) -> PacsConfig | None:
    """The [pacs] settings, or None when no DICOMweb server is configured."""
    pacs = secrets.get("pacs") if isinstance(secrets, Mapping) else None
    if not pacs:
        return None
    if not isinstance(pacs, Mapping) or not isinstance(pacs.get("url"), str) or not pacs["url"].strip():
        raise PacsConfigError('[pacs] needs url = "http(s)://host:port/dicom-web"')
    url = pacs["url"].strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise PacsConfigError(f"[pacs] url must start with http:// or https://, not {url}")
    user, password = pacs.get("username"), pacs.get("password")
    if (user is None) != (password is None):
        raise PacsConfigError("[pacs] username and password go together")
    return PacsConfig(url, user, password)


def _plain(exc: Exception, url: str, doing: str) -> PacsError:
    """One sentence for what went wrong talking to url."""
    import requests

    if isinstance(exc, requests.exceptions.ConnectionError):
        return PacsError(f"The PACS at {url} is not answering ({doing}): check that it is running and that the "
                         "address is right. Nothing was sent.")
    if isinstance(exc, requests.exceptions.Timeout):
        return PacsError(f"The PACS at {url} did not answer within {TIMEOUT_S} s ({doing}). Try again later.")
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        code = exc.response.status_code
        if code in (401, 403):
            return PacsError(f"The PACS at {url} refused us ({code}, {doing}): check the user name and password "
                             "in the [pacs] settings, and that this user may read and store there.")
        if code == 404:
            return PacsError(f"The PACS at {url} has no DICOMweb service there (404, {doing}): the address "
                             "usually ends in /dicom-web (Orthanc) or /dcm4chee-arc/aets/DCM4CHEE/rs.")
        return PacsError(f"The PACS at {url} answered with an error ({code}, {doing}).")
    return PacsError(f"The PACS at {url} could not be used ({doing}: {type(exc).__name__}: {exc}).")


class Pacs:
    """A DICOMweb server. Every method raises PacsError, never a library's exception."""

    def __init__(self, config: PacsConfig):
        import requests
        from dicomweb_client.api import DICOMwebClient

        self.config = config
        session = requests.Session()
        if config.username is not None:
            session.auth = (config.username, config.password)
        self._session = session
        self._client = DICOMwebClient(url=config.url, session=session, timeout=TIMEOUT_S)
        # dicomweb-client retries with exponential back-off for half a minute; a clinician waiting at the
        # page, or a nightly command, is better told at once
        self._client.set_http_retry_params(retry=False)

    def _call(self, doing: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PacsError:
            raise
        except Exception as exc:
            raise _plain(exc, self.config.url, doing) from exc

    def find_studies(self, patient_id: str = "", accession: str = "", date: str = "", limit: int = 50) -> list[Study]:
        """Studies matching the patient ID, accession number and/or date (YYYYMMDD or YYYYMMDD-YYYYMMDD)."""
        filters = {k: v.strip() for k, v in (("PatientID", patient_id), ("AccessionNumber", accession),
                                              ("StudyDate", date)) if v and v.strip()}
        fields = ["PatientName", "PatientID", "StudyDate", "AccessionNumber", "StudyDescription",
                  "ModalitiesInStudy"]
        found = self._call("searching for studies", self._client.search_for_studies, search_filters=filters,
                           fields=fields, limit=limit)
        return [_study(item) for item in found]

    def ultrasound_images(self, study_uid: str) -> list[tuple[str, bytes]]:
        """(name, file bytes) for every ultrasound instance of the study, series by series."""
        series = self._call("listing the study's series", self._client.search_for_series,
                            study_instance_uid=study_uid, search_filters={"Modality": US_MODALITY})
        out = []
        for s in series:
            series_uid = _value(s, "0020000E")
            instances = self._call("listing the series' images", self._client.search_for_instances,
                                   study_instance_uid=study_uid, series_instance_uid=series_uid)
            for inst in instances:
                sop_uid = _value(inst, "00080018")
                ds = self._call("fetching an image", self._client.retrieve_instance, study_instance_uid=study_uid,
                                series_instance_uid=series_uid, sop_instance_uid=sop_uid)
                buf = io.BytesIO()
                ds.save_as(buf, enforce_file_format=True)
                out.append((f"{sop_uid}.dcm", buf.getvalue()))
        return out

    def store(self, objects: list[bytes]) -> None:
        """Send objects (SEG, SR, ...) in one STOW-RS request; raises PacsError if the server kept any back."""
        import pydicom

        datasets = [pydicom.dcmread(io.BytesIO(b)) for b in objects]
        answer = self._call("storing the results", self._client.store_instances, datasets=datasets)
        failed = getattr(answer, "FailedSOPSequence", None) if answer is not None else None
        if failed:
            uids = ", ".join(str(getattr(f, "ReferencedSOPInstanceUID", "?")) for f in failed)
            raise PacsError(f"The PACS at {self.config.url} refused {len(failed)} of the {len(objects)} objects "
                            f"({uids}).")


def _value(item: Mapping, tag: str) -> str:
    v = item.get(tag, {}).get("Value") or [""]
    first = v[0]
    if isinstance(first, Mapping):  # a person name in DICOM JSON
        return str(first.get("Alphabetic", ""))
    return str(first)


def _study(item: Mapping) -> Study:
    modalities = item.get("00080061", {}).get("Value") or []
    return Study(study_uid=_value(item, "0020000D"), patient_id=_value(item, "00100020"),
                 patient_name=_value(item, "00100010"), date=_value(item, "00080020"),
                 accession=_value(item, "00080050"), description=_value(item, "00081030"),
                 modalities="/".join(str(m) for m in modalities))
