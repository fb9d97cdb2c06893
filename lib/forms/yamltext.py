"""Stage 1 of the form pipeline: YAML text -> plain data plus the line of every value.

Only PyYAML's SafeLoader builds values (no arbitrary tags); we walk its node graph ourselves so
that we can reject duplicate keys (PyYAML silently keeps the last) and remember lines.

A form file is written by a person and read by a server every session shares, so its cost is
bounded before it is parsed: the size is capped before reading, and a first pass over the parser's
events refuses anchors and aliases (an alias bomb of a few hundred bytes expands to gigabytes) and
caps nesting depth and the number of values, before any node is composed or built.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import FormDefinitionError, FormProblem, problem

Path_ = tuple[Any, ...]

#: Largest form or campaign file read, in bytes. A shipped form is about 10 KB; the cap leaves room
#: for forms ten times larger and keeps a parse in milliseconds. A constant rather than a setting:
#: lib/settings.py is another area's, and no deployment has needed another value.
MAX_FILE_BYTES = 256 * 1024
#: Deepest nesting of mappings and lists (a table field inside a section inside a form is 7 levels).
MAX_DEPTH = 32
#: Most values (scalars, mappings, lists) in one file; a shipped form has about 500.
MAX_NODES = 10_000


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


class _Refused(Exception):
    """A bound was crossed while composing: the code and params of the problem, and its line."""

    def __init__(self, code: str, line: int, **params: Any):
        super().__init__(code)
        self.code, self.line, self.params = code, line, params


# libyaml's parser when PyYAML was built with it (the PyPI wheels are): ten times faster than the pure
# Python one, so even a file at the caps parses in a fraction of a second.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
_NODE = (yaml.ScalarEvent, *_OPEN)


def _check_events(text: str) -> None:
    """Walk the parser's events (no node is built yet) and refuse anchors, aliases and runaway
    nesting or size before composition, whose cost those would multiply."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused("yaml_alias", line)
        if isinstance(event, _NODE):
            nodes += 1
            if nodes > MAX_NODES:
                raise _Refused("yaml_too_many_nodes", line, limit=MAX_NODES)
            if depth >= MAX_DEPTH:
                raise _Refused("yaml_too_deep", line, limit=MAX_DEPTH)
        if isinstance(event, _OPEN):
            depth += 1
        elif isinstance(event, _CLOSE):
            depth -= 1


def read_text(path: Path) -> str:
    """The text of a form file, read only up to the size cap; FormDefinitionError when it is not a regular
    file, too big or not UTF-8.

    Opened without blocking and checked on the open descriptor (no gap between check and read): opening
    a named pipe waits for a writer forever, and a device (a symlink to /dev/zero) never ends, so the
    catalog lock would stall every session.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FormDefinitionError(path.name, [problem("not_regular_file", where=path.name, kind=_file_kind(mode))])
        data = b""
        while len(data) <= MAX_FILE_BYTES and (chunk := os.read(fd, MAX_FILE_BYTES + 1 - len(data))):
            data += chunk
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise FormDefinitionError(path.name, [problem("file_too_large", where=path.name, limit=MAX_FILE_BYTES)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FormDefinitionError(path.name, [problem("not_utf8", where=path.name)]) from None


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "文件夹"), (stat.S_ISFIFO, "命名管道"), (stat.S_ISCHR, "字符设备"), (stat.S_ISBLK, "块设备"),
             (stat.S_ISSOCK, "套接字"))
    return next((name for test, name in kinds if test(mode)), "特殊文件")


def _bad_character(text: str, filename: str) -> FormProblem | None:
    """The first character YAML refuses (a NUL byte, a control character), located by line."""
    found = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if found is None:
        return None
    line = text.count("\n", 0, found.start()) + 1
    return problem("yaml_bad_char", where=f"{filename} 第 {line} 行", char=f"U+{ord(found.group()):04X}")


def load_yaml(text: str, filename: str) -> tuple[Any, LineMap]:
    """Parse YAML safely; raise FormDefinitionError naming the file and line on any problem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise FormDefinitionError(filename, [problem("file_too_large", where=filename, limit=MAX_FILE_BYTES)])
    bad = _bad_character(text, filename)
    if bad:
        raise FormDefinitionError(filename, [bad])
    loader = _Loader(text)
    try:
        _check_events(text)
        node = loader.get_single_node()
        if node is None:
            return None, LineMap()
        lines = LineMap()
        problems: list[FormProblem] = []
        data = _build(loader, node, (), lines, problems, filename)
    except _Refused as exc:
        raise FormDefinitionError(filename, [problem(exc.code, where=f"{filename} 第 {exc.line} 行", **exc.params)]) from None
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


def _scalar(loader, node, filename: str) -> Any:
    """Build one scalar; a value its tag cannot hold (2020-02-30, a 5,000-digit int) is a problem of its line."""
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as exc:
        where = f"{filename} 第 {node.start_mark.line + 1} 行"
        raise FormDefinitionError(filename, [problem("yaml_value", where=where, value=str(node.value)[:40], detail=type(exc).__name__)]) from None


def _build(loader, node, path: Path_, lines: LineMap, problems: list, filename: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(problem("yaml_key", where=f"{filename} 第 {line} 行"))
                continue
            key = _scalar(loader, key_node, filename)
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
    return _scalar(loader, node, filename)
