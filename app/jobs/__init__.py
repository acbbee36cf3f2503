"""Background jobs on Huey: an embedded SQLite queue by default, Redis when configured.

Feature packages declare their jobs in a ``jobs`` module (``app/<feature>/jobs.py``)
with the decorators of :mod:`app.jobs.queue`; ``chorus run`` consumes them in a thread
of the web process, ``chorus worker`` in a process of its own.
"""
