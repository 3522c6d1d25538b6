"""Walking a Dash component tree in tests: every component's props, depth first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def walk(component: Any) -> Iterator[dict[str, Any]]:
    """Every component's props, depth first."""
    if isinstance(component, list | tuple):
        for child in component:
            yield from walk(child)
        return
    if not hasattr(component, "to_plotly_json"):
        return
    props = component.to_plotly_json()["props"]
    yield props
    yield from walk(props.get("children"))


def texts(component: Any) -> list[str]:
    """Every non-blank string child in a component tree, depth first."""
    found = []
    for props in walk(component):
        child = props.get("children")
        for c in child if isinstance(child, list) else [child]:
            if isinstance(c, str) and c.strip():
                found.append(c)
    return found
