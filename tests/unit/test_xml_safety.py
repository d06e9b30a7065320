"""Hostile XML never reaches the BPMN parser."""
import pytest

from engine.xml_safety import UnsafeXml, parse_untrusted

XXE = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions>&xxe;</definitions>"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<definitions>&lol2;</definitions>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS])
def test_entity_payloads_are_refused(payload):
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        parse_untrusted(payload)


def test_size_limit():
    with pytest.raises(UnsafeXml, match="limit"):
        parse_untrusted("<a>" + "x" * 100 + "</a>", max_bytes=50)


def test_not_well_formed_says_where():
    with pytest.raises(UnsafeXml, match="line 1"):
        parse_untrusted("<a><b></a>")


def test_invalid_utf8():
    with pytest.raises(UnsafeXml):
        parse_untrusted(b"<a>\xff\xfe</a>")


def test_plain_xml_parses():
    assert parse_untrusted("<a><b/></a>").tag == "a"
