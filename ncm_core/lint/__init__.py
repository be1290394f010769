"""``ncm lint``: findings about what a migration will do to a live database, read from its
operations (Alembic's ``op`` calls, the MongoDB context's calls), never from regexes on SQL.

A backend captures a migration's operations without touching the database
(:class:`~ncm_core.capabilities.SupportsLint`) as :class:`~ncm_core.lint.operations.Operation`
records; rules (``ncm_register_lint_rules``) turn them into findings with stable codes.
"""
