"""Index users by email."""
from ncm_core import AbstractMigration, MigrationType


class IndexUsersEmail(AbstractMigration):
    type = MigrationType.INDEX
    depends_on = ["001_create_users"]

    async def up(self, session):
        await session.execute("CREATE INDEX idx_users_email ON users(email)")

    async def down(self, session):
        await session.execute("DROP INDEX idx_users_email")

    async def validate(self, session):
        result = await session.execute("SELECT COUNT(*) FROM users")
        return result.scalar() >= 0
