"""Word templates a process version carries: read safely, checked against the forms, rendered.

A council edits its action minute or legal referral in Word; a user task names it with the
``document`` property and the template travels with the version (``ModelBundle.documents``).
Templates are uploaded by process owners, so they are data, never code:

* a .docx is a zip of XML parts: the zip is refused before anything is unpacked when an
  entry is encrypted, compressed unusually, a nested archive, too large or a zip bomb
  (the checks of diagram uploads, ``drafts.check_zip_entry``), or named with ``..``, a
  backslash or an absolute path; every XML part then goes through the diagrams' hardened
  parser (``engine.xml_safety``: no DOCTYPE or entities, so no XXE);
* placeholders are Jinja (as docxtpl writes them), checked before the template is stored
  as part of a version: only the names PACE Flow fills (``child``, ``answers``, ...), only
  the form's own fields, no calls, no arithmetic, no attribute starting with ``_``, no
  ``include`` or ``import``; and rendered in Jinja's ``SandboxedEnvironment`` with
  autoescaping (a worker's answer containing ``<`` stays text, never XML);
* the rendered document is bounded in size.
"""
from __future__ import annotations

import difflib
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from engine.xml_safety import UnsafeXml, parse_untrusted

from . import drafts

MAX_TEMPLATE_BYTES = 1024 * 1024          # one .docx as uploaded
MAX_UNPACKED_BYTES = 10 * 1024 * 1024     # its parts once unpacked, together
MAX_PART_BYTES = drafts.MAX_DIAGRAM_BYTES  # one XML part, as a diagram
MAX_PARTS = 200
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024      # a generated document
MAX_TEMPLATES = 20                        # per version
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}\.docx$")

# What a placeholder may start with, and what follows the dot (None: the form's fields).
CHILD_FIELDS = ("name", "reference", "date_of_birth", "team", "allocated_worker")
TASK_FIELDS = ("title", "completed_by", "completed_on", "process", "version")
ROW_FIELDS = ("label", "text")
ROOTS: dict[str, tuple[str, ...] | None] = {
    "child": CHILD_FIELDS, "answers": None, "labels": None, "task": TASK_FIELDS,
    "recorded": ROW_FIELDS, "today": (), "council": ()}
FILTERS = frozenset({"upper", "lower", "title", "capitalize", "default", "trim", "join",
                     "length", "first", "last", "replace"})
_ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr,
            nodes.Getitem, nodes.Const, nodes.If, nodes.For, nodes.Filter, nodes.Test,
            nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.CondExpr,
            nodes.Concat, nodes.List, nodes.Tuple, nodes.Keyword)


class TemplateRefused(ValueError):
    """A template that cannot be stored or rendered; the message names the file and why."""


@dataclass(frozen=True)
class Placeholder:
    text: str      # as written, e.g. "answers.recommendation"
    root: str
    field: str | None


def environment() -> SandboxedEnvironment:
    """Jinja's sandbox (no attribute of Python's internals, no unsafe call), escaping every
    value as XML, with only a few text filters."""
    env = SandboxedEnvironment(autoescape=True)
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.globals = {}
    return env


def _refuse(name: str, message: str) -> TemplateRefused:
    return TemplateRefused(f"{name} {message}")


def read(name: str, data: bytes) -> bytes:
    """The template's bytes once every safety check passed; TemplateRefused otherwise."""
    if not NAME.match(name or ""):
        raise _refuse(repr(name), "is not an allowed template name: use letters, digits, '_', "
                                  "'-' and '.', ending .docx (for example action_minute.docx).")
    if len(data) > MAX_TEMPLATE_BYTES:
        raise _refuse(name, f"is {len(data):,} bytes; a Word template may be at most "
                            f"{MAX_TEMPLATE_BYTES:,} bytes (remove large pictures).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError,
            NotImplementedError):
        raise _refuse(name, "is not a Word document (.docx): save it from Word as a Word "
                            "Document and upload it again.") from None
    if len(infos) > MAX_PARTS:
        raise _refuse(name, f"holds {len(infos)} parts; a Word template has far fewer.")
    total = 0
    names = set()
    for info in infos:
        parts = info.filename.split("/")
        if info.filename.startswith("/") or "\\" in info.filename or ":" in info.filename or \
                any(p in ("", ".", "..") for p in parts):
            raise _refuse(name, f"holds a part named {info.filename!r}, with '..', a backslash "
                                "or an absolute path, as no Word document does; it was not "
                                "unpacked.")
        try:
            drafts.check_zip_entry(name, info, MAX_PART_BYTES, kind="Word template")
        except drafts.UploadRefused as exc:
            raise TemplateRefused(str(exc)) from None
        total += info.file_size
        names.add(info.filename)
    if total > MAX_UNPACKED_BYTES:
        raise _refuse(name, f"unpacks to {total:,} bytes; a Word template may be at most "
                            f"{MAX_UNPACKED_BYTES:,} bytes unpacked.")
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise _refuse(name, "is a zip but not a Word document (it has no word/document.xml): "
                            "save it from Word as a Word Document (.docx).")
    for info in infos:
        if not info.filename.endswith((".xml", ".rels")):
            continue
        try:
            with archive.open(info) as handle:
                content = handle.read(MAX_PART_BYTES + 1)
        except Exception:  # noqa: BLE001 - a damaged zip is the owner's message, never a 500
            raise _refuse(name, f"is damaged: {info.filename} cannot be unpacked. Save it again "
                                "from Word.") from None
        if len(content) > MAX_PART_BYTES:
            raise _refuse(name, f"holds {info.filename}, larger than {MAX_PART_BYTES:,} bytes "
                                "once unpacked.")
        try:
            parse_untrusted(content, MAX_PART_BYTES)
        except UnsafeXml as exc:
            raise _refuse(name, f"was refused: its part {info.filename}: {exc}.") from None
    return data


