"""A PACS over DICOMweb: find studies (QIDO-RS), fetch their ultrasound images (WADO-RS), send SEG and SR (STOW-RS).

``dicomweb`` owns the conversation with the server (``dicomweb-client``) and its settings (``[pacs]`` in the
secrets). It never writes to disk and never logs patient names; who may pull or store, and the audit record by
study UID, are core.access.pacs_actions'.
"""
