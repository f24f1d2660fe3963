"""Importing TensorFlow for unigen: a quiet start on the command line.

TensorFlow's C++ libraries print notices while they load, before they read
``TF_CPP_MIN_LOG_LEVEL``, so that the variable does not hide them: absl's
"WARNING: All log messages before absl::InitializeLog() is called are written
to STDERR" (absl writes every message before its initialisation;
abseil/abseil-cpp#1957), INFO lines such as "oneDNN custom operations are on"
and "Could not find cuda drivers on your machine", and on CUDA builds the
harmless "Unable to register cuDNN factory: ... when one has already been
registered" errors (tensorflow/tensorflow#62075).

The rule, applied by `import_tensorflow`, which runs when this module is
imported (``unigen/__init__.py`` imports it before anything imports TensorFlow):

* The ``unigen`` command (the console script, ``python -m unigen``) sets
  ``TF_CPP_MIN_LOG_LEVEL=2`` with ``os.environ.setdefault``: a value the user
  set wins, ``0`` shows everything.
* ``import unigen`` in the user's own program never writes the variable: the
  environment is the user's, and the variable would reach every subprocess
  and every later TensorFlow. TensorFlow then logs as it does by default.
* When the level in force is 1 or more, TensorFlow is imported with file
  descriptor 2 (C++ and Python stderr) captured, and every captured line is
  written back except those that the level says to hide: absl-format lines
  below the level, the harmless re-registration errors above, and absl's
  banner (a note about logging itself). Level 0, or no level, captures nothing.
"""

import contextlib
import os
import re
import sys
import tempfile

__all__ = []

#: The level the ``unigen`` command runs TensorFlow's C++ logging at (2: errors only).
COMMAND_LOG_LEVEL = "2"
_BANNER = "WARNING: All log messages before absl::InitializeLog() is called"
# "I0000 00:00:1796035226.717573   22258 port.cc:153] ..." (absl) or
# "2026-11-30 10:40:18.123456: I tensorflow/core/..." (TensorFlow's own format).
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] ")
_TF_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: ([IWEF]) \S+:\d+\] ")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
# Errors a CUDA build logs on every start although nothing is wrong.
_HARMLESS = ("when one has already been registered",)


def started_as_command():
    """Whether this process runs the ``unigen`` command line.

    True for the console script (``sys.argv[0]`` named ``unigen``) and for
    ``python -m unigen`` / ``python -m unigen.cli`` (while Python imports the
    package of a ``-m`` module, ``sys.argv[0]`` is ``"-m"``; the module's name
    is in ``sys.orig_argv``).
    """
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 == "-m":
        return _module_of(getattr(sys, "orig_argv", [])) in ("unigen", "unigen.cli",
                                                             "unigen.__main__")
    name = re.sub(r"(-script\.pyw?|\.exe)$", "", os.path.basename(argv0.replace("\\", "/")))
    return name == "unigen"


def _module_of(argv):
    """The module of the first ``-m`` option of an interpreter command line, or None."""
    for i, arg in enumerate(argv[1:], 1):
        if arg == "-m":
            return argv[i + 1] if i + 1 < len(argv) else None
        if arg.startswith("-m") and not arg.startswith("--"):
            return arg[2:]
    return None


def log_level():
    """The ``TF_CPP_MIN_LOG_LEVEL`` in force as an int 0..3 (0 when unset or not a number)."""
    try:
        return min(max(int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")), 0), 3)
    except ValueError:
        return 0


def kept_lines(text, level):
    """The lines of captured start-up output that ``level`` (1..3) does not hide."""
    keep = []
    for line in text.splitlines(keepends=True):
        match = _ABSL_LINE.match(line) or _TF_LINE.match(line)
        if match is None:
            keep.append(line)
        elif _SEVERITY[match.group(1)] >= level and not any(h in line for h in _HARMLESS):
            keep.append(line)
    return [line for line in keep if not line.startswith(_BANNER)]


@contextlib.contextmanager
def captured_stderr():
    """Captures what the block writes to file descriptor 2 (C++ and Python).

    Yields a list that holds the captured text once the block has ended (also
    when it raises), or None when stderr cannot be redirected (nothing is
    captured then). The caller writes back what it keeps, with `write_stderr`.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr
        yield None
        return
    result = []
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield result
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            result.append(capture.read().decode("utf-8", errors="replace"))


def write_stderr(lines):
    """Writes ``lines`` to stderr (after a `captured_stderr` block)."""
    if lines:
        sys.stderr.write("".join(lines))
        sys.stderr.flush()


def import_tensorflow():
    """Imports TensorFlow once, under the rule in this module's docstring."""
    if started_as_command():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", COMMAND_LOG_LEVEL)
    level = log_level()
    if "tensorflow" in sys.modules or level == 0:
        import tensorflow
        return
    captured = None
    try:
        with captured_stderr() as captured:
            import tensorflow  # noqa: F401
    finally:  # also when the import fails: its messages are the user's clue
        if captured:
            write_stderr(kept_lines(captured[0], level))


import_tensorflow()
