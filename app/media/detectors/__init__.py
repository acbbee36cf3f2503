"""Detectors: faces, speech and personal data. Detection only, never recognition."""
