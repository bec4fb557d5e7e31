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


# Signatures the service recognises, per form field (see src/domain/sniff.rs).
ACCEPTED = {
    "cv": (b"%PDF-", b"{\\rtf", bytes.fromhex("D0CF11E0A1B11AE1"), b"PK\x03\x04"),
    "picture": (b"\xff\xd8\xff", b"\x89PNG", b"RIFF"),
}
SAMPLE = {"cv": PDF, "picture": PNG}

# The coverage phase builds one "positive" multipart body from the strategies
# above, but leaves every other required field an empty string, which the
# schema itself forbids (a UUID, an email, non-blank text). Complete that body
# with valid values so it is the positive case it claims to be; the job id
# names no job, so the service answers 404.
COMPLETION = {
    "job_id": "00000000-0000-7000-8000-000000000000",
    "full_name": "Ada Lovelace",
    "email": "ada@example.com",
    "privacy_notice_version": "2026-01",
}


def _file_bytes(value):
    return bytes(value.data) if hasattr(value, "data") else value if isinstance(value, bytes) else None


@schemathesis.hook
def map_case(ctx, case):
    if case.operation.label != "POST /v1/applications" or not isinstance(case.body, dict):
        return case
    meta = case.meta
    description = getattr(getattr(meta, "phase", None) and meta.phase.data, "description", "")
    if description == "Multipart body with custom encoding":
        for name, value in COMPLETION.items():
            if case.body.get(name) == "":
                case.body[name] = value
    # Fuzzing still draws some file parts from the generic binary generator
    # (random bytes, or a GIF labelled image/jpeg). A positive case must carry
    # a file of a declared type, so swap such parts for a sample of one.
    if meta is not None and meta.generation.mode.is_positive:
        for name, signatures in ACCEPTED.items():
            data = _file_bytes(case.body.get(name))
            if data is not None and not (data.startswith(signatures) or _is_text(data) and name == "cv"):
                case.body[name] = SAMPLE[name]
    return case


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(text) and all(c.isprintable() or c in "\n\r\t\f" for c in text)


# schemathesis 4.32.5 judges any multipart body holding a file invalid when it
# revalidates a case it modified (Case._validate_component returns False for
# bodies with binary parts), so a stateful case whose job_id came from a link
# is relabelled negative and its 201 reported as "schema-violating request
# accepted". Validate file parts as the `format: binary` strings the schema
# declares instead.
from schemathesis.core.parameters import ParameterLocation  # noqa: E402
from schemathesis.generation import case as _case_module  # noqa: E402

_original_validate = _case_module.Case._validate_component


def _validate_component(self, location, value, validator_cls):
    if location == ParameterLocation.BODY and isinstance(value, dict):
        value = {k: ("file" if _file_bytes(v) is not None else v) for k, v in value.items()}
    return _original_validate(self, location, value, validator_cls)


_case_module.Case._validate_component = _validate_component
