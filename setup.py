"""Only for `scrapyd-deploy` (it runs `python setup.py bdist_egg`): everything is configured in pyproject.toml,
including the `scrapy` entry point Scrapyd reads the settings module from and the bundled TOML files."""

from setuptools import setup

setup()
