"""Demo content for trying Chorus."""
