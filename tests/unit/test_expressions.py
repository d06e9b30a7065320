"""The sandbox for conditions: allowed shapes evaluate; anything else is refused."""
import pytest

from engine.expressions import UnsafeExpression, allowed_script_function, evaluate_safely


@pytest.mark.parametrize("expr, names, expected", [
    ("route == 'adoption'", {"route": "adoption"}, True),
    ("route in ['permanence_order', 'adoption']", {"route": "home"}, False),
    ("not (a > 3 and b <= 2) or c", {"a": 4, "b": 1, "c": False}, False),
    ("weeks * 7 + 1", {"weeks": 30}, 211),
    ("'x' if flag else 'y'", {"flag": True}, "x"),
])
def test_allowed_expressions(expr, names, expected):
    assert evaluate_safely(expr, names) == expected


@pytest.mark.parametrize("expr", [
    "__import__('os').system('id')",
    "route.upper() == 'X'",
    "open('/etc/passwd')",
    "().__class__.__bases__",
    "[x for x in range(10)]",
    "(lambda: 1)()",
    "data['route']",
    "_secret",
    "9 ** 9 ** 9",
    "route := 'x'",
])
def test_unsafe_expressions_are_refused(expr):
    with pytest.raises(UnsafeExpression):
        evaluate_safely(expr, {"route": "home", "data": {}})


def test_builtins_are_not_reachable():
    with pytest.raises(NameError):
        evaluate_safely("len", {})


def test_script_allow_list():
    assert allowed_script_function("notify()", {"notify": print}) == "notify"
    for script in ["import os", "notify(1)", "other()", "notify(); other()", "os.system('x')"]:
        with pytest.raises(UnsafeExpression):
            allowed_script_function(script, {"notify": print})
