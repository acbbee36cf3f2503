"""Chorus's media safety library: sniff, sanitize, detect, anonymise, report.

It works on files and streams and imports neither Flask nor SQLAlchemy, so it can be
used and tested on its own and from the command line (``chorus sanitize``).
"""
