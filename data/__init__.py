"""Project-written data files (lexicons, scorer weights), installed as ``garble.data``."""
