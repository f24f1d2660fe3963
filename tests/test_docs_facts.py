"""What the docs name exists: commands and their flags, ``unigen.x.y`` names, inline calls.

`test_doc_snippets` checks the Python code blocks. This file checks the facts a reader
meets outside them, in README.md, the hand-written docs pages and the examples' header
docstrings (the gallery), statically (nothing is trained):

* every command line (``unigen SUB --flag VALUE``, ``python -m unigen ...``,
  ``python examples/X.py --flag``, ``python benchmarks/X.py --flag``,
  ``python -m benchmarks speed --flag``) in an inline literal, a literal or code block or
  an example's usage line names a subcommand and flags that the command's parser has, and
  a value among the flag's choices where it has choices;
* every dotted ``unigen.a.b`` name anywhere in the text (prose, roles, code) resolves;
* every inline literal that is a Python expression calling a unigen name
  (``FlowGAN(gradient_clip_norm=100.0)``, ``unigen.models.create("stargan", ...)``) passes
  keywords the callable takes, and every inline ``Class.attribute`` of a public unigen
  class (``Critic.step``) exists.

Each failure names the file, the line and what to change.
"""

import ast
import glob
import importlib
import inspect
import os
import re

import pytest
from conftest import ROOT
from test_doc_snippets import Snippet, _CallChecker

from unigen.cli import _parser as unigen_parser

#: Hand-written pages. The benchmark page is included: its commands must run as well.
_GENERATED = re.compile(r"^docs/(examples|report[^/]*|_build)/")


def doc_pages():
    """README.md, docs/**/*.rst written by hand and examples/*.py, relative to ROOT."""
    pages = ["README.md"]
    for full in sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.rst"), recursive=True)):
        rel = os.path.relpath(full, ROOT).replace(os.sep, "/")
        if not _GENERATED.match(rel) and rel != "docs/changes.rst":  # history stays as it was
            pages.append(rel)
    pages += sorted(f"examples/{n}" for n in os.listdir(os.path.join(ROOT, "examples"))
                    if n.endswith(".py") and not n.startswith("_"))
    return pages


def _read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        text = f.read()
    if rel.endswith(".py"):  # only the header docstring is documentation (the gallery page)
        tree = ast.parse(text)
        doc = ast.get_docstring(tree, clean=False) or ""
        if not doc:
            return ""
        # Keep the docstring at its place so that line numbers stay those of the file.
        first = tree.body[0].lineno
        return "\n" * (first - 1) + doc
    return text


# ------------------------------------------------------------------ fragments
def _line_of(text, index):
    return text.count("\n", 0, index) + 1


def inline_literals(rel, text):
    """(line, code) of every inline literal: ``code`` in reST, `code` in Markdown."""
    pattern = r"`([^`\n]+)`" if rel.endswith(".md") else r"``((?:(?!``)[^\n]|\n(?!\s*\n))+?)``"
    found = []
    for match in re.finditer(pattern, text):
        found.append((_line_of(text, match.start()), " ".join(match.group(1).split())))
    return found


def literal_block_lines(rel, text):
    """(line, text) of every line of a code or literal block (shell continuations joined);
    for an example's docstring, every line."""
    lines = text.split("\n")
    spans = []  # (first, end) line indices of block bodies
    if rel.endswith(".py"):
        spans.append((0, len(lines)))
    elif rel.endswith(".md"):
        i = 0
        while i < len(lines):
            if re.match(r"^\s*```", lines[i]):
                end = i + 1
                while end < len(lines) and not re.match(r"^\s*```", lines[end]):
                    end += 1
                spans.append((i + 1, end))
                i = end
            i += 1
    else:
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped.endswith("::") and (not stripped.startswith("..")
                                            or re.match(r"\.\.\s+(code-block|code)::", stripped)):
                indent = len(line) - len(line.lstrip())
                end = i + 1
                while end < len(lines) and (not lines[end].strip() or
                                            len(lines[end]) - len(lines[end].lstrip()) > indent):
                    end += 1
                spans.append((i + 1, end))
            elif re.match(r"\.\.\s+(code-block|code)::", stripped):
                indent = len(line) - len(line.lstrip())
                end = i + 1
                while end < len(lines) and (not lines[end].strip() or
                                            len(lines[end]) - len(lines[end].lstrip()) > indent):
                    end += 1
                spans.append((i + 1, end))
    found = []
    for first, end in spans:
        i = first
        while i < end:
            start, joined = i, lines[i]
            while joined.rstrip().endswith("\\") and i + 1 < end:
                i += 1
                joined = joined.rstrip()[:-1] + " " + lines[i].strip()
            found.append((start + 1, joined.strip()))
            i += 1
    return found


