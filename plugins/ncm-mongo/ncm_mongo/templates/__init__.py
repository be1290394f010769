"""The files `ncm create` writes for MongoDB, one `<type>.py.tmpl` per migration type
(`ctx.db` code; `$description`, `$version` and `$created` are filled in)."""
