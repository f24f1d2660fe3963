"""unigen's benchmarks: quality and speed figures, written to benchmarks/results/.

The speed suite has one entry point::

    python -m benchmarks speed --device cpu [--quick] [--repeats N] [--only NAMES]

(see `benchmarks.speed`). The other benchmarks are standalone scripts
(``python benchmarks/digits_report.py`` and the like). Every script writes its
JSON record through `write_result` (`benchmarks._results`), which adds the
run's provenance under ``"meta"``.
"""

from benchmarks._results import (
    RESULTS,
    cpu_model,
    describe_machine,
    provenance,
    read_result,
    results_path,
    write_result,
)

__all__ = ["RESULTS", "cpu_model", "describe_machine", "provenance", "read_result",
           "results_path", "write_result"]
