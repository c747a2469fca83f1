"""The business domains, one package each: `services` (rules, permission checks, queries; called
by the API controllers and the admin UI alike), `controllers` (HTTP only) and `schemas` (types)."""
