"""Run one graded exercise of a lesson in seconds, without running the lesson's training.

:func:`context` follows the names an exercise's cells use back through the notebook and picks
only the code cells that define them (or change them, ``G.apply(...)``), the way a backward
slice does; :func:`run_cells` executes cells in one namespace as a kernel would. The tests in
test_assignments.py use them to run each student version's locked check against the stub and
against the solution.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import io

BUILTINS = frozenset(dir(builtins))


class _Names(ast.NodeVisitor):
    """Names a statement reads from the enclosing namespace and names it binds there.

    Lambda parameters and comprehension targets are local to their own scope: reading them
    is not reading the notebook's namespace, and binding them binds nothing there.
    """

    def __init__(self) -> None:
        self.loads: set[str] = set()
        self.stores: set[str] = set()
        self._local: list[set[str]] = []

    def visit_Name(self, node: ast.Name) -> None:
        if any(node.id in scope for scope in self._local):
            return
        (self.loads if isinstance(node.ctx, ast.Load) else self.stores).add(node.id)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        if not self._local:
            self.stores.update((alias.asname or alias.name).split(".")[0] for alias in node.names)

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node) -> None:
        if not self._local:
            self.stores.add(node.name)
        self._scoped(node.args, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if not self._local:
            self.stores.add(node.name)
        for child in node.bases + node.body:
            self.visit(child)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scoped(node.args, [node.body])

    def _scoped(self, args: ast.arguments, body: list) -> None:
        for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
            self.visit(default)
        params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        self._local.append(params)
        for child in body:
            self.visit(child)
        self._local.pop()

    def _comprehension(self, node) -> None:
        scope: set[str] = set()
        self._local.append(scope)
        for generator in node.generators:
            self.visit(generator.iter)
            scope.update(n.id for n in ast.walk(generator.target) if isinstance(n, ast.Name))
            for condition in generator.ifs:
                self.visit(condition)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part))
        self._local.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension


def _names(node: ast.AST) -> _Names:
    names = _Names()
    names.visit(node)
    return names


def free_names(source: str) -> set[str]:
    """Names a cell reads before it binds them (statement by statement), builtins left out."""
    free: set[str] = set()
    bound: set[str] = set()
    for statement in ast.parse(source).body:
        names = _names(statement)
        free |= names.loads - bound
        bound |= names.stores
    return free - BUILTINS


def bound_names(source: str) -> set[str]:
    """Names a cell binds at its top level (assignments, imports, loop targets)."""
    return _names(ast.parse(source)).stores


def changed_names(source: str) -> set[str]:
    """Names whose object a cell changes in place: ``X.method(...)``, ``X.attr = ...``, ``X[i] = ...``."""
    changed = set()
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            target = statement.value.func
            targets = [target.value] if isinstance(target, ast.Attribute) else []
        elif isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = [t.value for t in getattr(statement, "targets", [getattr(statement, "target", None)])
                       if isinstance(t, (ast.Attribute, ast.Subscript))]
        else:
            continue
        for target in targets:
            while isinstance(target, (ast.Attribute, ast.Subscript)):
                target = target.value
            if isinstance(target, ast.Name):
                changed.add(target.id)
    return changed


def context(sources: list[str | None], first: int, last: int) -> list[int]:
    """Indices of the code cells before ``first`` that cells ``first..last`` need.

    ``sources[i]`` is a code cell's source, None for other cells. Walking backwards, a cell is
    taken when it binds or changes a needed name; what it reads becomes needed, and a name it
    binds is no longer needed from further up.
    """
    needed: set[str] = set()
    for i in range(first, last + 1):
        needed |= free_names(sources[i])
    chosen = []
    for i in range(first - 1, -1, -1):
        source = sources[i]
        if source is None:
            continue
        binds, changes = bound_names(source), changed_names(source)
        if not (binds | changes) & needed:
            continue
        chosen.append(i)
        needed = (needed - binds) | free_names(source)
    return sorted(chosen)


def run_cells(sources: list[str], namespace: dict, where: str) -> str:
    """Execute ``sources`` one after the other in ``namespace``; return what they printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, source in enumerate(sources):
            exec(compile(source, f"<{where}, cell {number}>", "exec"), namespace)  # noqa: S102 - our lessons
    return printed.getvalue()
