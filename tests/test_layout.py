"""The support package's rooms: no chapter imports the other's, no module over 300 lines, and the
package docstring is a map that names every module."""

import ast
from pathlib import Path

import tutorial_support

PACKAGE = Path(tutorial_support.__file__).parent
# which rooms each room may import from
ALLOWED = {
    "common": {"common"},
    "fast": {"common", "fast"},
    "ann": {"common", "fast", "ann"},
    "cnn": {"common", "cnn"},
}


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
