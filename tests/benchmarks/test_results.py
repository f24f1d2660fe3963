"""`benchmarks.write_result`: the one place where benchmark scripts write their JSON."""

import ast
import datetime
import json
import os
import sys

import numpy as np
import pytest

from benchmarks import _results, read_result, results_path, write_result

BENCHMARKS = os.path.dirname(os.path.abspath(_results.__file__))


def _load(path):
    with open(path) as f:
        return json.load(f)


def test_results_path_default_file_and_directory(tmp_path):
    assert results_path("glow_convs") == os.path.join(_results.RESULTS, "glow_convs.json")
    assert results_path("x", tmp_path / "mine.json") == str(tmp_path / "mine.json")
    assert results_path("x", tmp_path) == str(tmp_path / "x.json")
    for bad in ("", "x.json", os.path.join("a", "b")):
        with pytest.raises(ValueError, match="bare record name"):
            results_path(bad)


def test_record_round_trips_with_its_provenance(tmp_path, capsys):
    record = {"cases": {"a": {"ms": np.float32(1.5), "counts": np.arange(3)}},
              "load_average_start": [0.5, 0.4, 0.3], "steps": np.int64(7), "none": None}
    path = write_result("bench", record, out=tmp_path / "sub", load_average_start=(1, 2, 3))
    assert path == str(tmp_path / "sub" / "bench.json")
    assert f"wrote {path}" in capsys.readouterr().out
    assert os.listdir(tmp_path / "sub") == ["bench.json"]  # no temporary file left
    written = _load(path)
    meta = written.pop("meta")
    assert written == {"cases": {"a": {"ms": 1.5, "counts": [0, 1, 2]}},
                       "load_average_start": [0.5, 0.4, 0.3], "steps": 7, "none": None}
    assert "meta" not in record  # the caller's dict is left alone
    when = datetime.datetime.fromisoformat(meta["utc"])
    assert when.utcoffset() == datetime.timedelta(0)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < 600
    assert meta["argv"] == sys.argv and meta["cwd"] == os.getcwd()
    commit = meta["git_commit"]
    assert commit is None or (len(commit) == 40 and int(commit, 16) >= 0)
    assert meta["git_dirty"] in ((None,) if commit is None else (True, False))
    machine = meta["machine"]
    for key in ("device", "cpu", "cores", "python", "tensorflow", "keras", "platform"):
        assert machine[key], key
    assert machine["cores"] == os.cpu_count()
    assert machine["load_average_start"] == [1, 2, 3]
    assert len(machine["load_average_end"]) == 3
    assert read_result("bench", tmp_path / "sub") == {**written, "meta": meta}


def test_a_record_with_its_own_machine_description_is_not_described_twice(tmp_path):
    machine = {"device": "cpu", "cpu": "x", "load_average_start": [1.0, 1.0, 1.0]}
    path = write_result("speed_cpu", {"machine": machine, "figure": 2.0}, out=tmp_path,
                        machine_key="machine")
    written = _load(path)
    assert "machine" not in written["meta"]
    assert {"utc", "git_commit", "git_dirty", "argv"} <= set(written["meta"])
    assert written["machine"]["cpu"] == "x"
    assert len(written["machine"]["load_average_end"]) == 3
    assert "load_average_end" not in machine


def test_merge_keeps_the_other_entries_and_who_wrote_them(tmp_path):
    out = tmp_path / "r.json"
    write_result("r", {"digits": 1, "fashion": 2}, out=out)
    first = _load(out)["meta"]
    write_result("r", {"fashion": 3}, out=out, merge=True)
    second = _load(out)
    assert {k: v for k, v in second.items() if k != "meta"} == {"digits": 1, "fashion": 3}
    assert second["meta"]["keys"] == ["fashion"]
    assert second["meta"]["earlier"] == [{**first, "keys": ["digits"]}]
    write_result("r", {"digits": 4}, out=out, merge=True)
    third = _load(out)
    assert {k: v for k, v in third.items() if k != "meta"} == {"digits": 4, "fashion": 3}
    # The first run owns nothing any more; the second still owns "fashion".
    assert [run["keys"] for run in third["meta"]["earlier"]] == [["fashion"]]
    assert third["meta"]["earlier"][0]["utc"] == second["meta"]["utc"]
    write_result("r", {"other": 5}, out=out)  # without merge: a fresh record
    assert set(_load(out)) == {"other", "meta"}


