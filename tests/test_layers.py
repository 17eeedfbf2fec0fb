"""The core's layers: every import inside ganzoo/ runs down the order docs/architecture.md draws, and no module
imports itself back through others. Deferred imports (inside functions) and type-checking ones count too."""

from __future__ import annotations

import ast
from pathlib import Path

import ganzoo

ROOT = Path(ganzoo.__file__).parent

# Bottom first: a subpackage (or top-level module) imports only from itself and from those before it.
LAYERS = (
    "errors", "utils", "interrupts",   # the base: no ganzoo imports
    "api",          # every public type: specs, hooks, options, the prior, statistics, what metrics are handed
    "layers",       # building blocks for plugins' networks
    "algorithms",   # the built-in training algorithm (public: ganzoo.Alternating)
    "registry",     # discovery of plugins and the named registries
    "run",          # a run's config, plan, folder, data and processes
    "datasets",     # the built-in data sets
    "sampling",     # drawing from a generator: pictures, codes, interpolation, inversion
    "metrics",      # measuring a generator
    "curves",       # reading and drawing a run's logs
    "training",     # the trainer, its step, checkpoints and speed
    "bench",        # suites: planning, launching, collecting, tables, reproduce
    "leaderboard",  # results folders as pages, tables and citations
    "builtin",      # the core's own contributions, loaded by name like every plugin
    "testing",      # the plugin authors' kit
    "cli",          # the command line
    "__main__",
)
FACADE = "__init__"  # ganzoo itself re-exports the public names; nothing inside imports it


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def type_checking_nodes(tree: ast.Module) -> set[ast.AST]:
    """The statements under ``if TYPE_CHECKING:``, which name types for annotations and never run."""
    blocks = [node for node in ast.walk(tree) if isinstance(node, ast.If) and isinstance(node.test, ast.Name)
              and node.test.id == "TYPE_CHECKING"]
    return {inner for block in blocks for statement in block.body for inner in ast.walk(statement)}


def imported(path: Path, *, running: bool = False) -> set[str]:
    """Every ganzoo module ``path`` imports, wherever the import statement is (``running``: only those that run,
    not the type-checking ones)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    skipped = type_checking_nodes(tree) if running else set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            # "from ganzoo.run import rundir" imports the module ganzoo.run.rundir
            names.update(f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base for alias in node.names)
    return {name for name in names if name == "ganzoo" or name.startswith("ganzoo.")}


def layer_of(module: str) -> str:
    return FACADE if module == "ganzoo" else module.split(".")[1]


def import_graph(*, running: bool = False) -> dict[str, set[str]]:
    return {module_name(path): imported(path, running=running) for path in sorted(ROOT.rglob("*.py"))}


def test_every_module_belongs_to_a_declared_layer():
    undeclared = {layer_of(module) for module in import_graph()} - set(LAYERS) - {FACADE}
    assert not undeclared, f"add {sorted(undeclared)} to LAYERS here and to docs/architecture.md's picture"


def test_imports_run_down_the_layers():
    rank = {name: number for number, name in enumerate(LAYERS)}
    upward = []
    for module, targets in import_graph().items():
        if layer_of(module) == FACADE:
            continue
        for target in targets:
            if layer_of(target) == FACADE:
                upward.append(f"{module} imports the facade 'ganzoo' (import from the module that defines it)")
            elif rank[layer_of(target)] > rank[layer_of(module)]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports running up a layer:\n" + "\n".join(sorted(upward))


def test_no_module_imports_itself_back():
    # type-checking imports may point both ways within a layer (a spec names its Algorithm, the Algorithm its
    # DataInfo); they never run, so they cannot leave a module half imported
    graph = import_graph(running=True)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path being walked, 2 done

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if target not in graph or layer_of(target) == FACADE:
                continue
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                walk(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_walker_sees_deferred_submodule_and_type_checking_imports():
    assert "ganzoo.registry.discovery" in imported(ROOT / "run" / "plan.py")
    assert "ganzoo.run.rundir" in imported(ROOT / "training" / "trainer.py")  # from ganzoo.run import rundir
    assert "ganzoo.leaderboard.write" in imported(ROOT / "cli" / "commands.py")  # inside a function
    loop = ROOT / "training" / "loop.py"  # names the Trainer for its annotations only
    assert "ganzoo.training.trainer" in imported(loop) - imported(loop, running=True)
