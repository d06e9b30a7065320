"""Sandboxed evaluation of gateway conditions and timer rules.

SpiffWorkflow's PythonScriptEngine is plain ``eval``/``exec``; a diagram uploaded by a
process owner must not be able to run code on the server. Expressions are checked against
an AST allow-list (comparisons, boolean logic, arithmetic, literals, task-data names) and
evaluated with empty builtins. Scripts are refused outright: the engine never executes one.
"""
from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timezone
from typing import Any

import simpleeval
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


# Bounded cost. A condition runs on every child that reaches its gateway, inside a web
# request or the timer sweep: one that builds a gigabyte string ('x' * 1000000000) or a
# huge number would stall the server for everyone. Without loops, calls or comprehensions
# an expression evaluates each of its nodes once, so bounding its nodes bounds its steps;
# literals are bounded here, and what values bring in (a long form answer repeated) is
# bounded while it is evaluated (simpleeval's safe operators, MAX_RESULT_LENGTH).
MAX_EXPRESSION_CHARS = 2000
MAX_NODES = 400  # evaluation steps: each node is evaluated at most once
MAX_STRING_LITERAL = 500
MAX_NUMBER_LITERAL = 10 ** 15
MAX_ITEMS = 100  # items in a list, tuple or set written in the expression
MAX_RESULT_LENGTH = 100_000  # longest string or list an operator may build while evaluating


class UnsafeExpression(ValueError):
    """An expression uses something outside the allow-list."""


class ExpressionTooCostly(ValueError):
    """Evaluating an expression would exceed the engine's bounds (steps, result sizes)."""


@functools.lru_cache(maxsize=4096)
def check_expression(expression: str) -> ast.Expression:
    """Parse and vet an expression; raise UnsafeExpression saying what is not allowed."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise UnsafeExpression(f"is longer than {MAX_EXPRESSION_CHARS:,} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        why = getattr(exc, "msg", "nested too deeply")
        raise UnsafeExpression(f"is not a valid expression ({why})") from None
    nodes = 0
    for node in ast.walk(tree):
        nodes += 1
        if not isinstance(node, _ALLOWED):
            what = _NAMES.get(type(node), type(node).__name__)
            raise UnsafeExpression(f"uses {what}, which diagrams may not use; "
                                   "compare form fields with literals instead")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise UnsafeExpression(f"uses the private name {node.id!r}")
        _check_cost(node)
    if nodes > MAX_NODES:
        raise UnsafeExpression(f"has {nodes} parts; the limit is {MAX_NODES}: split the "
                               "decision over several gateways")
    return tree


def _check_cost(node: ast.AST) -> None:
    """Refuse what would make one evaluation expensive: repetition and oversized literals."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and any(
            isinstance(side, (ast.List, ast.Tuple, ast.Set)) or
            (isinstance(side, ast.Constant) and isinstance(side.value, (str, bytes)))
            for side in (node.left, node.right)):
        raise UnsafeExpression("repeats a string or list with *, which diagrams may not do; "
                               "compare form fields with literals instead")
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (str, bytes)) and len(value) > MAX_STRING_LITERAL:
            raise UnsafeExpression(f"has a text of {len(value):,} characters; the limit is "
                                   f"{MAX_STRING_LITERAL}")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                abs(value) > MAX_NUMBER_LITERAL:
            raise UnsafeExpression(f"has the number {value:.3g}, larger than the limit "
                                   f"{MAX_NUMBER_LITERAL:.0e}")
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(node.elts) > MAX_ITEMS:
        raise UnsafeExpression(f"lists {len(node.elts)} values; the limit is {MAX_ITEMS}: "
                               "record a category in the form and compare with that")


class _BoundedEvaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval's evaluator (operators that refuse to build strings and lists over its
    MAX_STRING_LENGTH, powers over MAX_POWER) counting its steps."""

    def __init__(self, names):
        super().__init__(functions={}, names=names)
        self.functions = {}  # no list(), dict() …: the allow-list has no calls anyway
        self.steps = 0

    def _eval(self, node):
        self.steps += 1
        if self.steps > MAX_NODES:
            raise ExpressionTooCostly(f"took more than {MAX_NODES} evaluation steps")
        return super()._eval(node)


simpleeval.MAX_STRING_LENGTH = MAX_RESULT_LENGTH


def evaluate_safely(expression: str, names: Mapping[str, Any]) -> Any:
    """The value of a vetted expression over ``names``; ExpressionTooCostly when it would
    build a string or list longer than MAX_RESULT_LENGTH or take more than MAX_NODES steps;
    NameError for a name ``names`` does not hold (as ``eval`` would)."""
    tree = check_expression(expression)
    evaluator = _BoundedEvaluator(dict(names))
    try:
        return evaluator.eval(expression, previously_parsed=tree.body)
    except simpleeval.NameNotDefined as exc:
        raise NameError(f"name {exc.name!r} is not defined") from None
    except (simpleeval.IterableTooLong, simpleeval.NumberTooHigh) as exc:
        raise ExpressionTooCostly(f"would build a value larger than the engine allows "
                                  f"({MAX_RESULT_LENGTH:,} characters or items): {exc}") from None


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
