"""Generators for the file types the service's upload schema declares.

The service reads a file's type from its bytes, so random bytes under a PDF
media type are not a PDF. These teach schemathesis what each declared type
looks like; negative cases still send arbitrary bytes.
"""

import base64

import schemathesis
from hypothesis import strategies as st

# Smallest well-formed files of each accepted type; a random tail keeps them distinct.
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
RTF = b"{\\rtf1\\ansi Curriculum vitae}"
DOC = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504)
ODT = b"PK\x03\x04" + bytes(26) + b"mimetypeapplication/vnd.oasis.opendocument.text"
DOCX = b"PK\x03\x04" + bytes(22) + b"\x11\x00\x00\x00" + b"word/document.xml" + b"<w:document/>"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA4AAAAvAAAAAAcQEf0PRET/Aw==")


def with_printable_tail(head: bytes) -> st.SearchStrategy[bytes]:
    return st.text(alphabet="abcdefghij \n", max_size=64).map(lambda tail: head + tail.encode())


for media_type, sample in [
    ("application/pdf", PDF),
    ("application/rtf", RTF),
    ("application/msword", DOC),
    ("application/vnd.oasis.opendocument.text", ODT),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", DOCX),
    ("image/png", PNG),
    ("image/jpeg", JPEG),
    ("image/webp", WEBP),
]:
    schemathesis.openapi.media_type(media_type, with_printable_tail(sample))

schemathesis.openapi.media_type(
    "text/plain", st.text(alphabet="abcdefghij ABC\n", min_size=1, max_size=200).map(str.encode)
)


SAMPLE = {"cv": PDF, "picture": PNG}


def _acceptable(field: str, data: bytes) -> bool:
    """Whether the service's sniffer (src/domain/sniff.rs) accepts `data` for `field`."""
    if field == "picture":
        return data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (
            data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        )
    if data.startswith((b"%PDF-", b"{\\rtf", bytes.fromhex("D0CF11E0A1B11AE1"))):
        return True
    if data.startswith(b"PK\x03\x04"):
        odt = data[30:].startswith(b"mimetypeapplication/vnd.oasis.opendocument.text")
        return odt or b"word/document.xml" in data
    return _is_text(data)

# When file parts come from the strategies above, the coverage phase builds its
# "positive" multipart bodies ("Multipart body with custom encoding", "Only
# required properties") with every other required field an empty string, which
# the schema itself forbids (a UUID, an email, non-blank text). Complete such
# bodies with valid values so they are the positive cases they claim to be; the
# job id names no job, so the service answers 404.
COMPLETION = {
    "job_id": "00000000-0000-7000-8000-000000000000",
    "full_name": "Ada Lovelace",
    "email": "ada@example.com",
    "privacy_notice_version": "2026-01",
}


def _file_bytes(value):
    return bytes(value.data) if hasattr(value, "data") else value if isinstance(value, bytes) else None


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # Right before sending, so every generation path (coverage, fuzzing,
    # stateful, values drawn from earlier responses) is covered.
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return
    if case.operation.label in INTERVIEW_WRITES:
        _order_interview_times(case.body)
        return
    if case.operation.label == "POST /v1/subject-requests":
        _received_by_now(case.body)
        return
    if case.operation.label == "PATCH /v1/subject-requests/{id}":
        _one_consistent_change(case.body)
        return
    if case.operation.label != "POST /v1/applications":
        return
    for name, value in COMPLETION.items():
        if case.body.get(name) == "":
            case.body[name] = value
    # full_name and email are optional in the schema because an import may
    # give them; without an import they are required (422), which a schema
    # cannot state. A positive case without an import gets them.
    if not case.body.get("import_id"):
        for name in ("full_name", "email"):
            if case.body.get(name) in (None, ""):
                case.body[name] = COMPLETION[name]
    # Fuzzing still draws some file parts from the generic binary generator
    # (random bytes, or a GIF labelled image/jpeg). A positive case must carry
    # a file of a declared type, so swap such parts for a sample of one.
    for name, sample in SAMPLE.items():
        data = _file_bytes(case.body.get(name))
        if data is not None and not _acceptable(name, data):
            case.body[name] = sample


