"""The bare Flask hello-world that bench/gallery.py serves beside Chorus, under the same
gunicorn settings in the same run: the ceiling a Flask page can reach on this machine.

    .venv/bin/gunicorn -w 2 -b 127.0.0.1:8001 --chdir bench hello:app
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
