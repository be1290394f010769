"""Migration file formats: Python files are a built-in plugin of the same hook as SQL files."""