# ------------------------------------------------------------------ commands
_STOP = {"&&", "||", "|", ";", ">", "2>&1"}


def _unigen_options():
    """{subcommand: {option string: argparse action}} of the ``unigen`` command."""
    parser = unigen_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    options = {}
    for name, subparser in sub.choices.items():
        options[name] = {s: a for a in subparser._actions for s in a.option_strings}
    return options


_SCRIPT_FLAGS = {}


def _static_flags(path):
    """Every ``--flag`` / ``-x`` string literal of a script and the benchmark modules it
    imports (a superset of its parser's options, read without running it)."""
    if path in _SCRIPT_FLAGS:
        return _SCRIPT_FLAGS[path]
    flags, seen, todo = {"-h", "--help"}, set(), [path]
    while todo:
        file = todo.pop()
        if file in seen or not os.path.isfile(file):
            continue
        seen.add(file)
        with open(file, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.fullmatch(r"--?[A-Za-z][\w-]*", node.value):
                flags.add(node.value)
            module = None
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
                names = [f"{module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in [*names, *([module] if module else [])]:
                if name.split(".")[0] != "benchmarks":
                    continue
                base = os.path.join(ROOT, *name.split("."))
                todo += [base + ".py", os.path.join(base, "__init__.py")]
                if os.path.isdir(base):
                    todo += glob.glob(os.path.join(base, "*.py"))
    _SCRIPT_FLAGS[path] = flags
    return flags


def _clean(token):
    return token.strip("[](),;:'\"`")


def commands(fragment):
    """(program, subcommand or None, tokens after it) for each command in ``fragment``."""
    tokens = fragment.split()
    found = []
    for i, token in enumerate(tokens):
        program = sub = None
        rest_at = None
        if token == "unigen" and (i == 0 or tokens[i - 1] in _STOP | {"$"}):
            program, rest_at = "unigen", i + 1
        elif token == "python" and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if nxt == "-m" and i + 2 < len(tokens) and tokens[i + 2] in ("unigen", "benchmarks"):
                program, rest_at = tokens[i + 2], i + 3
            elif re.fullmatch(r"(examples|benchmarks)/\w+\.py", _clean(nxt)):
                program, rest_at = _clean(nxt), i + 2
        if program is None:
            continue
        rest = []
        for tok in tokens[rest_at:]:
            if tok in _STOP or tok.startswith("#"):
                break
            rest.append(tok)
        if program in ("unigen", "benchmarks"):
            if not rest or not re.fullmatch(r"[a-z][\w-]*", rest[0]):
                continue  # the name alone (``unigen``) or a placeholder (``unigen ...``)
            sub, rest = rest[0], rest[1:]
        found.append((program, sub, rest))
    return found


def _flag_problems(program, sub, rest, unigen_options):
    """What is wrong with one command's subcommand, flags and choice values."""
    problems = []
    if program == "unigen":
        if sub not in unigen_options:
            return [f"`unigen {sub}` is no subcommand; unigen has "
                    f"{', '.join(sorted(unigen_options))}"]
        options = unigen_options[sub]
        where = f"`unigen {sub}`"
    else:
        path = (os.path.join(ROOT, "benchmarks", "__main__.py") if program == "benchmarks"
                else os.path.join(ROOT, program))
        if not os.path.isfile(path):
            return [f"{program} does not exist"]
        options = dict.fromkeys(_static_flags(path))
        where = "python -m benchmarks" if program == "benchmarks" else program
    for k, raw in enumerate(rest):
        token = _clean(raw)
        if not re.fullmatch(r"--?[A-Za-z][\w-]*(=.*)?", token):
            continue
        flag, _, inline_value = token.partition("=")
        if flag not in options:
            close = [o for o in options if o.startswith("--")]
            problems.append(f"{where} has no option {flag} (it has {', '.join(sorted(close))})")
            continue
        action = options[flag]
        if action is None or not action.choices:
            continue
        value = inline_value or (_clean(rest[k + 1]) if k + 1 < len(rest) else "")
        if not value or value.startswith("-") or value == "..." or value.isupper():
            continue
        for choice in value.split("|"):
            if choice not in [str(c) for c in action.choices]:
                problems.append(f"{where} {flag} takes {', '.join(map(str, action.choices))}; "
                                f"the docs give {choice!r}")
    return problems


def command_problems(rel, text, unigen_options):
    """(problems, number of commands checked) of one page."""
    problems, count = [], 0
    for line, fragment in [*inline_literals(rel, text), *literal_block_lines(rel, text)]:
        for program, sub, rest in commands(fragment):
            count += 1
            for problem in _flag_problems(program, sub, rest, unigen_options):
                problems.append(f"{rel}:{line}: {problem}: fix the command "
                                f"`{' '.join(fragment.split())[:120]}`")
    return problems, count


def _over_pages(check):
    """``check(rel, text) -> (problems, count)`` on every doc page, both summed."""
    problems, count = [], 0
    for rel in doc_pages():
        found, n = check(rel, _read(rel))
        problems += found
        count += n
    return problems, count


def test_every_command_in_the_docs_has_the_subcommand_flags_and_choices_it_names():
    options = _unigen_options()
    problems, count = _over_pages(lambda rel, text: command_problems(rel, text, options))
    assert not problems, "Commands in the docs that their parser refuses:\n" + "\n".join(problems)
    assert count >= 100, f"only {count} commands found: the extraction broke"


_BROKEN_COMMANDS = """\
Run ``unigen train --model glow --data digits --epoch 3 --out runs/x`` now.

::

    unigen compare --data digits --models gan \\
        --precision mixed_bfloat16 --out runs/y     # a comment --not-a-flag
    unigen trian --model gan
    unigen train --model gaussian --data digits --jit-compile on|of --out z

Use ``python examples/quickstart.py --smoke --fast`` and
``python -m benchmarks speed --device tpu --quick``; ``unigen ...`` and ``--whatever``
alone are not commands.
"""


def test_a_broken_command_fails_naming_file_line_and_flag():
    problems, count = command_problems("docs/broken.rst", _BROKEN_COMMANDS, _unigen_options())
    text = "\n".join(problems)
    assert count == 6, (count, text)
    assert "docs/broken.rst:1: `unigen train` has no option --epoch" in text
    assert "docs/broken.rst:5: `unigen compare` has no option --precision" in text
    assert "has no option --not-a-flag" not in text
    assert "docs/broken.rst:7: `unigen trian` is no subcommand" in text
    assert "docs/broken.rst:8: `unigen train` --jit-compile takes auto, on, off; " \
           "the docs give 'of'" in text
    assert "docs/broken.rst:10: examples/quickstart.py has no option --fast" in text
    assert "docs/broken.rst:11: python -m benchmarks --device takes" not in text  # static
    assert len(problems) == 5, text


# ------------------------------------------------------------------ names
_DOTTED = re.compile(r"(?<![\w./-])unigen(?:\.[A-Za-z_]\w*)+")


def resolve(dotted):
    """The object a dotted ``unigen...`` name names, or raises AttributeError."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for k, part in enumerate(parts[i:], start=i):
            if not hasattr(obj, part):
                raise AttributeError(f"{'.'.join(parts[:k])} has no attribute {part!r}")
            obj = getattr(obj, part)
        return obj
    raise AttributeError(f"no module {parts[0]!r}")


def name_problems(rel, text):
    problems, count = [], 0
    for match in _DOTTED.finditer(text):
        name = match.group(0)
        if text[match.end():match.end() + 1] == "/" or name.endswith((".py", ".keras")) \
                or name == "unigen.__main__":
            continue  # a path (unigen/models/...), a file, the command's entry point
        count += 1
        try:
            resolve(name)
        except AttributeError as err:
            problems.append(f"{rel}:{_line_of(text, match.start())}: `{name}` does not "
                            f"resolve ({err}): name what the code has")
    return problems, count


def test_every_unigen_name_in_the_docs_resolves():
    problems, count = _over_pages(name_problems)
    assert not problems, "Names in the docs that unigen lacks:\n" + "\n".join(problems)
    assert count >= 300, f"only {count} unigen names found: the extraction broke"


def test_every_unigen_name_in_the_docstrings_resolves():
    # The API pages are autodoc of these docstrings: a name in them must exist too.
    problems, count = [], 0
    for path in sorted(glob.glob(os.path.join(ROOT, "unigen", "**", "*.py"), recursive=True)):
        rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
        with open(path, encoding="utf-8") as f:
            found, n = name_problems(rel, f.read())
        problems += found
        count += n
    assert not problems, "Names in unigen's docstrings that unigen lacks:\n" + "\n".join(
        problems)
    assert count >= 150, f"only {count} unigen names found in the docstrings"


# ------------------------------------------------------------- inline calls
_PUBLIC_MODULES = ["unigen", "unigen.models", "unigen.divergences", "unigen.adversarial",
                   "unigen.evaluation", "unigen.datasets", "unigen.flows", "unigen.training",
                   "unigen.errors", "unigen.images"]


def public_names():
    """{bare name: object} of the public names of unigen's packages that mean one thing."""
    found = {}
    for module_name in _PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            if inspect.ismodule(value):
                continue
            found.setdefault(name, set()).add(id(value))
            found[(name, "value")] = value
    return {name: found[(name, "value")] for name in list(found)
            if isinstance(name, str) and len(found[name]) == 1}


class _InlineChecker(_CallChecker):
    def __init__(self, snippet, names):
        super().__init__(snippet)
        self.names.update(names)
        self.attributes = 0

    def visit_Attribute(self, node):
        # ``Critic.step``: an attribute of a public unigen class must exist.
        if isinstance(node.value, ast.Name) and node.value.id != "unigen":
            owner = self.names.get(node.value.id)
            if inspect.isclass(owner) and not any(
                    node.attr in vars(klass) for klass in owner.__mro__):
                annotations = {a for k in owner.__mro__
                               for a in getattr(k, "__annotations__", {})}
                if node.attr not in annotations and not _set_in_init(owner, node.attr):
                    self._error(node, f"{owner.__name__} has no attribute {node.attr!r} "
                                      f"(`{ast.unparse(node)}`)")
            self.attributes += inspect.isclass(owner)
        self.generic_visit(node)


def _set_in_init(cls, attr):
    """Whether some ``__init__`` / ``build`` up ``cls``'s hierarchy sets ``self.attr``."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("unigen"):
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if re.search(rf"self\.{attr}\s*(=|:)", source):
            return True
    return False


def inline_call_problems(rel, text, names):
    problems, checked = [], 0
    for line, code in inline_literals(rel, text):
        if "(" not in code and "." not in code:
            continue
        try:
            tree = ast.parse(code, mode="eval")
        except SyntaxError:
            continue
        if not any(isinstance(n, (ast.Call, ast.Attribute)) for n in ast.walk(tree)):
            continue
        checker = _InlineChecker(Snippet(rel, line, code), names)
        checker.visit(tree)
        problems += [f"{p}: correct the inline code ``{code}``"
                     for p in dict.fromkeys(checker.errors)]
        checked += len(checker.checked) + checker.attributes
    return problems, checked


def test_every_inline_call_and_attribute_in_the_docs_exists():
    names = public_names()
    problems, checked = _over_pages(lambda rel, text: inline_call_problems(rel, text, names))
    assert not problems, "Inline code in the docs that would fail:\n" + "\n".join(problems)
    assert checked >= 35, f"only {checked} inline calls and attributes checked"


_BROKEN_NAMES = """\
Call ``unigen.models.Glwo(image_shape=(8, 8, 1))`` or :func:`unigen.evaluation.compar`;
``FlowGAN(gradient_clip=1.0)`` is wrong, ``FlowGAN(gradient_clip_norm=1.0)`` right;
``Critic.stepp`` is wrong, ``Critic.step`` right; ``unigen/models/gan/`` is a folder and
``model.compile(optimizer=1)`` is not resolved.
"""


@pytest.mark.parametrize("check", ["names", "calls"])
def test_a_broken_name_or_call_fails_naming_file_and_line(check):
    if check == "names":
        problems, count = name_problems("docs/broken.rst", _BROKEN_NAMES)
        assert count == 2 and len(problems) == 2, problems
        assert problems[0].startswith("docs/broken.rst:1: `unigen.models.Glwo` does not")
        assert problems[1].startswith("docs/broken.rst:1: `unigen.evaluation.compar` does not")
    else:
        problems, checked = inline_call_problems("docs/broken.rst", _BROKEN_NAMES,
                                                 public_names())
        text = "\n".join(problems)
        assert len(problems) == 3, text
        assert "docs/broken.rst:1:" in text and "'Glwo'" in text
        assert "docs/broken.rst:2: `FlowGAN(...)`" in text and "'gradient_clip'" in text
        assert "docs/broken.rst:3: Critic has no attribute 'stepp'" in text
        assert checked >= 3



# ------------------------------------------------------ tests, outputs, tables
def _test_inventory():
    """(test function names, test module names, test file paths) under tests/."""
    functions, modules, paths = set(), set(), set()
    for path in glob.glob(os.path.join(ROOT, "tests", "**", "*.py"), recursive=True):
        rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
        paths.add(rel)
        modules.add(os.path.basename(path)[:-3])
        with open(path, encoding="utf-8") as f:
            functions.update(re.findall(r"^\s*(?:async )?def (test_\w+)\(", f.read(), re.M))
    return functions, modules, paths


def cited_test_problems(rel, text, inventory):
    """A bare ``test_name`` must be a test function or module; a ``tests/...*.py``
    pattern must match a file (``tests/FILE.py::name`` is `test_docs`'s check)."""
    functions, modules, paths = inventory
    problems = []
    for line, code in inline_literals(rel, text):
        if re.fullmatch(r"test_\w+", code) and code not in functions | modules:
            problems.append(f"{rel}:{line}: ``{code}`` is neither a test nor a test module "
                            f"under tests/: name the test that checks it")
        for pattern in re.findall(r"\btests/[\w/]*\*[\w*]*\.py", code):
            if not any(re.fullmatch(pattern.replace("*", r"\w*"), p) for p in paths):
                problems.append(f"{rel}:{line}: no file matches {pattern}: give the path "
                                f"the tests have")
    return problems


def test_every_test_the_docs_name_by_its_bare_name_or_a_pattern_exists():
    inventory = _test_inventory()
    problems = []
    for rel in doc_pages():
        problems += cited_test_problems(rel, _read(rel), inventory)
    assert not problems, "Tests named in the docs that do not exist:\n" + "\n".join(problems)


def test_a_missing_bare_test_name_fails():
    text = "Checked by ``test_fit`` and ``test_no_such_thing``; see ``tests/test_fit*.py``\n" \
           "and ``tests/training/test_fit*.py``.\n"
    problems = cited_test_problems("docs/broken.rst", text, _test_inventory())
    assert len(problems) == 2, problems
    assert problems[0].startswith("docs/broken.rst:1: ``test_no_such_thing``")
    assert problems[1].startswith("docs/broken.rst:1: no file matches tests/test_fit*.py")


def example_output_problems(name, docstring, committed):
    """Files an example's header says it writes (.png, .json) that its smoke run did not."""
    problems = []
    for file in sorted(set(re.findall(r"[\w.-]+\.(?:png|json)\b", docstring))):
        if file not in committed:
            problems.append(f"examples/{name}.py: its header says it writes {file}, but its "
                            f"smoke run wrote {', '.join(committed)} "
                            f"(docs/_static/examples/{name}/): correct the header or rerun "
                            f"`python docs/make_gallery.py {name}`")
    return problems


def test_every_output_file_an_example_header_names_is_written():
    import sys

    sys.path.insert(0, os.path.join(ROOT, "docs"))
    import make_gallery

    problems, named = [], 0
    for name in make_gallery.example_names():
        doc = _read(f"examples/{name}.py")
        named += len(re.findall(r"[\w.-]+\.(?:png|json)\b", doc))
        problems += example_output_problems(name, doc, make_gallery.outputs(name))
    assert not problems, "\n".join(problems)
    assert named >= 15, named


def test_a_header_naming_an_unwritten_file_fails():
    doc = "Writes ``samples.png``, ``metrics.json`` and ``density.png``."
    problems = example_output_problems("x", doc, ["metrics.json", "output.txt", "samples.png"])
    assert len(problems) == 1 and "density.png" in problems[0], problems


#: ``name=value`` literals that are not unigen's parameters (NumPy's, Keras's).
_FOREIGN_KEYWORDS = {"allow_pickle", "safe_mode", "global_clipnorm", "alg", "window"}


def keyword_problems(rel, text, parameters):
    """A bare ``name=value`` literal must name a parameter of some unigen callable."""
    problems = []
    pattern = r"([A-Za-z_]\w*)=\S"
    for line, code in inline_literals(rel, text):
        match = re.match(pattern, code)
        if not match or code.startswith("-") or match.group(1).isupper():
            continue  # a flag or an environment variable
        name = match.group(1)
        if name not in parameters and name not in _FOREIGN_KEYWORDS:
            problems.append(f"{rel}:{line}: ``{code}``: no unigen function or class takes "
                            f"{name}=: name the parameter the code has")
    return problems


def unigen_parameters():
    """Every parameter name of every function and method defined in unigen/."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "unigen", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                names.update(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs])
    return names


def test_every_keyword_the_docs_quote_is_a_parameter_of_unigen():
    parameters = unigen_parameters()
    problems, count = [], 0
    for rel in doc_pages():
        text = _read(rel)
        problems += keyword_problems(rel, text, parameters)
        count += sum(1 for _, c in inline_literals(rel, text) if re.match(r"[a-z_]\w*=\S", c))
    assert not problems, "Keywords in the docs that unigen does not take:\n" + "\n".join(
        problems)
    assert count >= 50, count


def test_a_keyword_no_function_takes_fails():
    text = "Set ``kl_warmup_steps=100`` or ``warmup_kl=100``; ``TF_CPP_MIN_LOG_LEVEL=0``.\n"
    problems = keyword_problems("docs/broken.rst", text, unigen_parameters())
    assert len(problems) == 1 and "warmup_kl=" in problems[0], problems


def claims_counts(text):
    """(rows, rows citing a new test, of them also an older one, computed otherwise,
    not computed, bold rows) counted from the tables of docs/theory/claims.rst."""
    rows = [b for b in re.split(r"^   \* - ", text, flags=re.M)[1:] if not b.startswith("Claim")]
    new = both = not_computed = bold = 0
    for row in rows:
        cells = re.split(r"^     - ", row, flags=re.M)
        computed_in = cells[1] if len(cells) > 1 else ""
        bold += bool(re.search(r"\*\*[^*]+\*\*", row))
        if computed_in.strip().startswith("not computed"):
            not_computed += 1
            continue
        tests = re.findall(r"``tests/[^`]+``( \*\(new\)\*)?", computed_in)
        if any(tests):
            new += 1
            both += any(not tag for tag in tests)
    return len(rows), new, both, len(rows) - new - not_computed, not_computed, bold


_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


def test_the_claims_page_summary_counts_its_own_table():
    with open(os.path.join(ROOT, "docs", "theory", "claims.rst"), encoding="utf-8") as f:
        text = f.read()
    prose = " ".join(text.split())
    stated = re.search(r"In all, (\d+) rows; .*? (\d+) rows cite a test added with this page "
                       r"\(marked \*\(new\)\*; (\d+) of them cite an older test too\), (\d+) "
                       r"are computed by other tests or docs pages, and (\d+) are "
                       r"not computed", prose)
    assert stated, "docs/theory/claims.rst: the summary sentence ('In all, N rows; ...') moved"
    bold = re.search(r"(\w+) rows did not hold as stated", prose)
    stated = (*map(int, stated.groups()), _WORDS.get(bold.group(1).lower()))
    counted = claims_counts(text)
    assert stated == counted, (
        f"docs/theory/claims.rst: the summary says (rows, new, new and older, otherwise, not "
        f"computed, bold) = {stated}; the table has {counted}: update the summary")


def test_the_concepts_layout_table_names_what_each_path_holds():
    with open(os.path.join(ROOT, "docs", "concepts.rst"), encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r"^``(unigen/[\w/.]*)``\s+(.*(?:\n {20,}.*)*)", text, re.M)
    assert len(rows) >= 15, rows
    problems = []
    for path, what in rows:
        full = os.path.join(ROOT, path)
        if not os.path.exists(full):
            problems.append(f"docs/concepts.rst: {path} does not exist")
            continue
        module = importlib.import_module(path.removesuffix("/").removesuffix(".py")
                                         .removesuffix("/__init__").replace("/", "."))
        for name in re.findall(r"``(\w+)``", what):
            if not hasattr(module, name) and name not in ("unigen",):
                problems.append(f"docs/concepts.rst: {path} has no {name}: correct the layout "
                                f"table")
    assert not problems, "\n".join(problems)


def unigen_defaults():
    """{parameter name: set of its literal default values} over every function in unigen/."""
    defaults = {}
    for path in glob.glob(os.path.join(ROOT, "unigen", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults,
                             strict=True))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                      if d is not None]
            for arg, default in pairs:
                try:
                    value = ast.literal_eval(default)
                except ValueError:
                    continue
                defaults.setdefault(arg.arg, set()).add(repr(value))
    return defaults


def _as_value(text):
    """A quoted default as the code would write it: 2,000 -> 2000, "js" -> 'js'."""
    text = text.strip().rstrip(".,;")
    try:
        return repr(ast.literal_eval(text.replace(",", "") if text[:1].isdigit() else text))
    except (ValueError, SyntaxError):
        return None


def default_problems(rel, text, defaults):
    """``name`` (default X) and ``name`` = X must be a default some unigen function has."""
    prose = text
    problems = []
    tick = "`" if rel.endswith(".md") else "``"
    pattern = (rf"{tick}([a-z_]\w*){tick}(?: argument)?(?: \(default ([^);]+)[);]"
               rf"| = ([\w.,\"']+?)(?=[\s)]))")
    for match in re.finditer(pattern, prose):
        name, quoted = match.group(1), match.group(2) or match.group(3)
        value = _as_value(quoted)
        if name not in defaults or value is None:
            continue  # not a parameter (a symbol of the maths), or prose
        numeric = {float(v) for v in defaults[name] if re.fullmatch(r"-?[\d.e+-]+", v)}
        same = value in defaults[name] or (re.fullmatch(r"-?[\d.e+-]+", value)
                                           and float(value) in numeric)
        if not same:
            problems.append(f"{rel}:{_line_of(prose, match.start())}: ``{name}`` defaults to "
                            f"{' or '.join(sorted(defaults[name]))} in the code, the docs say "
                            f"{quoted.strip()}: correct the docs (or the default)")
    return problems


def test_every_default_the_docs_quote_is_the_code_default():
    defaults = unigen_defaults()
    problems, quoted = [], 0
    for rel in doc_pages():
        text = _read(rel)
        problems += default_problems(rel, text, defaults)
        quoted += len(re.findall(r"`(?: argument)? \(default |`` = [\w\"']", text))
    assert quoted >= 5, f"only {quoted} quoted defaults found: the extraction broke"
    assert not problems, "Defaults in the docs that the code does not have:\n" + "\n".join(
        problems)


def test_a_wrong_default_fails():
    text = ("Raise ``importance_samples`` (default 100); keep ``pool_size`` = 50 and\n"
            "``anneal_steps`` = 2,000; ``ais_steps`` (default 50) is wrong.\n")
    problems = default_problems("docs/broken.rst", text, unigen_defaults())
    assert len(problems) == 1, problems
    assert problems[0].startswith("docs/broken.rst:2: ``ais_steps`` defaults to 100")


def usage_default_problems(rel, source):
    """``[--flag VALUE]`` in an example's usage line must show the flag's default."""
    tree = ast.parse(source)
    defaults = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            flags = [a.value for a in node.args if isinstance(a, ast.Constant)
                     and isinstance(a.value, str) and a.value.startswith("--")]
            for kw in node.keywords:
                if kw.arg == "default":
                    try:
                        value = ast.literal_eval(kw.value)
                    except ValueError:
                        continue  # computed (a path under runs/)
                    defaults.update(dict.fromkeys(flags, value))
    problems = []
    doc = ast.get_docstring(tree) or ""
    for match in re.finditer(r"\[(--[\w-]+) ([^\]\[]+)\]", doc):
        flag, shown = match.group(1), match.group(2).strip()
        if shown.isupper() or "|" in shown or flag not in defaults:
            continue  # a placeholder (DIR, N), a list of choices, a flag without default
        default = defaults[flag]
        values = default if isinstance(default, list | tuple) else [default]
        words = shown.split()
        if len(words) != len(values) or any(
                w != str(v) and not (isinstance(v, int | float) and _as_value(w) is not None
                                     and float(ast.literal_eval(_as_value(w))) == float(v))
                for w, v in zip(words, values, strict=False)):
            problems.append(f"{rel}: the usage line shows [{flag} {shown}], but the default "
                            f"is {default!r}: show the default")
    return problems


def test_every_example_usage_line_shows_the_defaults():
    problems, shown = [], 0
    for rel in doc_pages():
        if rel.startswith("examples/"):
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                source = f.read()
            shown += len(re.findall(r"\[--[\w-]+ [^\]\[A-Z]+\]", ast.get_docstring(
                ast.parse(source)) or ""))
            problems += usage_default_problems(rel, source)
    assert not problems, "\n".join(problems)
    assert shown >= 15, shown


def test_a_usage_line_with_another_default_fails():
    source = ('"""X.\n\n    python examples/x.py [--epochs 60] [--betas 1 4] [--data digits]'
              ' [--out DIR]\n"""\nimport argparse\np = argparse.ArgumentParser()\n'
              'p.add_argument("--epochs", type=int, default=30)\n'
              'p.add_argument("--betas", type=float, nargs="+", default=[1.0, 4.0])\n'
              'p.add_argument("--data", default="digits")\n')
    problems = usage_default_problems("examples/x.py", source)
    assert len(problems) == 1 and "[--epochs 60]" in problems[0] and "30" in problems[0], \
        problems


def test_the_run_directory_files_the_docs_list_are_the_ones_fit_writes():
    # The files of concepts.rst's table and reliability.rst's list are named in
    # unigen/training, as constants or paths (epoch_NNN: the per-epoch grid).
    source = ""
    for path in glob.glob(os.path.join(ROOT, "unigen", "training", "*.py")):
        with open(path, encoding="utf-8") as f:
            source += f.read()
    with open(os.path.join(ROOT, "docs", "concepts.rst"), encoding="utf-8") as f:
        concepts = f.read()
    table = re.search(r"it keeps there.*?\n(=+ +=+\n.*?)\n=+ +=+\n", concepts, re.S)
    assert table, "docs/concepts.rst: the table of the run directory's files moved"
    listed = re.findall(r"^``([^`]+)``", table.group(1), re.M)
    with open(os.path.join(ROOT, "docs", "reliability.rst"), encoding="utf-8") as f:
        reliability = f.read()
    listed += re.findall(r"``([\w./]+)``", re.search(
        r"``output_dir`` holds (.*?)\.\n", reliability, re.S).group(1))
    assert len(listed) >= 10, listed
    missing = []
    for name in listed:
        parts = [p for p in re.split(r"[/]", name.replace("NNN", "")) if p]
        pieces = [p.removesuffix(".png") if "epoch_" in p else p for p in parts]
        if not all(f'"{p}"' in source or f"'{p}'" in source or f'"{p}' in source
                   or f"{p}{{" in source for p in pieces):
            missing.append(name)
    assert not missing, (f"docs/concepts.rst / docs/reliability.rst list run files that "
                         f"unigen/training does not write: {missing}")
