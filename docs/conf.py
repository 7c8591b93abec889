"""Sphinx configuration: the Markdown pages in docs/ (MyST), built by `make docs`."""

project = "django-billing"
author = "django-billing contributors"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = "django-billing"
suppress_warnings: list[str] = []
