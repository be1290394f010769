"""``ncm lint`` on SQL databases: Alembic's operation objects captured through a recording
``op`` (``capture``), raw SQL read with sqlglot (``statements``), and the rules only SQL
has (``rules``)."""