DUBLIN_CORE_TITLE = "{http://purl.org/dc/elements/1.1/}title"


def title(name: str, data: bytes) -> str:
    """What the council called the document: the title it gave the template in Word (File,
    Info, Title: "Referral Form for Legal Advice"), else the file's name in words. Read from
    the package's core properties with the same hardened parser as every other part."""
    try:
        with zipfile.ZipFile(io.BytesIO(read(name, data))) as archive:
            core = archive.read("docProps/core.xml")[:MAX_PART_BYTES]
        found = parse_untrusted(core, MAX_PART_BYTES).find(DUBLIN_CORE_TITLE)
        written = " ".join((found.text or "").split()) if found is not None else ""
    except (KeyError, TemplateRefused, UnsafeXml, zipfile.BadZipFile):
        written = ""
    return written[:200] or name.removesuffix(".docx").replace("_", " ").capitalize()


def _source(data: bytes) -> str:
    """The template's text as docxtpl renders it (Word's split runs joined), body, headers
    and footers together."""
    from docxtpl import DocxTemplate
    try:
        template = DocxTemplate(io.BytesIO(data))
        template.init_docx()
        xml = template.patch_xml(template.get_xml())
        for uri in (template.HEADER_URI, template.FOOTER_URI):
            for _key, part in template.get_headers_footers(uri):
                xml += template.patch_xml(template.get_part_xml(part))
    except Exception:  # noqa: BLE001 - python-docx's many errors on a odd package
        raise TemplateRefused("cannot be opened as a Word document: save it again from Word "
                              "as a Word Document (.docx).") from None
    return xml


def _written(node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_written(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_written(node.node)}.{node.arg.value}"
    return "…"


def _nearest(word: str, choices) -> str:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0)
    return found[0] if found else ""


