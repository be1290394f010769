"""A migration whose one statement is a line longer than any terminal: for the tests that
pipe ncm's output into a database's client."""

LITERAL = "x" * 150 + " it''s quoted " + "y" * 150
NOTES = f'''"""Notes."""
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text))
    op.execute("INSERT INTO notes (id, body) VALUES (1, '{LITERAL}')")


def downgrade():
    op.drop_table("notes")
'''
