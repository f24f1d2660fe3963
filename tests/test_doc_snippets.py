"""Every Python snippet in README.md and docs/**/*.rst parses and calls unigen correctly.

A static check: nothing is trained or run. Each snippet (Markdown ```python blocks,
``.. code-block:: python``, ``::`` literal blocks and untagged Markdown blocks that call
``unigen.something(...)``, ``>>>`` lines) is parsed with `ast`; every call whose callee
resolves to a unigen object (``unigen.fit``, ``unigen.models.Glow``, a name imported
``from unigen... import X``, a method of a variable assigned from a unigen class in the
same snippet, such as ``model.sample(...)`` after ``model = unigen.models.Gaussian(...)``)
is checked with ``inspect.signature(...).bind_partial``: a keyword argument the callable
does not take, too many positional arguments, or a unigen name that does not exist fails,
naming the file, line, callable and argument. Keyword arguments that land in a
``**kwargs`` are checked where the code defines what they may be: a model constructor's
``**kwargs`` against every ``__init__`` up its class hierarchy, and ``sample`` /
``log_prob``'s ``**options`` against the family's ``_sample`` / ``_log_prob`` hook (the
rule `GenerativeModel` applies at run time). What cannot be resolved statically
(methods of results of calls, loop variables) is skipped, not guessed; the test asserts
that a floor of calls was checked so that it cannot silently check nothing.
"""

import ast
import glob
import importlib
import inspect
import os
import re
import textwrap
from dataclasses import dataclass

import keras
import pytest
from conftest import ROOT

import unigen
from unigen._checks import hook_options

#: Folders of generated pages (the examples gallery, the committed reports).
_GENERATED = re.compile(r"^docs/(examples|report[^/]*|_build)/")
#: A call into unigen, which marks an untagged literal block as Python.
_UNIGEN_CALL = re.compile(r"\bunigen(\.\w+)+\(")
_PYTHON_TAGS = {"python", "py", "python3", "pycon", "ipython"}
_NOT_PYTHON_TAGS = {"console", "bash", "sh", "shell", "shell-session", "text", "none", "json",
                    "yaml", "toml", "ini", "cfg", "rst", "markdown", "md", "html", "math"}
#: At least this many unigen calls are resolved and checked over all the docs (there
#: were 117 when this floor was set; it sits below that so that editing the docs does
#: not trip it, yet far above zero).
_MIN_CHECKED_CALLS = 90


@dataclass
class Snippet:
    path: str   # relative to the repository root
    line: int   # 1-based line in the file of the snippet's first line
    source: str

    @property
    def where(self):
        return f"{self.path}:{self.line}"


# ------------------------------------------------------------------- extraction
def _strip_prompts(source):
    """Keeps only ``>>>`` / ``...`` input lines (prompt removed) when a block has prompts.

    Output lines become blank lines, so line numbers stay those of the block.
    """
    lines = source.split("\n")
    if not any(line.lstrip().startswith(">>>") for line in lines):
        return source
    kept = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith((">>> ", "... ")) or stripped in (">>>", "..."):
            kept.append(stripped[4:])
        else:
            kept.append("")
    return "\n".join(kept)


def _looks_like_python(tag, body):
    if tag in _PYTHON_TAGS:
        return True
    if tag in _NOT_PYTHON_TAGS - {"text", "none"}:
        return False
    # Untagged, ``text`` and ``::`` blocks: Python when they call into unigen.
    return bool(_UNIGEN_CALL.search(body)) or body.lstrip().startswith(">>>")


def markdown_snippets(path, text):
    """Python snippets of a Markdown file: fenced blocks tagged python, or untagged /
    ``text`` blocks that call ``unigen.x(...)``."""
    lines = text.split("\n")
    snippets, i = [], 0
    while i < len(lines):
        match = re.match(r"^\s*(```|~~~)\s*([\w+-]*)", lines[i])
        if not match:
            i += 1
            continue
        fence, tag = match.group(1), match.group(2).lower()
        end = i + 1
        while end < len(lines) and not lines[end].lstrip().startswith(fence):
            end += 1
        body = textwrap.dedent("\n".join(lines[i + 1:end]))
        if _looks_like_python(tag, body):
            snippets.append(Snippet(path, i + 2, _strip_prompts(body)))
        i = end + 1
    return snippets


def _indent(line):
    return len(line) - len(line.lstrip())


