"""The small part of Mustache that Particle webhook templates use.

`{{{NAME}}}` inserts a value as is, `{{NAME}}` HTML-escapes it, and a dotted name
(`{{{a.b.0}}}`) walks into event data that is a JSON object.
TODO: sections (`{{#a}}…{{/a}}`) and inverted sections are not rendered; add them
when a test or a person needs a template with conditionals.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

TAG = re.compile(r"\{\{\{\s*([\w.$-]+)\s*\}\}\}|\{\{\s*([\w.$-]+)\s*\}\}")


def render(template: str, variables: dict[str, Any]) -> str:
    def substitute(match: re.Match[str]) -> str:
        raw_name, escaped_name = match.group(1), match.group(2)
        value = _lookup(variables, raw_name or escaped_name)
        text = _as_text(value)
        return text if raw_name else html.escape(text, quote=True)

    return TAG.sub(substitute, template)


def render_tree(template: Any, variables: dict[str, Any]) -> Any:
    """Render every string inside a JSON-like template (dicts, lists, strings)."""
    if isinstance(template, str):
        return render(template, variables)
    if isinstance(template, dict):
        return {
            render(str(key), variables): render_tree(value, variables)
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [render_tree(item, variables) for item in template]
    return template


def _lookup(variables: dict[str, Any], name: str) -> Any:
    if name in variables:
        return variables[name]

    current: Any = variables
    for part in name.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return ""
    return current


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
