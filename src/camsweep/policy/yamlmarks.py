"""YAML with line numbers: so a schema error says which line of which file to fix.

`load_marked(text, name)` returns the data (PyYAML's safe types: dates stay dates) and a
`Marks` table from field paths to 1-based line numbers, recorded from each node's
`start_mark` while the document is constructed. `Marks.line(loc)` finds the line of a
pydantic error location, falling back to the nearest enclosing field that exists (a
missing field is reported at the line of the mapping that lacks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass
class Marks:
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, loc: Sequence[str | int]) -> int:
        """Line of the deepest existing prefix of `loc`; unknown segments (union tags) skipped."""
        best: Path = ()
        for part in loc:
            candidate = (*best, part)
            if candidate in self.lines:
                best = candidate
        return self.lines.get(best, 1)


class MarkedLoader(yaml.SafeLoader):
    """A SafeLoader that records where every mapping key and sequence item starts."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.line_marks = Marks()

    def _record(self, node: yaml.Node, path: Path) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                here = (*path, str(key))
                self.line_marks.lines.setdefault(here, key_node.start_mark.line + 1)
                self._record(value_node, here)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                here = (*path, index)
                self.line_marks.lines.setdefault(here, item.start_mark.line + 1)
                self._record(item, here)

    def load_with_marks(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        self.line_marks.lines[()] = node.start_mark.line + 1
        self._record(node, ())
        return self.construct_document(node)


def load_marked(text: str) -> tuple[Any, Marks]:
    """Parse one YAML document; raises `yaml.YAMLError` (with its own mark) when malformed."""
    loader = MarkedLoader(text)
    try:
        data = loader.load_with_marks()
    finally:
        loader.dispose()
    return data, loader.line_marks
