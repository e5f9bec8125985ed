"""The package list, and the entry point of `scrapyd-deploy` (it runs `python setup.py bdist_egg`); everything
else (metadata, dependencies, the `scrapy` entry point Scrapyd reads the settings module from, the bundled
TOML files) is configured in pyproject.toml.

The per-site spiders live in the folder ``spiders/`` (the folder Scrapy users look for) but are installed as
the package ``monitor_spiders``: a top-level package named ``spiders`` in site-packages would clash with any
other project's.  ``[tool.setuptools.packages.find]`` only finds packages named like their folder, so the
list is made here; editable installs (``pip install -e .``) map the name to the folder too.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["monitor", "monitor.*"]), "monitor_spiders"],
    package_dir={"monitor_spiders": "spiders"},
)
