"""`unigen.compare` and `unigen.evaluate` take saved models by path, named as
``unigen compare --models`` names them; bad paths fail before scoring; scoring
prints one line per step, never a Keras progress bar."""

import os
import re

import numpy as np
import pytest

import unigen
from unigen import evaluation as ev
from unigen.errors import UnsafeModelFileError
from unigen.evaluation import _compare, _evaluate
from unigen.evaluation._cli import is_saved_model, train_or_load

RNG = np.random.default_rng(0)
TRAIN = RNG.normal(size=(128, 2)).astype("float32")
TEST = RNG.normal(size=(60, 2)).astype("float32")
VALIDATION = RNG.normal(size=(60, 2)).astype("float32")
SMALL = dict(train=TRAIN, validation=VALIDATION, metrics=["nll", "precision_recall"],
             references=False)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """``runs/a``: a finished one-epoch run; ``b.keras``: another model saved by hand."""
    root = tmp_path_factory.mktemp("paths")
    unigen.fit(unigen.models.Gaussian(event_shape=(2,)), TRAIN, epochs=1, batch_size=32,
               seed=0, output_dir=str(root / "runs" / "a"), verbose=0)
    other = unigen.models.Gaussian(event_shape=(2,))
    unigen.fit(other, TRAIN[:64] * 2.0, epochs=1, batch_size=32, seed=1, verbose=0)
    other.save(str(root / "b.keras"))
    return root


def _values(report):
    return {name: {k: s.value for k, s in scores.items()}
            for name, scores in report.scores().items()}


def test_paths_and_run_directories_are_loaded_and_named_as_the_cli_names_them(saved):
    run, keras_file = saved / "runs" / "a", str(saved / "b.keras")
    # The command line's rule, through the one shared helper.
    for spec, name in ((str(run), "a"), (str(run / "model.keras"), "a"), (keras_file, "b")):
        assert is_saved_model(spec)
        assert train_or_load(spec, None, None)[0] == name
    loaded = {"a": unigen.load(run), "b": unigen.load(keras_file)}
    expected = _values(ev.compare(loaded, TEST, verbose=0, **SMALL))
    by_list = ev.compare([run, keras_file], TEST, verbose=0, **SMALL)  # PathLike and str
    assert _values(by_list) == expected
    assert list(by_list.scores()) == ["real data (validation)", "a", "b"]
    by_dict = ev.compare({"a": str(run / "model.keras"), "b": loaded["b"]}, TEST, verbose=0,
                         **SMALL)
    assert _values(by_dict) == expected
    # unigen.evaluate takes a path too.
    nll = ev.evaluate(run, TEST, metrics=["nll"], verbose=0)["nll"].value
    assert nll == expected["a"]["nll"]


def test_two_list_entries_of_one_name_and_other_values_are_refused(saved):
    run = saved / "runs" / "a"
    with pytest.raises(ValueError, match=r"Two entries of `models` are named 'a'.*pass a dict"):
        ev.compare([run, run / "model.keras"], TEST, verbose=0, **SMALL)
    with pytest.raises(TypeError, match=r"`models\['x'\]` must be a unigen model .* or the "
                                        r"path of a saved one"):
        ev.compare({"x": 3}, TEST, verbose=0, **SMALL)


@pytest.fixture
def no_scoring(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the data were read or a model scored before the paths were")
    for module in (_compare, _evaluate):
        monkeypatch.setattr(module, "EvaluationData", refuse)
    monkeypatch.setattr(_compare, "score_model", refuse)


def test_bad_paths_fail_before_scoring_and_name_the_path_and_the_fix(saved, tmp_path,
                                                                     no_scoring):
    good = unigen.load(saved / "b.keras")
    missing = str(tmp_path / "runs" / "nope")
    with pytest.raises(FileNotFoundError, match=re.escape(repr(missing)) + ".*training run's"):
        ev.compare({"good": good, "bad": missing}, TEST)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"No model\.keras in .*it is empty"):
        ev.compare([good, tmp_path / "empty"], TEST)
    (tmp_path / "broken.keras").write_bytes(b"")
    with pytest.raises(UnsafeModelFileError, match=r"broken\.keras' is not a valid \.keras"):
        ev.evaluate(str(tmp_path / "broken.keras"), TEST)
    with pytest.raises(FileNotFoundError, match=r"'gaussian' is a model name.*unigen\.fit\("
                                                r"unigen\.models\.create\('gaussian'"):
        ev.compare({"g": "gaussian"}, TEST)


def test_scoring_prints_one_line_per_step_and_no_progress_bar(saved, capsys, tmp_path,
                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)  # scoring writes nothing into the working directory
    ev.compare([saved / "runs" / "a"], TEST, verbose=1, **{**SMALL, "references": True})
    out = capsys.readouterr().out
    assert "━" not in out and "\r" not in out and "[====" not in out, out
    assert not re.search(r"\b\d+/\d+ \S*\s", out), out  # a Keras bar's "2/5 ━━ 0s" counter
    lines = out.splitlines()
    number = r"\d+\.\d+ s"
    for pattern in (rf"\[compare\] floor \(real held-out data\), sample quality "
                    rf"\(precision_recall\): {number}",
                    r"\[compare\] scoring a \(1/3\) \.\.\.",
                    rf"\[compare\]   60 samples drawn: {number}",
                    rf"\[compare\]   nll \(exact\) on 60 examples: \d+\.\d\d nats, {number}",
                    rf"\[compare\]   sample quality \(precision_recall\): {number}",
                    r"\[compare\] scoring memoriser \(ref\.\) \(3/3\) \.\.\.",
                    rf"\[compare\]   nll_parzen \(Parzen\) on 60 examples: .+ nats, {number}"):
        assert any(re.fullmatch(pattern, line) for line in lines), (pattern, out)
    # Every line says what and how long: nothing else is printed.
    assert all(line.startswith("[compare] ") for line in lines), out
    assert sum(line.startswith("[compare]   nll (") for line in lines) == 3  # a, both refs
    ev.evaluate(saved / "b.keras", TEST, train=TRAIN, validation=VALIDATION,
                metrics=["nll"], verbose=1)
    out = capsys.readouterr().out
    assert re.fullmatch(rf"\[evaluate\] nll \(exact\) on 60 examples: \S+ nats, {number}\n",
                        out), out
    ev.compare([saved / "runs" / "a"], TEST, verbose=0, **SMALL)
    assert capsys.readouterr().out == ""
    assert os.listdir(tmp_path) == []  # nothing written where the test runs
