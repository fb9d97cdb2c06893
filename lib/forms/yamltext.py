"""Stage 1 of the form pipeline: YAML text -> plain data plus the line of every value.

Only PyYAML's SafeLoader builds values (no arbitrary tags); we walk its node graph ourselves so
that we can reject duplicate keys (PyYAML silently keeps the last) and remember lines.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import FormDefinitionError, FormProblem, problem

Path_ = tuple[Any, ...]


class LineMap(dict):
    """Maps a path inside the document (keys and list indexes) to its 1-based line."""

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one.

        >>> LineMap({("a",): 3}).line_of(("a", 0, "b"))
        3
        """
        path = tuple(path)
        while path:
            if path in self:
                return self[path]
            path = path[:-1]
        return self.get((), None)


def load_yaml(text: str, filename: str) -> tuple[Any, LineMap]:
    """Parse YAML safely; raise FormDefinitionError naming the file and line on any problem."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, LineMap()
        lines = LineMap()
        problems: list[FormProblem] = []
        data = _build(loader, node, (), lines, problems, filename)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename} 第 {mark.line + 1} 行" if mark else filename
        detail = getattr(exc, "problem", None) or str(exc)
        raise FormDefinitionError(filename, [problem("yaml_syntax", where=where, detail=detail)]) from None
    finally:
        loader.dispose()
    if problems:
        raise FormDefinitionError(filename, problems)
    return data, lines


def _build(loader, node, path: Path_, lines: LineMap, problems: list, filename: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in first_line:
                problems.append(
                    problem("duplicate_key", where=f"{filename} 第 {line} 行", key=key, first_line=first_line[key])
                )
                continue
            first_line[key] = line
            out[key] = _build(loader, value_node, path + (key,), lines, problems, filename)
            lines[path + (key,)] = line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (i,), lines, problems, filename) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
