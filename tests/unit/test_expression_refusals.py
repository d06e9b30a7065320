"""Each refusal of the expression sandbox, for its own reason.

tests/unit/test_expressions.py shows that unsafe expressions are refused; a case refused for
another reason than the one it stands for (``range()`` is a call, ``:=`` a syntax error
unparenthesised) would still pass if its own rule were dropped. Here every message is
asserted, and every bound is tried at its limit and one past it.
"""
import pytest

from engine.expressions import (
    MAX_EXPRESSION_CHARS, MAX_ITEMS, MAX_NODES, MAX_NUMBER_LITERAL, MAX_RESULT_LENGTH,
    MAX_STRING_LITERAL, ExpressionTooCostly, UnsafeExpression, allowed_script_function,
    check_expression, evaluate_safely,
)


@pytest.mark.parametrize("expression, what", [
    ("lambda: 1", "a lambda"),
    ("[x for x in children]", "a comprehension"),
    ("(x for x in children)", "a comprehension"),
    ("{x for x in children}", "a comprehension"),
    ("{x: 1 for x in children}", "a comprehension"),
    ("(route := 'adoption')", "assignment"),
    ("route.upper", "attribute access"),
    ("f()", "a function call"),
    ("children[0]", "subscripting"),
    ("{'route': 1}", "a dictionary literal"),
    ("[*children]", "unpacking"),
    ("f'{route}'", "an f-string"),
    ("2 ** 10", "the power operator"),
    ("a @ b", "MatMult"),
])
def test_each_shape_outside_the_allow_list_is_refused_naming_it(expression, what):
    with pytest.raises(UnsafeExpression) as refused:
        check_expression(expression)
    assert str(refused.value) == (f"uses {what}, which diagrams may not use; "
                                  "compare form fields with literals instead")


def test_a_private_name_is_refused_by_name():
    with pytest.raises(UnsafeExpression, match="^uses the private name '_secret'$"):
        check_expression("_secret == 1")


def test_a_name_the_data_lacks_is_a_name_error_not_a_builtin():
    for builtin in ("len", "open", "__builtins__"):
        with pytest.raises((NameError, UnsafeExpression)) as raised:
            evaluate_safely(builtin, {})
        assert builtin in str(raised.value)
    with pytest.raises(NameError, match="^name 'len' is not defined$"):
        evaluate_safely("len", {})


def test_a_syntax_error_is_refused_saying_so():
    with pytest.raises(UnsafeExpression, match=r"^is not a valid expression \(invalid syntax\)$"):
        check_expression("route ==")


def test_the_length_limit_allows_exactly_2000_characters():
    at_limit = "route == 'adoption'".ljust(MAX_EXPRESSION_CHARS)
    assert MAX_EXPRESSION_CHARS == 2000
    assert evaluate_safely(at_limit, {"route": "adoption"}) is True
    with pytest.raises(UnsafeExpression, match="^is longer than 2,000 characters$"):
        check_expression(at_limit + " ")


@pytest.mark.parametrize("expression", [
    "'x' * 99999999999", "99999999999 * 'x'", "[0] * 10", "10 * (0, 1)", "{0} * 2", "b'x' * 3",
])
def test_repeating_a_text_or_list_is_refused(expression):
    with pytest.raises(UnsafeExpression) as refused:
        check_expression(expression)
    assert str(refused.value) == ("repeats a string or list with *, which diagrams may not do; "
                                  "compare form fields with literals instead")


def test_multiplying_numbers_is_allowed():
    assert evaluate_safely("weeks * 7", {"weeks": 3}) == 21


def test_a_text_literal_may_have_500_characters():
    assert MAX_STRING_LITERAL == 500
    assert evaluate_safely(repr("a" * 500) + " == note", {"note": "a" * 500}) is True
    with pytest.raises(UnsafeExpression, match="^has a text of 501 characters; the limit is 500$"):
        check_expression(repr("a" * 501))
    with pytest.raises(UnsafeExpression, match="^has a text of 501 characters"):
        check_expression(repr(b"a" * 501))


@pytest.mark.parametrize("number", [MAX_NUMBER_LITERAL, -MAX_NUMBER_LITERAL, 1e15])
def test_numbers_up_to_the_limit_are_allowed(number):
    assert evaluate_safely(f"{number!r} == n", {"n": number}) is True


@pytest.mark.parametrize("number", [MAX_NUMBER_LITERAL + 1, 1e16, 10 ** 100])
def test_numbers_past_the_limit_are_refused(number):
    with pytest.raises(UnsafeExpression, match=r"larger than the limit 1e\+15$"):
        check_expression(f"-{number!r}")


@pytest.mark.parametrize("brackets", ["[{}]", "({},)", "{{{}}}"])
def test_a_written_list_may_hold_100_values(brackets):
    assert MAX_ITEMS == 100
    check_expression(brackets.format(", ".join(map(str, range(100)))))
    with pytest.raises(UnsafeExpression) as refused:
        check_expression(brackets.format(", ".join(map(str, range(101)))))
    assert str(refused.value) == ("lists 101 values; the limit is 100: "
                                  "record a category in the form and compare with that")


def sum_of_parts(parts: int) -> str:
    """``a + 1 + 1 …`` with exactly ``parts`` syntax nodes (Expression, BinOp, Add, Name,
    Load and Constant each count), using a second name to make an even count."""
    constants, extra = divmod(parts - 3, 3)
    names = {0: 0, 1: 1, 2: 2}[extra]  # a name (Name + Load) has one node more than a constant
    terms = ["a"] + ["b"] * names + ["1"] * (constants - names)
    return " + ".join(terms)


def test_an_expression_may_have_400_parts():
    assert MAX_NODES == 400
    assert evaluate_safely(sum_of_parts(400), {"a": 0, "b": 0}) == sum_of_parts(400).count("1")
    with pytest.raises(UnsafeExpression, match="^has 401 parts; the limit is 400: split the decision"):
        check_expression(sum_of_parts(401))


def test_a_value_built_from_the_data_is_bounded_while_evaluating():
    assert MAX_RESULT_LENGTH == 100_000
    note = "x" * 100
    assert len(evaluate_safely("note * 1000", {"note": note})) == MAX_RESULT_LENGTH
    with pytest.raises(ExpressionTooCostly, match="larger than the engine allows \\(100,000 characters"):
        evaluate_safely("note * 1001", {"note": note})
    with pytest.raises(ExpressionTooCostly):
        evaluate_safely("note + note", {"note": "x" * 60_000})


@pytest.mark.parametrize("script_text", [
    "import os", "notify(1)", "notify(child=1)", "os.system()", "notify", "", None, "notify() or x",
])
def test_a_script_other_than_one_bare_call_is_refused(script_text):
    with pytest.raises(UnsafeExpression, match="^a script task may only call one allow-listed "
                                               "function, written as name\\(\\)$"):
        allowed_script_function(script_text, {"notify": print})


def test_a_script_calling_an_unregistered_function_names_those_registered():
    with pytest.raises(UnsafeExpression, match=r"^calls other\(\), which is not on the allow-list "
                                               r"\(alert, notify\)$"):
        allowed_script_function(" other() ", {"notify": print, "alert": print})
    with pytest.raises(UnsafeExpression, match=r"\(none are registered\)$"):
        allowed_script_function("notify()", {})
    assert allowed_script_function("  notify()\n", {"notify": print}) == "notify"
