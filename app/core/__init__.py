"""Infrastructure shared by every feature: settings, database, actors, errors, permissions."""
