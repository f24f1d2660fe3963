"""Packaging for unigen."""
import pathlib
import re

from setuptools import find_packages, setup

_HERE = pathlib.Path(__file__).parent
_VERSION = re.search(
    r'^__version__ = "([^"]+)"', (_HERE / "unigen" / "_version.py").read_text(), re.M
).group(1)

setup(
    name="unigen",
    version=_VERSION,
    description=(
        "GANs, normalizing flows and VAEs as Keras 3 models with one divergence "
        "abstraction and one training call."
    ),
    long_description=(_HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["unigen", "unigen.*"]),
    # The shipped weights of the digits feature network (unigen/evaluation/_features.py).
    package_data={"unigen.evaluation": ["weights/*.npz"]},
    install_requires=[
        # Versions known to import and work together (shared/notes/platform.md).
        "tensorflow>=2.21,<2.22",
        "keras>=3.13.2,<4",
        "tensorflow-probability>=0.25,<0.26",
        "tf-keras>=2.21,<2.22",
        "numpy>=1.26",
        # Nearest neighbours, logistic two-sample test, data splits.
        "scikit-learn>=1.3",
        # Special functions and linear algebra of the metrics (also a scikit-learn dependency).
        "scipy>=1.10",
        # The comparison report's figures and 2D sample plots (`unigen compare`).
        "matplotlib>=3.7",
    ],
    extras_require={
        "test": ["pytest>=8", "sphinx>=7", "ruff>=0.6"],
        "docs": ["sphinx>=7"],
        "tensorboard": ["tensorboard>=2.20"],
    },
    entry_points={"console_scripts": ["unigen=unigen.cli:main"]},
)
