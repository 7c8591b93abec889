"""The layering rules, read from the source (every import, also inside functions).

- protocols/ is plain Python: no Django, and of billing only what is plain too;
- stand-ins (sandbox/gateways/) are the other side of the wire: no protocols, no
  integrations, so they can disagree with the shop's code;
- the core never imports the sandbox (the sandbox registers itself when ready); the
  tools (cli/, testing/) may use both;
- no import cycles between billing's modules, not even behind a function-level import.
Imports under ``if TYPE_CHECKING:`` are for annotations only and do not count.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "billing"
PLAIN = ("billing.protocols", "billing.exceptions", "billing.money", "billing.receivers")
TOOLS = ("billing.cli", "billing.testing", "billing.sandbox", "billing.__main__")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> set[str]:
    """Modules ``path`` imports at run time, as absolute names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                source = f"{prefix}.{node.module}" if node.module else prefix
            else:
                source = node.module or ""
            members = {f"{source}.{alias.name}" for alias in node.names}
            modules = members & MODULE_NAMES
            # ``from . import conf`` imports the module; the package is loaded already.
            found.update(modules or {source})
            found.update(members - modules)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


MODULES = {
    module_name(path): path
    for path in sorted(PACKAGE.rglob("*.py"))
    if "migrations" not in path.parts
}
MODULE_NAMES = set(MODULES)


def billing_imports(name: str) -> set[str]:
    """The billing modules ``name`` imports (a name that is a package's attribute maps to
    the package)."""
    found = set()
    for target in imports(MODULES[name]):
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        # A module's own packages are loaded before it: importing them is no edge.
        if target.startswith("billing") and target != name and not name.startswith(target + "."):
            found.add(target)
    return found


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("name", [n for n in MODULES if within(n, ("billing.protocols",))])
def test_protocols_are_plain_python(name: str) -> None:
    external = {i.split(".")[0] for i in imports(MODULES[name])}
    assert "django" not in external, f"{name} imports Django"
    assert all(within(i, PLAIN) for i in billing_imports(name)), billing_imports(name)


@pytest.mark.parametrize("name", [n for n in MODULES if within(n, ("billing.sandbox.gateways",))])
def test_stand_ins_are_independent_of_the_shops_code(name: str) -> None:
    forbidden = ("billing.protocols", "billing.integrations")
    assert not [i for i in billing_imports(name) if within(i, forbidden)]


@pytest.mark.parametrize("name", [n for n in MODULES if not within(n, TOOLS)])
def test_the_core_never_imports_the_sandbox(name: str) -> None:
    assert not [i for i in billing_imports(name) if within(i, ("billing.sandbox",))]


def test_no_import_cycles() -> None:
    graph = {name: billing_imports(name) for name in MODULES}
    # A package's __init__ is imported with every module in it: not a cycle of its own.
    cycles = []
    for start in graph:
        stack = [(start, [start])]
        seen = set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start and len(path) > 1:
                    cycles.append(path)
                elif nxt not in seen and nxt not in path:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    shortest = sorted({" -> ".join(sorted(c)) for c in cycles})
    assert not cycles, "import cycles:\n" + "\n".join(shortest[:10])