def problems(name: str, data: bytes, fields: Mapping[str, str], form: str = "") -> list[str]:
    """Every problem with the template's placeholders against the task's form fields
    ({field name: title}); empty when it can be rendered."""
    try:
        tree = environment().parse(_source(data))
    except TemplateRefused as exc:
        return [f"{name} {exc}"]
    except TemplateError as exc:
        line = f" (near line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        return [f"{name} has a placeholder that cannot be read: {exc.message}{line}. Write "
                "placeholders as {{ answers.field }} and {% if ... %} ... {% endif %}."]
    found: list[str] = []
    loops = {t.name for f in tree.find_all(nodes.For) for t in f.target.find_all(nodes.Name)}

    def add(message):
        if message not in found:
            found.append(f"{name}: {message}" if not message.startswith(name) else message)

    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED):
            kind = type(node).__name__.lower()
            add(f"uses {kind}, which templates may not: a placeholder only names what was "
                "recorded, as {{ answers.field }}, with {% if %} and {% for %} around text.")
        elif isinstance(node, nodes.Getattr) and node.attr.startswith("_") or \
                isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and \
                str(node.arg.value).startswith("_"):
            add(f"the placeholder {{{{ {_written(node)} }}}} reaches into Python's internals, "
                "which templates may not; name a field of the form instead.")
        elif isinstance(node, nodes.Filter) and node.name not in FILTERS:
            add(f"uses the filter {node.name}, which templates may not (allowed: "
                f"{', '.join(sorted(FILTERS))}).")
    if found:
        return found
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            add(f"the placeholder {{{{ {_written(node)} }}}} picks a field by a value; name "
                "the field itself, as {{ answers.field }}.")
    for placeholder in _placeholders(tree):
        allowed = ROOTS.get(placeholder.root)
        if placeholder.root in loops:
            if placeholder.field is not None and placeholder.field not in ROW_FIELDS:
                add(f"the placeholder {{{{ {placeholder.text} }}}} names {placeholder.field}; "
                    f"a row of recorded has only label and text.")
            continue
        if placeholder.root not in ROOTS:
            add(f"the placeholder {{{{ {placeholder.text} }}}} names {placeholder.root}, "
                f"which PACE Flow does not fill; the nearest is "
                f"{_nearest(placeholder.root, ROOTS)} (placeholders start with "
                f"{', '.join(ROOTS)}).")
        elif placeholder.field is None:
            continue
        elif allowed is None and placeholder.field not in fields:
            where = f"the form {form}" if form else "the task's form"
            add(f"the placeholder {{{{ {placeholder.text} }}}} names {placeholder.field}, "
                f"which is not a field of {where}; the nearest field is "
                f"{_nearest(placeholder.field, fields) or 'none (the form has no fields)'}.")
        elif allowed is not None and placeholder.field not in allowed:
            add(f"the placeholder {{{{ {placeholder.text} }}}} names {placeholder.field}, "
                f"which {placeholder.root} does not have; the nearest is "
                f"{_nearest(placeholder.field, allowed) or placeholder.root} "
                f"({placeholder.root} has {', '.join(allowed) or 'no parts'}).")
    return found


def _placeholders(tree) -> list[Placeholder]:
    """Each name used, with the field its first dot names (``answers.recommendation``)."""
    found, inner = [], set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        inner.add(id(node.node))
        base = node.node
        if isinstance(base, nodes.Name):
            key = node.attr if isinstance(node, nodes.Getattr) else str(node.arg.value)
            found.append(Placeholder(_written(node), base.name, key))
    for node in tree.find_all(nodes.Name):
        if id(node) not in inner and node.ctx == "load":
            found.append(Placeholder(node.name, node.name, None))
    return found


def placeholders(data: bytes) -> list[str]:
    """The placeholders a template uses, as written, for the process owner's page."""
    try:
        tree = environment().parse(_source(data))
    except (TemplateRefused, TemplateError):
        return []
    return sorted({p.text for p in _placeholders(tree)})


def render(name: str, data: bytes, context: Mapping) -> bytes:
    """The document made from the template; TemplateRefused (naming the template) if it
    cannot be, as a template deployed before a check would be."""
    from docxtpl import DocxTemplate
    from jinja2.exceptions import SecurityError
    read(name, data)
    try:
        template = DocxTemplate(io.BytesIO(data))
        template.render(dict(context), jinja_env=environment(), autoescape=True)
        out = io.BytesIO()
        template.save(out)
    except SecurityError:
        raise _refuse(name, "reaches into Python's internals, which templates may not: the "
                            "process owner must correct it.") from None
    except TemplateError as exc:
        raise _refuse(name, f"could not be filled in ({exc.message}): the process owner must "
                            "check it.") from None
    document = out.getvalue()
    if len(document) > MAX_DOCUMENT_BYTES:
        raise _refuse(name, f"made a document of {len(document):,} bytes; at most "
                            f"{MAX_DOCUMENT_BYTES:,} bytes are kept.")
    return document


def check(name: str, data: bytes, schema: Mapping, form: str = "") -> list[str]:
    """The registry's check of a task's template (``ValidationContext.document_check``):
    the package's safety, then its placeholders against the form's fields."""
    try:
        read(name, data)
    except TemplateRefused as exc:
        return [str(exc)]
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    fields = {k: str((v or {}).get("title") or k) for k, v in (props or {}).items()
              if isinstance(v, Mapping)}
    return problems(name, data, fields, form)


def read_upload(files: list[tuple[str, bytes]]) -> drafts.Upload:
    """``drafts.read_upload`` taking Word templates as well, each read safely first."""
    upload = drafts.read_upload(files, documents=True)
    if upload.documents and len(upload.documents) > MAX_TEMPLATES:
        raise drafts.UploadRefused(f"At most {MAX_TEMPLATES} Word templates can be uploaded.")
    for name, data in (upload.documents or {}).items():
        try:
            read(name, data)
        except TemplateRefused as exc:
            raise drafts.UploadRefused(str(exc)) from None
    return upload