def test_merge_into_a_missing_file_and_a_broken_one(tmp_path):
    path = write_result("r", {"a": 1}, out=tmp_path, merge=True)
    assert _load(path)["meta"]["keys"] == ["a"]
    with open(path, "w") as f:
        f.write("{half a record")
    with pytest.raises(ValueError, match=r"r\.json is not valid JSON"):
        write_result("r", {"a": 2}, out=tmp_path, merge=True)
    assert read_result("absent", tmp_path) is None
    with pytest.raises(ValueError, match="already has a 'meta' key"):
        write_result("r", {"meta": 1}, out=tmp_path)


def test_a_failed_write_leaves_the_previous_record(tmp_path):
    path = write_result("r", {"a": 1}, out=tmp_path)
    with pytest.raises(TypeError):
        write_result("r", {"a": object()}, out=tmp_path)
    assert os.listdir(tmp_path) == ["r.json"] and _load(path)["a"] == 1


@pytest.mark.parametrize("git", ["failing", "missing"])
def test_provenance_outside_a_git_checkout(tmp_path, monkeypatch, git):
    """No checkout, a git that fails, or no git at all: the record is still written."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if git == "failing":
        (bin_dir / "git").write_text("#!/bin/sh\necho 'fatal: not a git repository' >&2\n"
                                     "exit 128\n")
        (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(_results, "_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    meta = _results.provenance(machine=False)
    assert meta["git_commit"] is None and meta["git_dirty"] is None
    assert meta["cwd"] == str(tmp_path) and "machine" not in meta
    path = write_result("r", {"a": 1}, out="r.json")
    assert _load(tmp_path / "r.json")["meta"]["git_commit"] is None and path == "r.json"


def _hand_written_json(source):
    """Lines of ``source`` that write JSON without `write_result`: ``json.dump(...)``,
    ``dump`` imported from json, or ``json.dumps(...)`` passed to a write call."""
    tree = ast.parse(source)
    from_json = {alias.asname or alias.name: alias.name for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module == "json"
                 for alias in node.names}

    def is_json(func, name):
        return ((isinstance(func, ast.Attribute) and func.attr == name
                 and isinstance(func.value, ast.Name) and func.value.id == "json")
                or (isinstance(func, ast.Name) and from_json.get(func.id) == name))

    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if is_json(node.func, "dump"):
            lines.append(node.lineno)
        elif isinstance(node.func, ast.Attribute) and node.func.attr in (
                "write", "write_text", "writelines"):
            if any(isinstance(n, ast.Call) and is_json(n.func, "dumps")
                   for arg in node.args for n in ast.walk(arg)):
                lines.append(node.lineno)
    return lines


def test_the_checker_catches_every_way_of_writing_json_by_hand():
    assert _hand_written_json("import json\njson.dump({}, open('x', 'w'))\n") == [2]
    assert _hand_written_json("from json import dump as d\nd({}, f)\n") == [2]
    assert _hand_written_json("import json\nf.write(json.dumps({}))\n") == [2]
    assert _hand_written_json("import json\np.write_text(json.dumps({}) + '\\n')\n") == [2]
    assert _hand_written_json("from json import dumps\nout.write(dumps({}))\n") == [2]
    assert _hand_written_json("import json\nprint(json.dumps({}))\nx = json.load(f)\n") == []
    assert _hand_written_json("def dump(x):\n    pass\ndump({})\n") == []


def test_no_benchmark_script_writes_json_by_hand():
    """Every record goes through `write_result` (a 20th copy of the write fails here)."""
    scripts, offenders = [], {}
    for folder, _, names in os.walk(BENCHMARKS):
        for name in names:
            path = os.path.join(folder, name)
            if not name.endswith(".py") or path == _results.__file__:
                continue
            scripts.append(path)
            with open(path) as f:
                lines = _hand_written_json(f.read())
            if lines:
                offenders[os.path.relpath(path, BENCHMARKS)] = lines
    assert len(scripts) >= 30  # the scripts and the speed suite were all found
    assert not offenders, f"write these records with benchmarks.write_result: {offenders}"
