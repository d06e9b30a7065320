"""Sandboxed evaluation of gateway conditions and timer rules.

SpiffWorkflow's PythonScriptEngine is plain ``eval``/``exec``; a diagram uploaded by a
process owner must not be able to run code on the server. Expressions are checked against
an AST allow-list (comparisons, boolean logic, arithmetic, literals, task-data names) and
evaluated with empty builtins. Scripts are refused outright: the engine never executes one.
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timezone
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.FloorDiv,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Set,
    ast.IfExp,
)
_NAMES = {
    ast.Attribute: "attribute access", ast.Call: "a function call", ast.Subscript: "subscripting",
    ast.Lambda: "a lambda", ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension",
    ast.DictComp: "a comprehension", ast.SetComp: "a comprehension", ast.NamedExpr: "assignment",
    ast.Dict: "a dictionary literal", ast.Starred: "unpacking", ast.JoinedStr: "an f-string",
    ast.Pow: "the power operator",
}


class UnsafeExpression(ValueError):
    """An expression uses something outside the allow-list."""


def check_expression(expression: str) -> ast.Expression:
    """Parse and vet an expression; raise UnsafeExpression saying what is not allowed."""
    if len(expression) > 2000:
        raise UnsafeExpression("is longer than 2,000 characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise UnsafeExpression(f"is not a valid expression ({exc.msg})") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            what = _NAMES.get(type(node), type(node).__name__)
            raise UnsafeExpression(f"uses {what}, which diagrams may not use; "
                                   "compare form fields with literals instead")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise UnsafeExpression(f"uses the private name {node.id!r}")
    return tree


def evaluate_safely(expression: str, names: Mapping[str, Any]) -> Any:
    tree = check_expression(expression)
    code = compile(tree, "<diagram expression>", "eval")
    return eval(code, {"__builtins__": {}}, dict(names))  # noqa: S307 - AST vetted above


def allowed_script_function(script: str, allowed: Mapping[str, Callable]) -> str:
    """Name of the allow-listed function a script task calls, or UnsafeExpression.

    A script task may contain exactly one call, with no arguments, of a function the domain
    layer registered; anything else would be arbitrary code.
    """
    try:
        tree = ast.parse((script or "").strip(), mode="eval")
    except SyntaxError:
        tree = None
    if (tree is None or not isinstance(tree.body, ast.Call) or tree.body.args
            or tree.body.keywords or not isinstance(tree.body.func, ast.Name)):
        raise UnsafeExpression("a script task may only call one allow-listed function, "
                               "written as name()")
    name = tree.body.func.id
    if name not in allowed:
        known = ", ".join(sorted(allowed)) or "none are registered"
        raise UnsafeExpression(f"calls {name}(), which is not on the allow-list ({known})")
    return name


class SandboxedEnvironment(TaskDataEnvironment):
    def __init__(self, functions: Mapping[str, Callable[[dict], None]] | None = None):
        super().__init__({})
        self.functions = dict(functions or {})

    def evaluate(self, expression, context, external_context=None):
        names = dict(external_context or {})
        names.update(context)
        return evaluate_safely(expression, names)

    def execute(self, script, context, external_context=None):
        name = allowed_script_function(script, self.functions)
        self.functions[name](context)
        return True


class SandboxedScriptEngine(PythonScriptEngine):
    """Script engine whose timer expressions are due rules resolved by ``timer_rule``.

    ``timer_rule(task, text)`` returns the date a rule names (or None when it is not a rule);
    the engine turns it into the ISO datetime SpiffWorkflow's timer definitions expect.
    """

    def __init__(self, timer_rule: Callable[[Any, str], date | None] | None = None,
                 functions: Mapping[str, Callable[[dict], None]] | None = None):
        super().__init__(environment=SandboxedEnvironment(functions))
        self._timer_rule = timer_rule

    def evaluate(self, task, expression, external_context=None):
        event_definition = getattr(task.task_spec, "event_definition", None)
        if self._timer_rule is not None and isinstance(event_definition, TimerEventDefinition):
            when = self._timer_rule(task, expression)
            if when is not None:
                return datetime.combine(when, time(0, 0), timezone.utc).isoformat()
        return super().evaluate(task, expression, external_context)