def _indented_body(lines, start, indent):
    """Index of the first body line and the body below a marker line at ``indent``."""
    end = start
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
        end += 1
    first = start
    while first < end and not lines[first].strip():
        first += 1
    return first, end


def rst_snippets(path, text):
    """Python snippets of a reStructuredText file: ``code-block:: python`` directives,
    ``::`` literal blocks that call ``unigen.x(...)``, and ``>>>`` doctest blocks."""
    lines = text.split("\n")
    snippets, i = [], 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        directive = re.match(r"^\.\.\s+(code-block|code|sourcecode)::\s*(\S*)", stripped)
        literal = (stripped.endswith("::") and not stripped.startswith("..")) or stripped == "::"
        if directive or literal:
            body_start = i + 1
            if directive:  # options such as :linenos: directly below the directive
                while body_start < len(lines) and re.match(r"^\s+:[\w-]+:", lines[body_start]):
                    body_start += 1
            first, end = _indented_body(lines, body_start, _indent(line))
            body = textwrap.dedent("\n".join(lines[first:end])).rstrip()
            tag = directive.group(2).lower() if directive else "none"
            if body and _looks_like_python(tag, body):
                snippets.append(Snippet(path, first + 1, _strip_prompts(body)))
            i = max(end, i + 1)
            continue
        if stripped.startswith(">>>"):  # a doctest block: up to the next blank line
            end = i
            while end < len(lines) and lines[end].strip():
                end += 1
            body = textwrap.dedent("\n".join(lines[i:end]))
            snippets.append(Snippet(path, i + 1, _strip_prompts(body)))
            i = end
            continue
        i += 1
    return snippets


def doc_files():
    """README.md and every docs/**/*.rst that is written by hand, relative to ROOT."""
    files = ["README.md"]
    for full in sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.rst"), recursive=True)):
        rel = os.path.relpath(full, ROOT).replace(os.sep, "/")
        if not _GENERATED.match(rel):
            files.append(rel)
    return files


def all_snippets():
    snippets = []
    for rel in doc_files():
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            text = f.read()
        extract = markdown_snippets if rel.endswith(".md") else rst_snippets
        snippets.extend(extract(rel, text))
    return snippets


# --------------------------------------------------------------------- checking
@dataclass
class _Instance:
    """A variable assigned from a call of the unigen class ``cls``."""
    cls: type


_Unresolved = object()


