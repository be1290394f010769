"""Seed the initial roles."""
type = "seed"
depends_on = ["002_create_roles"]

TABLE = "roles"
KEY = "name"
ROWS = [
    {"name": "admin", "description": "Full access"},
    {"name": "member", "description": "Ordinary user"},
]


async def upgrade(ctx) -> None:
    for row in ROWS:
        exists = await ctx.execute(f"SELECT 1 FROM {TABLE} WHERE {KEY} = :key", {"key": row[KEY]})
        if exists.first() is None:
            await ctx.execute(f"INSERT INTO {TABLE} (name, description) VALUES (:name, :description)", row)


async def validate(ctx) -> bool:
    count = await ctx.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE {KEY} IN ('admin', 'member')")
    return count.scalar_one() == len(ROWS)


async def downgrade(ctx) -> None:
    for row in ROWS:
        await ctx.execute(f"DELETE FROM {TABLE} WHERE {KEY} = :key", {"key": row[KEY]})
