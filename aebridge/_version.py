"""aebridge's version: the one place it is written.

``pyproject.toml`` reads it from here (``[tool.setuptools.dynamic]``), and every
module that records it (EXR headers, sidecars, build.json, the generated script, the
service's OpenAPI document, ``aebridge -V``) imports it from here. A module of its own
so that importing it imports nothing else: ``from aebridge import __version__`` would
make the import contracts see the package's front door and its lazy exports.
"""

__version__ = "0.1.0"
