"""The files `ncm create` writes for SQL databases, one `<type>.py.tmpl` per migration type
(Alembic `op` code; `$description`, `$version` and `$created` are filled in)."""
