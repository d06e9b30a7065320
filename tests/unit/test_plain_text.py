"""Single-line text: what references and names may hold, and folding for mail headers."""
import pytest

from engine.plain_text import one_line, single_line_problem


@pytest.mark.parametrize("value", ["R1\r\nBcc: x@example.org", "R1\n", "R1\rX", "A\tB", "A\x00B",
                                   "A\x7fB", "A\x85B", "A\u2028B", "A\u2029B", "A\x1bB"])
def test_control_characters_are_refused(value):
    assert "one line of text" in single_line_problem(value)


@pytest.mark.parametrize("value", ["C00001", "Ava O'Neil-Smith", "Zoë Ćwik", "Child (2)",
                                   "名前", "A B"])
def test_ordinary_text_is_allowed_and_unchanged(value):
    assert single_line_problem(value) is None
    assert one_line(value) is value


def test_folding_leaves_one_line():
    assert one_line("R1\r\nBcc: x@example.org") == "R1  Bcc: x@example.org"
    assert "\n" not in one_line("a\u2028b\nc") and "\r" not in one_line("a\rb")
