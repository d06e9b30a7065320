"""Hardened XML parsing for uploaded diagrams.

lxml is configured as defusedxml recommends: no entity resolution, no DTD loading, no
network, no huge trees; any DOCTYPE is refused outright because BPMN never needs one and
it is the vehicle for XXE and entity-expansion ("billion laughs") attacks.
"""
from __future__ import annotations

from lxml import etree

MAX_BYTES = 2 * 1024 * 1024


class UnsafeXml(ValueError):
    pass


# Each defence stands on its own (tests/unit/test_xml_defences.py turns the others off):
# a payload one of them misses, or a later change that drops one, still meets the rest.
PARSER_OPTIONS = dict(
    resolve_entities=False,  # an entity reference stays a reference: no file is read into the tree
    no_network=True,  # nothing is fetched from the network while parsing
    load_dtd=False,  # an external DTD is never read, so its entities are never defined
    dtd_validation=False,
    huge_tree=False,  # libxml2's limits (nesting depth 256, text size) stay on
    remove_comments=False,  # harmless: the BPMN parser skips comments
)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(**PARSER_OPTIONS)


def parse_untrusted(data: bytes | str, max_bytes: int = MAX_BYTES) -> etree._Element:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise UnsafeXml(f"the file is {len(raw):,} bytes; the limit is {max_bytes:,} bytes")
    head = raw[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in raw.lower():
        raise UnsafeXml("the file declares a DOCTYPE or entities, which BPMN files never need "
                        "(they are how XML entity attacks work); export the diagram again "
                        "from the modeler")
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"the file is not well-formed XML (line {exc.lineno}: {exc.msg})") from None
    if root.getroottree().docinfo.doctype:
        raise UnsafeXml("the file declares a DOCTYPE, which BPMN files never need")
    return root
