"""Create roles and the users' role column."""
import sqlalchemy as sa
from alembic import op

type = "schema"
depends_on = ["001_create_users"]


def upgrade() -> None:
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False, unique=True),
        sa.Column("description", sa.String(255)),
    )
    with op.batch_alter_table("users") as batch:  # SQLite cannot ALTER constraints in place
        batch.add_column(sa.Column("role_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_users_role", "roles", ["role_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_role", type_="foreignkey")
        batch.drop_column("role_id")
    op.drop_table("roles")