INTERVIEW_WRITES = {
    "POST /v1/applications/{id}/interviews",
    "PATCH /v1/applications/{id}/interviews/{interview_id}",
}


def _order_interview_times(body):
    # An interview ends after it starts (422 otherwise), a rule a schema
    # cannot state. A positive case keeps the generated start and gets an end
    # an hour later; a change that moves one end moves both, so it cannot
    # cross the stored other end.
    from datetime import datetime, timedelta, timezone

    if "starts_at" not in body and "ends_at" not in body:
        return
    raw = body.get("starts_at") or body.get("ends_at")
    try:
        start = datetime.fromisoformat(str(raw).replace("Z", "+00:00").replace("z", "+00:00"))
        if start.tzinfo is None:
            raise ValueError
        end = start + timedelta(hours=1)
    except (ValueError, OverflowError):
        start = datetime(2030, 1, 1, 9, tzinfo=timezone.utc)
        end = start + timedelta(hours=1)
    body["starts_at"] = start.isoformat()
    body["ends_at"] = end.isoformat()


def _one_consistent_change(body):
    # Rules a schema cannot state (each a 422): an extension comes with its
    # reason and closes nothing; a refusal comes with its reason, and a
    # reason only with a refusal. A positive case is made to follow them.
    if body.get("extend_months") is not None:
        body.pop("status", None)
        body.pop("refusal_reason", None)
        if not body.get("extension_reason"):
            body["extension_reason"] = "Several applications to gather."
    elif body.get("extension_reason") is not None:
        del body["extension_reason"]
    if body.get("status") == "refused":
        if not body.get("refusal_reason"):
            body["refusal_reason"] = "The request is manifestly unfounded."
    elif body.get("refusal_reason") is not None:
        del body["refusal_reason"]


def _received_by_now(body):
    # A request cannot have been received in the future (422), a rule a
    # schema cannot state. A positive case received later than now (or at a
    # time Python cannot read) is received now, the default.
    from datetime import datetime, timezone

    raw = body.get("received_at")
    if raw is None:
        return
    try:
        at = datetime.fromisoformat(str(raw).replace("Z", "+00:00").replace("z", "+00:00"))
        if at.tzinfo is not None and at <= datetime.now(timezone.utc):
            return
    except (ValueError, OverflowError):
        pass
    del body["received_at"]


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(text) and all(c.isprintable() or c in "\n\r\t\f" for c in text)


# Two defects of schemathesis 4.32.5 in re-validating a case it modified (a
# stateful step that fills job_id from a link, say) relabel valid requests as
# negative, and their 201 is then reported as "schema-violating request
# accepted":
# - any multipart body holding a file is judged invalid (Case._validate_component
#   returns False when the body contains binary); files are validated here as
#   the `format: binary` strings the schema declares;
# - header containers are judged without the Authorization header (it drops
#   headers no parameter declares) against a schema that requires it; the
#   header CI sends with -H is put back for the check.
from schemathesis.core.parameters import ParameterLocation  # noqa: E402
from schemathesis.generation import case as _case_module  # noqa: E402

_original_validate = _case_module.Case._validate_component


def _validate_component(self, location, value, validator_cls):
    if location == ParameterLocation.BODY and isinstance(value, dict):
        value = {k: ("file" if _file_bytes(v) is not None else v) for k, v in value.items()}
    if location == ParameterLocation.HEADER and isinstance(value, dict):
        names = {name.lower() for name in value}
        if "authorization" not in names:
            value = {**value, "Authorization": "Bearer sent-by-ci"}
    return _original_validate(self, location, value, validator_cls)


_case_module.Case._validate_component = _validate_component
