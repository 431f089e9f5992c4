"""The guarantees every hook carries (STYLE.md section 4, issue #5 item 1): it is documented in
docs/plugins/hooks.md with its exact signature, and it has a ``test_hook_<name>`` test.
Modelled on datasette's tests/test_docs.py and tests/test_plugins.py."""

from __future__ import annotations

import ast
import functools
import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS_DOC = ROOT / "docs" / "plugins" / "hooks.md"


def _specs() -> dict[str, object]:
    return {name: fn for name, fn in vars(hookspecs).items() if hasattr(fn, "sendbridge_spec")}


HOOKS = sorted(_specs())


def _sections(markdown: str) -> dict[str, str]:
    """``### name`` -> the text up to the next heading of level 2 or 3."""
    out: dict[str, str] = {}
    parts = re.split(r"^(#{2,3}) (.+)$", markdown, flags=re.MULTILINE)
    # re.split with two groups: [before, level, title, body, level, title, body, ...]
    for i in range(1, len(parts) - 2, 3):
        if parts[i] == "###":
            out[parts[i + 1].strip()] = parts[i + 2]
    return out


@functools.cache
def _test_functions(root: Path) -> frozenset[str]:
    names: set[str] = set()
    for path in root.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_hook_"):
                names.add(node.name)
    return frozenset(names)


def test_there_are_hooks_to_check() -> None:
    # Guards the two tests below against passing vacuously (e.g. a renamed marker).
    assert len(HOOKS) >= 14 and "pupil_for_upn" in HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(hook: str) -> None:
    sections = _sections(HOOKS_DOC.read_text(encoding="utf-8"))
    assert hook in sections, f"docs/plugins/hooks.md has no '### {hook}' section"
    body = sections[hook]
    blocks = re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)
    signature = f"{hook}{inspect.signature(_specs()[hook])}"  # type: ignore[arg-type]
    assert blocks and blocks[0].strip() == signature, \
        f"docs/plugins/hooks.md '### {hook}' must open with\n```python\n{signature}\n```"
    style = "firstresult" if _specs()[hook].sendbridge_spec["firstresult"] else "notification"  # type: ignore[attr-defined]
    assert f"**Style:** {style}" in body, f"docs/plugins/hooks.md '### {hook}' must say it is {style}"


def test_the_docs_describe_no_hook_that_does_not_exist() -> None:
    sections = _sections(HOOKS_DOC.read_text(encoding="utf-8"))
    documented = {title for title, body in sections.items() if "```python" in body}
    assert documented == set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook: str) -> None:
    assert f"test_hook_{hook}" in _test_functions(ROOT / "tests"), \
        f"no test function named test_hook_{hook} under tests/"


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """The helpers above really find a missing test and a wrong signature."""
    (tmp_path / "test_x.py").write_text("def test_hook_pupil_for_upn():\n    pass\n")
    (tmp_path / "helper.py").write_text("def test_hook_on_integration_event():\n    pass\n")
    assert _test_functions(tmp_path) == {"test_hook_pupil_for_upn"}  # only test files count
    doc = "## A\n\n### pupil_for_upn\n\n```python\npupil_for_upn(tenant, upn)\n```\n\n### other\ntext\n"
    sections = _sections(doc)
    assert set(sections) == {"pupil_for_upn", "other"}
    signature = f"pupil_for_upn{inspect.signature(_specs()['pupil_for_upn'])}"  # type: ignore[arg-type]
    assert "pupil_for_upn(tenant, upn)" in sections["pupil_for_upn"] and signature not in sections["pupil_for_upn"]


def test_every_plugin_api_type_is_documented_with_all_its_fields() -> None:
    """A field added to a dataclass of core/plugin_api.py is added to the types table too."""
    import dataclasses

    from core import plugin_api

    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| (.*)\|$", HOOKS_DOC.read_text(encoding="utf-8"),
                                                         flags=re.MULTILINE)}
    types = [obj for name in plugin_api.__all__ if dataclasses.is_dataclass(obj := getattr(plugin_api, name))]
    assert len(types) >= 10
    for cls in types:
        assert cls.__name__ in rows, f"docs/plugins/hooks.md has no row for {cls.__name__}"
        missing = [f.name for f in dataclasses.fields(cls) if f"`{f.name}: " not in rows[cls.__name__]]
        assert not missing, f"docs/plugins/hooks.md: {cls.__name__} lacks {missing}"
