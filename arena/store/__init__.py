"""SQLite storage: schema migrations, the store, and the match recorder."""
