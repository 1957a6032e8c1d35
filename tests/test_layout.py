"""The support package's rooms: no chapter imports the other's, no module over 300 lines, and the
package docstring is a map that names every module."""

import ast
from pathlib import Path

import tutorial_support

PACKAGE = Path(tutorial_support.__file__).parent
# which rooms each room may import from
ALLOWED = {
    "backends": {"backends"},
    "common": {"common", "backends"},
    "fast": {"common", "fast", "backends"},
    "ann": {"common", "fast", "ann"},
    "cnn": {"common", "cnn", "backends"},
}
# the only modules that name a backend's own package or ask which backend runs
BACKEND_SPECIFIC = {"backends", "cnn/distributed.py"}
BACKEND_PACKAGES = {"tensorflow", "jax", "torch"}


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


def imported_rooms(path: Path) -> set[str]:
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tutorial_support" and len(parts) > 1 and parts[1] in ALLOWED:
                rooms.add(parts[1])
    return rooms


def test_no_chapter_imports_the_other_chapters_helpers():
    for path in modules():
        room = path.parent.name
        assert imported_rooms(path) <= ALLOWED[room], f"{path.relative_to(PACKAGE)}"


def test_every_module_is_at_most_300_lines_and_on_the_map():
    the_map = tutorial_support.__doc__
    for path in modules():
        assert len(path.read_text().splitlines()) <= 300, path.name
        assert path.name == "__init__.py" or f"``{path.stem}``" in the_map, path.name
    for room in ALLOWED:
        assert f"``{room}/``" in the_map


def test_backend_specific_code_lives_in_backends():
    """Everywhere else speaks keras.ops; only backends/ (and tf.distribute's distributed.py)
    imports TensorFlow, JAX or PyTorch, or asks which backend runs."""
    for path in modules():
        where = path.relative_to(PACKAGE)
        if where.parts[0] in BACKEND_SPECIFIC or str(where) in BACKEND_SPECIFIC:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & BACKEND_PACKAGES, where
            elif isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in BACKEND_PACKAGES, where
                assert "chosen" not in {a.name for a in node.names}, where
            elif isinstance(node, ast.Attribute):
                assert node.attr != "backend" or not (
                    isinstance(node.value, ast.Attribute) and node.value.attr == "backend"
                ), where  # keras.backend.backend()
