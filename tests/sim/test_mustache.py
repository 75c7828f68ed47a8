"""The Mustache subset used by webhook templates."""

from __future__ import annotations

from sim.mustache import render, render_tree


def test_mustache_triple_braces_insert_raw() -> None:
    assert render("{{{a}}}", {"a": "<b>"}) == "<b>"


def test_mustache_double_braces_escape_html() -> None:
    assert render("{{a}}", {"a": "<b>&"}) == "&lt;b&gt;&amp;"


def test_mustache_dotted_names_walk_into_data() -> None:
    assert render("{{{a.b.1}}}", {"a": {"b": ["x", "y"]}}) == "y"


def test_mustache_missing_names_render_empty() -> None:
    assert render("[{{nope}}]", {}) == "[]"


def test_mustache_tree_renders_keys_and_values() -> None:
    assert render_tree({"{{k}}": ["{{v}}", 3]}, {"k": "key", "v": "val"}) == {
        "key": ["val", 3]
    }
