"""Reading YAML configs: PyYAML's safe loader plus duplicate keys and line numbers for errors.

Kept apart from config.py so that TOML users never pay for importing PyYAML.
"""

from __future__ import annotations

from typing import Any

import yaml

from corral.core.config import _defined, _join
from corral.core.configfile import ConfigError
from corral.core.durations import render_value

_YAML_TAG = "tag:yaml.org,2002:"


class _YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, plus duplicate keys and the node being built for error lines."""

    duplicates: list[str]
    current: yaml.Node | None = None

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        self.duplicates = [] if node is None else _yaml_duplicates(node)
        return None if node is None else self.construct_document(node)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        self.current = node
        return super().construct_object(node, deep)


def parse_yaml(text: str, shown: str) -> tuple[object, list[str]]:
    loader: _YamlLoader | None = None
    try:
        loader = _YamlLoader(text)
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError([f"{shown}: {where}{exc.problem or exc.context}"]) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError([f"{shown}: line {line}: {exc.reason}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{shown}: {str(exc).splitlines()[0]}"]) from None
    except RecursionError:
        raise
    except Exception as exc:
        # PyYAML's constructors leak plain exceptions for values such as `!!timestamp foo`.
        node = loader.current if loader is not None else None
        if isinstance(node, yaml.ScalarNode):
            tag = node.tag.replace(_YAML_TAG, "!!")
            line = node.start_mark.line + 1
            raise ConfigError(
                [f"{shown}: line {line}: invalid {tag} value {render_value(node.value)}"]
            ) from None
        raise ConfigError([f"{shown}: invalid value: {exc}"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, [f"{shown}: {line}" for line in loader.duplicates]


def _yaml_duplicates(root: yaml.Node) -> list[str]:
    """`path: defined twice (lines 3 and 9)` for each key repeated in a mapping, in file order."""
    found: list[tuple[int, str]] = []
    visited: set[int] = set()  # aliases can make the node graph cyclic
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[tuple[str, str], list[int]] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _YAML_TAG + "merge":
                    stack.append((value_node, path))  # merged keys may be overridden
                elif isinstance(key_node, yaml.ScalarNode):
                    lines.setdefault((key_node.tag, key_node.value), []).append(
                        key_node.start_mark.line + 1
                    )
                    stack.append((value_node, _join(path, key_node.value)))
            for (_, key), where in lines.items():
                if len(where) > 1:
                    found.append((where[0], f"{_join(path, key)}: {_defined(where)}"))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    return [message for _, message in sorted(found)]
