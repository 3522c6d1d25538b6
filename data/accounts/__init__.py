"""Who may use the plant: API tokens and sessions (tokens), people and passwords (users)."""
