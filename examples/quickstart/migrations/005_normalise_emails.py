"""Store every email in lower case."""
type = "data"
depends_on = ["004_index_users_email"]

BATCH_SIZE = 500


async def upgrade(ctx) -> None:
    total = (await ctx.execute("SELECT COUNT(*) FROM users")).scalar_one()
    with ctx.progress(total, "users") as progress:
        async for rows in ctx.batches("users", ["id", "email"], key="id", size=BATCH_SIZE):
            changed = [{"id": r.id, "email": r.email.lower()} for r in rows if r.email != r.email.lower()]
            if changed:
                await ctx.execute("UPDATE users SET email = :email WHERE id = :id", changed)
            progress.advance(len(rows))


async def validate(ctx) -> bool:
    return (await ctx.execute("SELECT COUNT(*) FROM users WHERE email <> LOWER(email)")).scalar_one() == 0


async def downgrade(ctx) -> None:
    """Lower-casing cannot be undone exactly; the old spellings are not kept."""
