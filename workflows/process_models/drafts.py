"""Draft diagrams: a process owner's change before it is deployed as a new version.

A draft is a diagram and its forms, copied from a deployed version (to edit in the browser)
or uploaded (a .bpmn made in Camunda Modeler or SpiffArena, its forms, or a .zip as
downloaded from PACE Flow). Nothing in a draft runs: it is validated, compared with the
deployed version and then deployed through ``engine.registry.deploy``.

Uploads are untrusted. Everything is refused *before* it is stored if it is too large, is not
UTF-8, names a form with a folder or ``..``, or is XML that the hardened parser refuses
(DOCTYPE/entities: XXE and "billion laughs"). What remains is stored and validated; a draft
with problems cannot be deployed.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import audit, clock
from engine.errors import Conflict, FieldError, InvalidData, NotFound
from engine.models import Base, ProcessModel, _now
from engine.registry import ModelBundle
from engine.xml_safety import MAX_BYTES as MAX_DIAGRAM_BYTES
from engine.xml_safety import UnsafeXml, parse_untrusted

from workflows.process_models import xml_encodings

MAX_UPLOAD_BYTES = 5 * 1024 * 1024     # one upload request, every file together
MAX_FORM_BYTES = 256 * 1024            # as engine.registry checks forms
MAX_TEMPLATE_BYTES = 1024 * 1024       # a Word template (document_templates checks the rest)
MAX_FILES = 200
# A zip may unpack to no more than one upload (MAX_UPLOAD_BYTES) in all, and no entry may be
# compressed more than this many times over: diagrams and forms compress 5-20 times, a zip
# bomb thousands of times. Only the methods read with bounded memory are accepted: stored
# and deflate, which every zip tool writes (the standard library's bzip2 and LZMA readers
# unpack a whole block at once, however large it becomes).
MAX_ZIP_RATIO = 100
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
FORM_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}\.json$")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


class UploadRefused(InvalidData):
    """An upload that is not stored (400, or 413 when it is too large); the message says
    which file and what to do."""
    status = 400

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__([FieldError("files", message)])
        self.message = message
        if too_large:
            self.status = 413

    def __str__(self) -> str:
        return self.message


class ModelDraft(Base):
    """A diagram and its forms being prepared as the next version of a process."""
    __tablename__ = "model_draft"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    base_version: Mapped[int | None] = mapped_column(Integer)  # the version it was copied from
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSON, default=dict)
    # Word templates by file name, base64 (as process_model.documents; migration 0017)
    documents: Mapped[dict | None] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(20))  # copy | upload | editor
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # open|deployed|discarded
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    deployed_model_id: Mapped[int | None] = mapped_column(ForeignKey("process_model.id"))
    # Optimistic locking, as on process_instance: two owners saving at once cannot both win.
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": revision}

    def bundle(self) -> ModelBundle:
        return ModelBundle(self.process_id, self.bpmn_xml, dict(self.forms or {}),
                           ModelBundle.decode_documents(self.documents))


# -- reading uploads ----------------------------------------------------------------------
@dataclass
class Upload:
    """What an upload held, after every safety check."""
    process_ids: list[str]        # executable processes the diagram declares
    bpmn_xml: str | None = None
    forms: dict[str, str] | None = None
    documents: dict[str, bytes] | None = None  # Word templates, as uploaded (checked by the caller)


def _plain_name(name: str) -> str:
    """The file's own name; any folder, '..', backslash or control character is refused."""
    if not name or "\\" in name or "/" in name or name.startswith(".") or \
            any(ord(c) < 32 for c in name) or ".." in name:
        raise UploadRefused(f"The file name {name!r} is not allowed: use a plain name such as "
                            "initial_lar.schema.json, with no folders, '..' or hidden files.")
    return name


