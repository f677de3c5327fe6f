"""A database backend whose vendor the engine does not know (SQLite underneath): runs fall
back to Django's runner, and the safety gate must judge its names all the same."""
