"""unigen's benchmarks: quality and speed figures, written to benchmarks/results/.

The speed suite has one entry point::

    python -m benchmarks speed --device cpu [--quick] [--repeats N] [--only NAMES]

(see `benchmarks.speed`). The other benchmarks are standalone scripts
(``python benchmarks/digits_report.py`` and the like).
"""