def _text(name: str, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise UploadRefused(f"{name} is not UTF-8 text (a byte on line {line} cannot be read). "
                            "Save it again as UTF-8 and upload it again.") from None
    return text.removeprefix("\ufeff")


def _diagram(name: str, data: bytes) -> tuple[str, list[str]]:
    if len(data) > MAX_DIAGRAM_BYTES:
        raise UploadRefused(f"{name} is {len(data):,} bytes; a diagram may be at most "
                            f"{MAX_DIAGRAM_BYTES:,} bytes.")
    try:
        text = xml_encodings.as_utf8(name, data)
    except xml_encodings.EncodingRefused as exc:
        raise UploadRefused(str(exc)) from None
    try:
        root = parse_untrusted(text)
    except UnsafeXml as exc:
        raise UploadRefused(f"{name} was refused: {exc}.") from None
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise UploadRefused(f"{name} is XML but not a BPMN 2.0 diagram (its root element is "
                            f"{root.tag.rsplit('}', 1)[-1]!r}, not bpmn:definitions).")
    ids = [p.get("id") for p in root.iterfind(f"{{{BPMN_NS}}}process")
           if p.get("isExecutable") == "true"]
    return text, ids


def _form(name: str, data: bytes) -> str:
    if not FORM_NAME.match(name):
        raise UploadRefused(f"The form file name {name!r} is not allowed: use letters, digits, "
                            "'_', '-' and '.', ending .json (for example initial_lar.schema.json).")
    if len(data) > MAX_FORM_BYTES:
        raise UploadRefused(f"The form {name} is {len(data):,} bytes; a form may be at most "
                            f"{MAX_FORM_BYTES:,} bytes.")
    text = _text(name, data)
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise UploadRefused(f"The form {name} is not valid JSON (line {exc.lineno}: {exc.msg}).") \
            from None
    return text


def _zip_entries(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """The .bpmn and forms of a zip as downloaded from PACE Flow (``x.bpmn``,
    ``forms/y.json``, optionally inside one folder). Every way a zip can fail to unpack is
    refused with a message (password, unsupported compression, damaged contents), never an
    error page. Zip bombs: the sizes the archive declares are checked before anything is
    unpacked (in all, per entry and compression ratio), and reading stops at the limit
    whatever the archive claims."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError,
            NotImplementedError):
        raise UploadRefused(f"{name} is not a readable .zip file.") from None
    files = [i for i in infos if not i.is_dir()]
    if len(files) > MAX_FILES:
        raise UploadRefused(f"{name} holds {len(files)} files; at most {MAX_FILES} are allowed.")
    wanted = []
    for info in files:
        parts = info.filename.split("/")
        if info.filename.startswith("/") or "\\" in info.filename or \
                any(p in ("", ".", "..") for p in parts) or len(parts) > 3 or \
                (len(parts) == 3 and parts[1] not in ("forms", "documents")):
            raise UploadRefused(f"{name} holds {info.filename!r}, which is not allowed: the zip may "
                                "hold only the diagram (.bpmn) and forms/<name>.json, with no "
                                "'..' or absolute paths.")
        if parts[0] == "__MACOSX" or parts[-1].startswith("."):
            continue
        _check_zip_entry(name, info)
        wanted.append((info, parts[-1]))
    declared = sum(info.file_size for info, _ in wanted)
    if declared > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"{name} unpacks to {declared:,} bytes; a diagram and its forms may "
                            f"be at most {MAX_UPLOAD_BYTES:,} bytes in all.", too_large=True)
    entries, total = [], 0
    for info, short in wanted:
        limit = _entry_limit(short)
        room = min(limit, MAX_UPLOAD_BYTES - total)
        try:
            with archive.open(info) as handle:
                content = handle.read(room + 1)
        except RuntimeError:  # encrypted, though the flag said otherwise
            raise UploadRefused(_ENCRYPTED.format(name=name, entry=info.filename)) from None
        except NotImplementedError:
            raise UploadRefused(_METHOD.format(name=name, entry=info.filename)) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
            raise UploadRefused(f"{name} is damaged: {info.filename} cannot be unpacked (its "
                                "contents fail the zip's own check). Make the .zip again, or "
                                "upload the .bpmn and .json files themselves.") from None
        total += len(content)
        if len(content) > room:
            raise UploadRefused(f"{name}: {info.filename} is larger than {limit:,} bytes once "
                                "unpacked.", too_large=True)
        entries.append((short, content))
    return entries


_ENCRYPTED = ("{name} is protected with a password ({entry} is encrypted), so it cannot be "
              "read. Make the .zip again without a password, or upload the .bpmn and .json "
              "files themselves.")
_METHOD = ("{name} uses a compression method PACE Flow does not read for {entry} (such as "
           "Deflate64, bzip2, LZMA or AES encryption). Make the .zip again with ordinary "
           "(deflate) compression, as your computer's own 'compress' or 'send to zip' does, or "
           "upload the .bpmn and .json files themselves.")
_AES = 99  # WinZip's AES encryption: the compression method an encrypted entry declares
DIAGRAM_SUFFIXES = (".bpmn", ".bpmn20.xml", ".xml")


def _entry_limit(name: str) -> int:
    if name.lower().endswith(".docx"):
        return MAX_TEMPLATE_BYTES
    return MAX_DIAGRAM_BYTES if name.lower().endswith(DIAGRAM_SUFFIXES) else MAX_FORM_BYTES


def check_zip_entry(name: str, info: zipfile.ZipInfo, limit: int | None = None,
                    kind: str = "diagram or form") -> None:
    """Refuse an entry before unpacking it: encrypted, compressed in a way that is not read
    with bounded memory, nested archive, or declaring a size or ratio of a zip bomb. Word
    templates (a .docx is a zip) are checked by the same rules, with their own ``limit``."""
    short = info.filename.rsplit("/", 1)[-1]
    if info.flag_bits & 0x1 or info.compress_type == _AES:
        raise UploadRefused(_ENCRYPTED.format(name=name, entry=info.filename))
    if info.compress_type not in ZIP_METHODS:
        raise UploadRefused(_METHOD.format(name=name, entry=info.filename))
    if short.lower().endswith((".zip", ".jar", ".7z", ".gz", ".tar", ".rar")):
        raise UploadRefused(f"{name} holds another archive, {info.filename}: put the diagram "
                            "and its forms in one .zip, not a .zip inside a .zip.")
    limit = limit or _entry_limit(short)
    if info.file_size > limit:
        raise UploadRefused(f"{name}: {info.filename} is larger than {limit:,} bytes once "
                            "unpacked.", too_large=True)
    if info.file_size > 64 * 1024 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        raise UploadRefused(f"{name}: {info.filename} is compressed more than {MAX_ZIP_RATIO} "
                            f"times over, as no {kind} is; it looks like a zip bomb "
                            "and was not unpacked.", too_large=True)


_check_zip_entry = check_zip_entry


def read_upload(files: list[tuple[str, bytes]], *, documents: bool = False) -> Upload:
    """Check every uploaded file; raise UploadRefused with a plain message, or return it.
    Word templates (.docx) are taken only with ``documents``, by
    ``document_templates.read_upload``, which checks them."""
    if sum(len(d) for _, d in files) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"The upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
                            "a diagram and its forms are far smaller.", too_large=True)
    expanded: list[tuple[str, bytes]] = []
    for name, data in files:
        name = _plain_name(name or "")
        if name.lower().endswith(".zip"):
            expanded += _zip_entries(name, data)
        elif name.lower().endswith(".docx") and documents:
            expanded.append((name, data))  # a zip too, but read by its own checks
        else:
            expanded.append((name, data))
    if len(expanded) > MAX_FILES:
        raise UploadRefused(f"At most {MAX_FILES} files can be uploaded at once.")
    result = Upload(process_ids=[], forms={}, documents={})
    for name, data in expanded:
        name = _plain_name(name)
        lower = name.lower()
        if lower.endswith(DIAGRAM_SUFFIXES):
            if result.bpmn_xml is not None:
                raise UploadRefused("Upload one diagram (.bpmn) at a time.")
            result.bpmn_xml, result.process_ids = _diagram(name, data)
        elif lower.endswith(".json"):
            result.forms[name] = _form(name, data)
        elif lower.endswith(".docx") and documents:
            result.documents[name] = data
        else:
            raise UploadRefused(f"{name} is not a diagram (.bpmn), a form (.json), a Word "
                                "template (.docx) or a .zip of them.")
    return result


# -- drafts -------------------------------------------------------------------------------
def get(session: Session, draft_id: int, *, open_only: bool = False) -> ModelDraft:
    draft = session.get(ModelDraft, draft_id)
    if draft is None:
        raise NotFound(f"There is no draft {draft_id}.")
    if open_only and draft.status != "open":
        raise Conflict(f"This draft was {draft.status}; start a new draft from the latest version.")
    return draft


def open_drafts(session: Session, process_id: str | None = None) -> list[ModelDraft]:
    query = select(ModelDraft).where(ModelDraft.status == "open")
    if process_id:
        query = query.where(ModelDraft.process_id == process_id)
    return list(session.scalars(query.order_by(ModelDraft.updated_at.desc())))


def create(session: Session, process_id: str, bpmn_xml: str, forms: dict[str, str], actor: str,
           *, source: str, base_version: int | None, note: str = "",
           documents: dict[str, bytes] | None = None) -> ModelDraft:
    now = clock.now()
    draft = ModelDraft(process_id=process_id, base_version=base_version, bpmn_xml=bpmn_xml,
                       forms=dict(forms), documents=ModelBundle.encode_documents(documents),
                       source=source, status="open", note=note[:300],
                       created_by=actor, created_at=now, updated_by=actor, updated_at=now)
    session.add(draft)
    session.flush()
    audit.record(session, "model_draft_created", actor, data={
        "draft": draft.id, "process_id": process_id, "source": source,
        "base_version": base_version, "forms": sorted(forms)})
    return draft


def copy_version(session: Session, model: ProcessModel, actor: str) -> ModelDraft:
    return create(session, model.process_id, model.bpmn_xml, dict(model.forms), actor,
                  source="copy", base_version=model.version,
                  note=f"Copy of version {model.version}",
                  documents=ModelBundle.decode_documents(model.documents))


def _check_revision(draft: ModelDraft, revision: int | None) -> None:
    if revision is not None and revision != draft.revision:
        raise Conflict(f"{draft.updated_by} saved this draft at "
                       f"{draft.updated_at:%d %b %Y %H:%M} after you opened it, so your change "
                       "was not saved. Reload the editor to see their version.")


def save_diagram(session: Session, draft: ModelDraft, bpmn_xml: str, actor: str,
                 revision: int | None = None) -> ModelDraft:
    """Replace the draft's diagram (from the editor); refused if the XML is unsafe."""
    _check_revision(draft, revision)
    data = bpmn_xml.encode("utf-8")
    text, _ = _diagram("The diagram", data)
    if text != draft.bpmn_xml:
        draft.bpmn_xml = text
        _touch(session, draft, actor, "diagram saved")
    return draft


def add_files(session: Session, draft: ModelDraft, upload: Upload, actor: str) -> list[str]:
    changed = []
    if upload.bpmn_xml is not None:
        draft.bpmn_xml = upload.bpmn_xml
        changed.append("diagram")
    if upload.forms:
        draft.forms = {**(draft.forms or {}), **upload.forms}
        changed += sorted(upload.forms)
    if upload.documents:
        draft.documents = {**(draft.documents or {}),
                           **ModelBundle.encode_documents(upload.documents)}
        changed += sorted(upload.documents)
    if changed:
        _touch(session, draft, actor, "files uploaded: " + ", ".join(changed))
    return changed


def remove_form(session: Session, draft: ModelDraft, name: str, actor: str) -> None:
    if name not in (draft.forms or {}):
        raise NotFound(f"This draft has no form {name!r}.")
    draft.forms = {k: v for k, v in draft.forms.items() if k != name}
    _touch(session, draft, actor, f"form removed: {name}")


def remove_document(session: Session, draft: ModelDraft, name: str, actor: str) -> None:
    if name not in (draft.documents or {}):
        raise NotFound(f"This draft has no Word template {name!r}.")
    draft.documents = {k: v for k, v in draft.documents.items() if k != name}
    _touch(session, draft, actor, f"Word template removed: {name}")


def discard(session: Session, draft: ModelDraft, actor: str) -> None:
    draft.status = "discarded"
    _touch(session, draft, actor, "discarded")


def mark_deployed(session: Session, draft: ModelDraft, model: ProcessModel, actor: str) -> None:
    draft.status, draft.deployed_model_id = "deployed", model.id
    _touch(session, draft, actor, f"deployed as version {model.version}")


def _touch(session: Session, draft: ModelDraft, actor: str, what: str) -> None:
    draft.updated_by, draft.updated_at = actor, clock.now()
    session.flush()
    audit.record(session, "model_draft_changed", actor, data={
        "draft": draft.id, "process_id": draft.process_id, "change": what,
        "content_hash": draft.bundle().content_hash()})


# -- downloads ----------------------------------------------------------------------------
def bundle_zip(process_id: str, bpmn_xml: str, forms: dict[str, str],
               documents: dict[str, bytes] | None = None) -> bytes:
    """``<process_id>.bpmn``, ``forms/<name>.json`` and ``documents/<name>.docx``: the
    layout of ``bpmn/<process_id>/``, which the upload page accepts back."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{process_id}.bpmn", bpmn_xml)
        for name in sorted(forms):
            archive.writestr(f"forms/{name}", forms[name])
        for name in sorted(documents or {}):
            archive.writestr(f"documents/{name}", documents[name])
    return out.getvalue()
