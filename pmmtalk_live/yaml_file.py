"""The YAML files people write for us (retarget presets, ``serve --config``): one safe reader, one error quality.

A user's file may be half-typed, huge, hostile or simply not YAML; a live daemon reloads presets while
it streams. So every such file is read the same way, and every failure is one short line naming the
file (and the line and key where there is one), raised as the caller's error type:

- ``read_text``: a regular file of at most ``max_bytes``, UTF-8 (a BOM is fine);
- ``compose``: the node tree (line numbers kept), with libyaml's safe loader where installed. Refused:
  text that is not YAML, duplicate keys, nesting deeper than ``MAX_DEPTH`` (aliases included), more
  than ``MAX_NODES`` values once aliases are expanded, an alias inside the value it names;
- ``value_of``: a node's Python value through the safe constructor only (no Python tags); dates
  that do not exist and numbers of thousands of digits are errors, not crashes.

``shorten`` and ``show`` keep what a message quotes from the file short and on one line.
"""

from __future__ import annotations

import reprlib
from pathlib import Path

import yaml

from .errors import PmmtalkError

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (fast, and it stops at 1000 levels by itself)."""

MAX_DEPTH = 20
"""Deepest nesting of lists and mappings, counting aliases: a preset needs 5 levels, a config 3."""

MAX_NODES = 100_000
"""Most values in a file once aliases are expanded (a preset has a few hundred): stops alias bombs."""

MAX_SHOWN_CHARS = 40
"""Longest piece of the file (a value, a key) an error message quotes."""

_MERGE_TAG = "tag:yaml.org,2002:merge"


def read_text(path: Path, what: str, error: type[PmmtalkError], max_bytes: int) -> str:
    """The text of the ``what`` (``"preset file"``, ``"config file"``) at ``path``."""
    try:
        if path.is_dir():
            raise error(f"{path}: is a folder, not a {what}")
        if not path.exists():
            raise error(f"{path}: no such {what}")
        if not path.is_file():
            raise error(f"{path}: not a regular file (a {what} is a YAML file)")
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except OSError as failure:
        raise error(f"{path}: cannot read: {failure.strerror or failure}") from None
    if len(data) > max_bytes:
        raise error(f"{path}: too large for a {what} (at most {max_bytes} bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{path}: not a text file (a {what} is UTF-8 YAML)") from None


def compose(text: str, shown: str, error: type[PmmtalkError], loader=LOADER) -> yaml.Node | None:
    """The document's node tree, or None for an empty document; ``shown`` names the file in errors."""
    parser = loader(text)
    try:
        root = parser.get_single_node()
    except yaml.YAMLError as failure:
        raise error(_yaml_error(failure, shown)) from None
    except RecursionError:  # the pure-Python composer recurses per level; libyaml stops at 1000
        raise error(f"{shown}: nested more than {MAX_DEPTH} levels deep") from None
    finally:
        parser.dispose()
    if root is not None:
        _check_tree(root, shown, error)
    return root


def value_of(node: yaml.Node):
    """The Python value of a node (safe tags only; merge keys applied). Raises ValueError with a
    one-line reason."""
    try:
        return yaml.constructor.SafeConstructor().construct_document(node)
    except yaml.YAMLError as failure:
        raise ValueError(shorten(getattr(failure, "problem", None) or str(failure), 80)) from None
    except (ValueError, OverflowError) as failure:
        if node.tag == "tag:yaml.org,2002:int":
            raise ValueError(f"a number of {len(node.value)} digits") from None
        raise ValueError(shorten(str(failure), 80)) from None


def merge_keys(node: yaml.MappingNode) -> None:
    """Apply YAML merge keys (``<<: *anchor``) in place: explicit keys win, as in ``yaml.safe_load``.
    Raises ValueError with a one-line reason."""
    try:
        yaml.constructor.SafeConstructor().flatten_mapping(node)
    except yaml.YAMLError as failure:
        raise ValueError(shorten(getattr(failure, "problem", None) or str(failure), 80)) from None


