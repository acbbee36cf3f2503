"""One module per format family; importing this package registers them all."""

from __future__ import annotations

import importlib

for _name in ("images", "pdf", "audiovisual", "text"):
    try:
        importlib.import_module(f"app.media.sanitizers.{_name}")
    except ModuleNotFoundError as error:  # a family not built yet stays unregistered
        if error.name != f"app.media.sanitizers.{_name}":
            raise
