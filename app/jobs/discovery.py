"""Finding the jobs: each feature package keeps them in its ``jobs`` module."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil


def import_job_modules(package: str = "app") -> list[str]:
    """Import ``<package>.<feature>.jobs`` for every feature package that has one, so a
    consumer knows every task it may be handed; return the modules' names."""
    root = importlib.import_module(package)
    imported = []
    for feature in pkgutil.iter_modules(root.__path__):
        name = f"{package}.{feature.name}.jobs"
        if feature.ispkg and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
            imported.append(name)
    return imported
