"""Create the users table."""
import sqlalchemy as sa
from alembic import op

type = "schema"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()),
    )
    op.bulk_insert(
        sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String), sa.column("email", sa.String)),
        [
            {"id": 1, "username": "ada", "email": "Ada@Example.org"},
            {"id": 2, "username": "grace", "email": "GRACE@example.org"},
        ],
    )


def downgrade() -> None:
    op.drop_table("users")
