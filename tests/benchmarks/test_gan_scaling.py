"""``benchmarks/gan_scaling.py``: ``--merge`` keeps the runs it does not repeat,
and the docs' table compares each setting with ``base`` seed by seed.
(Training is not run here: a BigGAN and its scoring take minutes.)"""

from benchmarks import gan_scaling


def _run(seed, fid):
    return {"seed": seed, "fid": fid, "precision": 0.5, "recall": 0.4, "seconds": 20.0,
            "parameters": 1000}


def _results():
    return {name: {"setting": gan_scaling.SETTINGS[name],
                   "runs": [_run(0, fid), _run(1, fid + 10.0)]}
            for name, fid in (("base", 60.0), ("wide", 40.0), ("big_batch", 65.0))}


def test_merge_replaces_only_the_settings_and_seeds_it_measures_again():
    kept = gan_scaling.kept_runs(_results(), settings=["batch_8x", "wide"], seeds=[1, 2])
    assert [r["seed"] for r in kept["base"]["runs"]] == [0, 1]
    assert [r["seed"] for r in kept["big_batch"]["runs"]] == [0, 1]
    assert [r["seed"] for r in kept["wide"]["runs"]] == [0]
    assert "batch_8x" not in kept


def test_table_counts_seeds_better_than_base():
    results = _results()
    results["big_batch"]["runs"][1]["fid"] = 50.0  # beats base's 70 at seed 1 only
    lines = gan_scaling.rst_table({"results": results}).splitlines()
    assert lines[1].split()[:3] == ["setting", "filters", "batch"]
    rows = {line.split()[0]: line for line in lines[3:-1]}
    assert "2 of 2" in rows["wide"] and "1 of 2" in rows["big_batch"]
    assert "45.0 +- 7.1" in rows["wide"]  # mean and seed standard deviation of 40, 50
