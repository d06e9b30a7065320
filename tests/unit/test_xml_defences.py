"""Each of the XML defences stops its attack on its own.

The byte prefilter, the parser's options and the DOCTYPE check after parsing overlap, so a
test of the whole only proves that one of them works. Here each parser option is tried
with every other one turned off, and payloads the prefilter cannot see (UTF-16, UTF-32, a
DOCTYPE after the first 4 KB) show that the check after parsing refuses them.
"""
import http.server
import threading

import pytest
from lxml import etree

from engine.xml_safety import MAX_BYTES, PARSER_OPTIONS, UnsafeXml, parse_untrusted

# Every defence off: what lxml would do for a careless caller.
PERMISSIVE = dict(resolve_entities=True, no_network=False, load_dtd=True, huge_tree=True)


def parse_with_only(option: str, data: bytes):
    """Parse with this one of our options and every other defence off."""
    return etree.fromstring(data, etree.XMLParser(**{**PERMISSIVE, option: PARSER_OPTIONS[option]}))


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "case-notes.txt"
    path.write_text("CHILD-RECORD-SECRET")
    return path


def test_entities_stay_unresolved_with_only_resolve_entities_off(secret_file):
    payload = (f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret_file}">]>'
               '<definitions>&x;</definitions>').encode()
    assert b"CHILD-RECORD-SECRET" in etree.tostring(etree.fromstring(payload, etree.XMLParser(**PERMISSIVE)))
    assert b"CHILD-RECORD-SECRET" not in etree.tostring(parse_with_only("resolve_entities", payload))


def test_an_external_dtd_is_not_read_with_only_load_dtd_off(tmp_path):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "READ-FROM-THE-DTD">')
    payload = f'<!DOCTYPE definitions SYSTEM "file://{dtd}"><definitions>&leak;</definitions>'.encode()
    assert b"READ-FROM-THE-DTD" in etree.tostring(etree.fromstring(payload, etree.XMLParser(**PERMISSIVE)))
    with pytest.raises(etree.XMLSyntaxError, match="Entity 'leak' not defined"):
        parse_with_only("load_dtd", payload)


@pytest.fixture
def web_server():
    """A real HTTP server on 127.0.0.1 that records what is asked of it."""
    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"FROM-THE-NETWORK")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], asked
    server.shutdown()
    server.server_close()


def test_a_network_entity_is_refused_with_only_no_network_on(web_server):
    port, asked = web_server
    payload = (f'<!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/leak">]>'
               '<definitions>&x;</definitions>').encode()
    with pytest.raises(etree.XMLSyntaxError, match="network entity"):
        parse_with_only("no_network", payload)
    assert asked == []


def test_a_deep_tree_is_refused_with_only_huge_tree_off():
    deep = b"<a>" * 1000 + b"</a>" * 1000
    assert etree.fromstring(deep, etree.XMLParser(**PERMISSIVE)).tag == "a"
    with pytest.raises(etree.XMLSyntaxError, match="Excessive depth"):
        parse_with_only("huge_tree", deep)
    with pytest.raises(UnsafeXml, match="not well-formed XML .*Excessive depth"):
        parse_untrusted(deep)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_an_entity_payload_the_byte_filter_cannot_see_is_refused_after_parsing(encoding, secret_file):
    payload = (f'<?xml version="1.0" encoding="{encoding}"?>'
               f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret_file}">]>'
               '<definitions>&x;</definitions>').encode(encoding)
    assert b"<!doctype" not in payload.lower() and b"<!entity" not in payload.lower()
    with pytest.raises(UnsafeXml, match="^the file declares a DOCTYPE, which BPMN files never need$"):
        parse_untrusted(payload)


def test_a_doctype_after_the_first_4_kb_is_refused_after_parsing():
    payload = ('<?xml version="1.0"?><!--' + "x" * 5000 + '-->'
               '<!DOCTYPE definitions SYSTEM "definitions.dtd"><definitions/>').encode()
    with pytest.raises(UnsafeXml, match="^the file declares a DOCTYPE, which BPMN files never need$"):
        parse_untrusted(payload)


def test_an_entity_anywhere_in_the_file_is_refused_before_parsing():
    payload = ('<?xml version="1.0"?><!--' + "x" * 5000 + '--><!DOCTYPE d [<!ENTITY a "b">]>'
               '<definitions>&a;</definitions>').encode()
    with pytest.raises(UnsafeXml, match="declares a DOCTYPE or entities"):
        parse_untrusted(payload)


def test_the_size_limit_counts_bytes_and_allows_exactly_the_limit():
    at_limit = b"<a>" + b"x" * 43 + b"</a>"
    assert len(at_limit) == 50
    assert parse_untrusted(at_limit, max_bytes=50).text == "x" * 43
    with pytest.raises(UnsafeXml, match="^the file is 51 bytes; the limit is 50 bytes$"):
        parse_untrusted(b"<a>" + b"x" * 44 + b"</a>", max_bytes=50)
    # A text is measured in UTF-8 bytes, not characters: 22 × é is 44 bytes.
    with pytest.raises(UnsafeXml, match="the file is 51 bytes"):
        parse_untrusted("<a>" + "é" * 22 + "</a>", max_bytes=50)


def test_the_default_limit_is_two_megabytes():
    filler = b"<a>" + b"x" * (MAX_BYTES - 7) + b"</a>"
    assert MAX_BYTES == 2 * 1024 * 1024 and len(filler) == MAX_BYTES
    assert parse_untrusted(filler).tag == "a"
    with pytest.raises(UnsafeXml, match="the limit is 2,097,152 bytes"):
        parse_untrusted(filler + b" ")


def test_a_diagram_without_doctype_keeps_its_comments_and_text():
    root = parse_untrusted('<definitions><!-- by the modeler --><process id="p">é</process></definitions>')
    assert [child.tag for child in root] == [etree.Comment, "process"]
    assert root[1].text == "é"


PREFILTER_REFUSAL = ("the file declares a DOCTYPE or entities, which BPMN files never need (they "
                     "are how XML entity attacks work); export the diagram again from the modeler")


@pytest.mark.parametrize("doctype", ['<!DOCTYPE definitions SYSTEM "definitions.dtd">',
                                     '<!doctype definitions>'])
def test_a_doctype_in_the_first_4_kb_is_refused_before_the_parser_sees_it(doctype):
    with pytest.raises(UnsafeXml) as refused:
        parse_untrusted(f'<?xml version="1.0"?>{doctype}<definitions/>')
    assert str(refused.value) == PREFILTER_REFUSAL


@pytest.mark.parametrize("starts_at, message", [
    (4087, PREFILTER_REFUSAL),  # "<!DOCTYPE" ends on the 4,096th byte
    (4088, "the file declares a DOCTYPE, which BPMN files never need"),
])
def test_the_byte_filter_reads_the_first_4096_bytes(starts_at, message):
    head = '<?xml version="1.0"?><!--'
    payload = head + "x" * (starts_at - len(head) - 3) + '--><!DOCTYPE definitions><definitions/>'
    assert payload.index("<!DOCTYPE") == starts_at
    with pytest.raises(UnsafeXml) as refused:
        parse_untrusted(payload)
    assert str(refused.value) == message