class _CallChecker(ast.NodeVisitor):
    """Walks one snippet in source order, resolving names bound to unigen objects."""

    def __init__(self, snippet):
        self.snippet = snippet
        # Fragments of the docs assume ``import unigen``, as a reader does.
        self.names = {"unigen": unigen}   # name -> module, object or _Instance
        self.checked = []   # "callable(kw, ...)" for every call checked
        self.errors = []

    # -- bookkeeping
    def _line(self, node):
        return self.snippet.line + node.lineno - 1

    def _error(self, node, message):
        self.errors.append(f"{self.snippet.path}:{self._line(node)}: {message}")

    # -- imports and assignments
    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.split(".")[0] != "unigen":
                self.names.pop(alias.asname or alias.name.split(".")[0], None)
                continue
            try:
                module = importlib.import_module(alias.name)
            except ImportError as exc:
                self._error(node, f"`import {alias.name}` fails: {exc}")
                continue
            if alias.asname:
                self.names[alias.asname] = module
            else:
                self.names["unigen"] = unigen

    def visit_ImportFrom(self, node):
        module_name = node.module or ""
        if module_name.split(".")[0] != "unigen" or node.level:
            for alias in node.names:
                self.names.pop(alias.asname or alias.name, None)
            return
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            self._error(node, f"`from {module_name} import ...` fails: {exc}")
            return
        for alias in node.names:
            if alias.name == "*":
                continue
            try:
                value = getattr(module, alias.name)
            except AttributeError:
                try:
                    value = importlib.import_module(f"{module_name}.{alias.name}")
                except ImportError:
                    self._error(node, f"`from {module_name} import {alias.name}`: "
                                      f"{module_name} has no {alias.name!r}")
                    continue
            self.names[alias.asname or alias.name] = value

    def visit_Assign(self, node):
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)   # unbinds every name stored to
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = self._value_of(node.value)
            if value is not _Unresolved:
                self.names[node.targets[0].id] = value

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.names.pop(node.id, None)

    def _value_of(self, expr):
        """What a variable assigned ``expr`` holds, when that is known exactly."""
        if isinstance(expr, ast.Call):
            callee = self._resolve(expr.func, report=False)
            if inspect.isclass(callee) and issubclass(callee, keras.Layer):
                return _Instance(callee)
            return _Unresolved
        value = self._resolve(expr, report=False)
        if value is _Unresolved or isinstance(value, _Instance):
            return value
        return value if inspect.ismodule(value) or callable(value) else _Unresolved

    # -- resolution
    def _resolve(self, expr, report=True):
        """The object ``expr`` names (a unigen module, class, function or method)."""
        if isinstance(expr, ast.Name):
            return self.names.get(expr.id, _Unresolved)
        if not isinstance(expr, ast.Attribute):
            return _Unresolved
        base = self._resolve(expr.value, report)
        if base is _Unresolved:
            return _Unresolved
        if isinstance(base, _Instance):
            attr = inspect.getattr_static(base.cls, expr.attr, _Unresolved)
            if attr is _Unresolved or isinstance(attr, property):
                return _Unresolved   # an instance attribute: not known statically
            return (base.cls, expr.attr)   # a method of an instance
        try:
            return getattr(base, expr.attr)
        except AttributeError:
            if report:
                owner = getattr(base, "__name__", type(base).__name__)
                self._error(expr, f"{owner} has no attribute {expr.attr!r} "
                                  f"(`{ast.unparse(expr)}`)")
            return _Unresolved

    # -- the check
    def visit_Call(self, node):
        self.generic_visit(node)
        callee = self._resolve(node.func)
        if callee is _Unresolved or isinstance(callee, _Instance):
            return
        name = ast.unparse(node.func)
        bound_self = ()
        if isinstance(callee, tuple):   # (class, method name) of an instance
            cls, method = callee
            static = inspect.getattr_static(cls, method)
            function = getattr(cls, method)
            if not isinstance(static, (staticmethod, classmethod)):
                bound_self = (None,)
            name = f"{cls.__name__}.{method}"
        else:
            function = callee
        if not callable(function):
            self._error(node, f"`{name}` is not callable")
            return
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            return   # builtins without a signature: nothing to check
        has_star = any(isinstance(arg, ast.Starred) for arg in node.args)
        positional = () if has_star else (None,) * len(node.args)
        keywords = [kw.arg for kw in node.keywords if kw.arg is not None]
        try:
            signature.bind_partial(*bound_self, *positional, **dict.fromkeys(keywords))
        except TypeError as exc:
            self._error(node, f"`{name}(...)`: {exc}")
            return
        self._check_var_keywords(node, name, callee, signature, keywords)
        self.checked.append(f"{name}({', '.join(keywords)})")

    def _check_var_keywords(self, node, name, callee, signature, keywords):
        """Checks keywords that land in ``**kwargs`` / ``**options`` where the code bounds them."""
        params = signature.parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return
        extra = [kw for kw in keywords if kw not in params]
        if not extra:
            return
        if inspect.isclass(callee) and issubclass(callee, keras.Layer):
            accepted = set()
            for klass in callee.__mro__:
                init = klass.__dict__.get("__init__")
                if init is not None:
                    accepted.update(p.name for p in inspect.signature(init).parameters.values()
                                    if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
            unknown = [kw for kw in extra if kw not in accepted]
            if unknown:
                self._error(node, f"`{name}(...)` takes no keyword argument "
                                  f"{', '.join(map(repr, unknown))}")
        elif isinstance(callee, tuple) and callee[1] in ("sample", "log_prob"):
            cls, method = callee
            if not issubclass(cls, unigen.GenerativeModel):
                return
            hook = getattr(cls, f"_{method}")
            accepted = hook_options(hook)
            unknown = [kw for kw in extra if kw not in accepted]
            if unknown:
                self._error(node, f"`{name}(...)` takes {', '.join(accepted) or 'no options'}; "
                                  f"got {', '.join(map(repr, unknown))}")


def check_snippet(snippet):
    """(calls checked, errors) of one snippet; a snippet that does not parse is an error."""
    try:
        tree = ast.parse(snippet.source)
    except SyntaxError as exc:
        line = snippet.line + (exc.lineno or 1) - 1
        return [], [f"{snippet.path}:{line}: the snippet at {snippet.where} does not parse "
                    f"as Python: {exc.msg}"]
    checker = _CallChecker(snippet)
    checker.visit(tree)
    return checker.checked, checker.errors


# ------------------------------------------------------------------------ tests
def test_every_doc_snippet_parses_and_calls_unigen_with_existing_arguments():
    snippets = all_snippets()
    files = {s.path for s in snippets}
    assert "README.md" in files and "docs/getting_started.rst" in files, sorted(files)
    checked, errors = [], []
    for snippet in snippets:
        calls, problems = check_snippet(snippet)
        checked.extend(calls)
        errors.extend(problems)
    assert not errors, "Doc snippets that would fail:\n" + "\n".join(errors)
    assert len(checked) >= _MIN_CHECKED_CALLS, (
        f"only {len(checked)} unigen calls were resolved and checked in {len(snippets)} "
        f"snippets (floor {_MIN_CHECKED_CALLS}): the extraction or resolution broke")


_BROKEN = """\
Text.

.. code-block:: python

    import unigen
    from unigen.models import Glow

    model = unigen.models.Gaussian(event_shape=(8, 8, 1), num_level=17)
    model.sample(4, seed=0, temperature=0.5)
    model.log_prob(x, num_samples=10)
    flow = Glow(image_shape=(8, 8, 1), levels=2, stepsperlevel=4)
    unigen.fit(flow, "digits", epoch=2)
    unigen.models.Glwo(image_shape=(8, 8, 1))

A literal block::

    unigen.evaluate(model, "digits", metric=["nll"])

>>> unigen.datasets.load("digits", splt="test")
>>> unigen.datasets.info("digits").num_levels
17

.. code-block:: python

    unigen.fit(model, "digits" epochs=2)
"""


def test_a_broken_snippet_fails_naming_file_line_callable_and_keyword():
    snippets = rst_snippets("docs/broken.rst", _BROKEN)
    assert [s.line for s in snippets] == [5, 17, 19, 25]
    problems = [check_snippet(s)[1] for s in snippets]
    first = "\n".join(problems[0])
    assert "docs/broken.rst:8: `unigen.models.Gaussian(...)`" in first and "'num_level'" in first
    assert "docs/broken.rst:9: `Gaussian.sample(...)`" in first and "'temperature'" in first
    assert "docs/broken.rst:10:" in first and "'num_samples'" in first  # Gaussian: exact
    assert "docs/broken.rst:11: `Glow(...)`" in first and "'stepsperlevel'" in first
    assert "docs/broken.rst:12: `unigen.fit(...)`" in first and "'epoch'" in first
    assert "docs/broken.rst:13:" in first and "'Glwo'" in first
    assert len(problems[0]) == 6, first
    assert len(problems[1]) == 1 and "unigen.evaluate" in problems[1][0] \
        and "'metric'" in problems[1][0]
    assert len(problems[2]) == 1 and "docs/broken.rst:19:" in problems[2][0] \
        and "'splt'" in problems[2][0]
    assert len(problems[3]) == 1 and "docs/broken.rst:25:" in problems[3][0] \
        and "does not parse" in problems[3][0]


def test_a_correct_snippet_passes_and_counts_its_calls():
    source = textwrap.dedent("""\
        ```python
        import unigen
        model = unigen.models.Gaussian(event_shape=(8, 8, 1), num_levels=17)
        unigen.fit(model, "digits", epochs=1, seed=0)
        model.sample(4, seed=1)
        for m in (model,):
            m.anything(whatever=1)      # a loop variable: skipped, not guessed
        ```

        ```bash
        unigen train --model gaussian --data digits
        ```
        """)
    snippets = markdown_snippets("README.md", source)
    assert len(snippets) == 1 and snippets[0].line == 2
    calls, problems = check_snippet(snippets[0])
    assert problems == []
    assert calls == ["unigen.models.Gaussian(event_shape, num_levels)",
                     "unigen.fit(epochs, seed)", "Gaussian.sample(seed)"]


@pytest.mark.parametrize("tag", ["console", "bash"])
def test_shell_blocks_are_not_python(tag):
    text = f".. code-block:: {tag}\n\n    unigen compare --data digits --out runs/x\n"
    assert rst_snippets("x.rst", text) == []


def test_docstring_examples_run():
    # The `>>>` examples in unigen's docstrings reach the API pages through
    # autodoc: every module that has one is run with doctest.
    import doctest

    attempted = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "unigen", "**", "*.py"), recursive=True)):
        with open(path) as f:
            if ">>>" not in f.read():
                continue
        module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
        module = importlib.import_module(module.removesuffix(".__init__"))
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS
                                 | doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, f"{module.__name__}: {result.failed} docstring example(s) fail"
        attempted += result.attempted
    assert attempted >= 6  # the examples of unigen.datasets and its sequences at least