def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def shorten(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` on one line (control characters escaped) and at most about ``limit`` characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit + 1])
    return text if len(text) <= limit else text[:limit] + "..."


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = MAX_SHOWN_CHARS
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 2, 4, 4


def show(value) -> str:
    """A bounded ``repr`` of a value read from a file, for error messages (booleans and null as YAML
    writes them)."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return shorten(_REPR.repr(value), 2 * MAX_SHOWN_CHARS)


def join_key(key: str, name: str) -> str:
    """``outputs`` + ``JawOpen`` -> ``outputs.JawOpen``: the key path errors name."""
    name = shorten(name)
    return f"{key}.{name}" if key else name


def _yaml_error(failure: yaml.YAMLError, shown: str) -> str:
    mark = getattr(failure, "problem_mark", None) or getattr(failure, "context_mark", None)
    where = f"{shown}:{mark.line + 1}" if mark else shown
    problem = getattr(failure, "problem", None) or ""
    if "nesting depth" in problem:
        return f"{where}: nested more than {MAX_DEPTH} levels deep"
    parts = [getattr(failure, "context", None), problem]
    text = ", ".join(p for p in parts if p) or str(failure).splitlines()[0]
    return f"{where}: not valid YAML: {shorten(text, 120)}"


def _children(node: yaml.Node, key: str) -> list[tuple[yaml.Node, str]]:
    """(child node, its key path) of a collection; a mapping's keys count as children too."""
    nodes = _child_nodes(node)
    if len(key) > 2 * MAX_SHOWN_CHARS:  # deep inside: the line number says where, the path stops growing
        key = key if key.endswith("...") else key + "..."
        paths = [key] * len(nodes)
    elif isinstance(node, yaml.SequenceNode):
        paths = [f"{key}[{i}]" for i in range(len(nodes))]
    elif isinstance(node, yaml.MappingNode):
        paths = [join_key(key, name.value) if isinstance(name, yaml.ScalarNode) else key
                 for name, _ in node.value for _ in range(2)]
    else:
        paths = []
    return list(zip(nodes, paths))


def _child_nodes(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _check_tree(root: yaml.Node, shown: str, error: type[PmmtalkError]) -> None:
    """Duplicate keys, depth, expanded size and self-reference, in one walk without recursion (the node
    graph shares aliased nodes and may contain cycles; each node is visited once)."""
    height: dict[int, int] = {}
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, str, bool]] = [(root, "", False)]
    while stack:
        node, key, finished = stack.pop()
        where = f"{shown}:{line_of(node)}: {key + ': ' if key else ''}"
        children = _children(node, key)
        if finished:
            height[id(node)] = 1 + max((height[id(child)] for child, _ in children), default=0)
            size[id(node)] = 1 + sum(size[id(child)] for child, _ in children)
            open_nodes.discard(id(node))
            if height[id(node)] > MAX_DEPTH:
                raise error(f"{where}nested more than {MAX_DEPTH} levels deep")
            if size[id(node)] > MAX_NODES:
                raise error(f"{where}more than {MAX_NODES} values once aliases are expanded")
            continue
        if id(node) in height:
            continue
        if id(node) in open_nodes:
            raise error(f"{where}an alias inside the value it names (a value cannot contain itself)")
        if isinstance(node, yaml.MappingNode):
            _check_duplicates(node, key, shown, error)
        open_nodes.add(id(node))
        stack.append((node, key, True))
        stack.extend((child, path, False) for child, path in reversed(children))


def _check_duplicates(node: yaml.MappingNode, key: str, shown: str, error: type[PmmtalkError]) -> None:
    first_line: dict[str, int] = {}
    for name, _ in node.value:
        if not isinstance(name, yaml.ScalarNode) or name.tag == _MERGE_TAG:
            continue
        if name.value in first_line:
            raise error(f"{shown}:{line_of(name)}: {join_key(key, name.value)}: duplicate key "
                        f"(first given on line {first_line[name.value]})")
        first_line[name.value] = line_of(name)
