"""The data template, filled in, over 200,000 documents: batches by _id, bulk_write, flat memory."""

import resource
import time
import tracemalloc

import pytest
from pymongo import MongoClient

DOCUMENTS = 200_000


def fill_users(url):
    with MongoClient(url) as client:
        users = client.get_default_database().users
        for start in range(0, DOCUMENTS, 20_000):
            users.insert_many([{"_id": i, "email": f"User{i}@Example.COM", "bio": "x" * 200}
                               for i in range(start, start + 20_000)], ordered=False)


def fill_in(source, old, new):
    assert old in source, f"the data template no longer has {old!r}"
    return source.replace(old, new, 1)


async def write_lowercase_emails(runner):
    """`ncm create --type data`: its example is this migration; the batch size made smaller."""
    version = await runner.create_migration("lowercase emails", "data")
    path = runner.config.migration_directory / f"{version}.py"
    source = fill_in(path.read_text(), "BATCH_SIZE = 10_000", "BATCH_SIZE = 1000")
    path.write_text(source)


@pytest.mark.slow
async def test_data_migration_over_200k_documents_keeps_memory_flat(mongo_url, runner_factory):
    fill_users(mongo_url)
    async with runner_factory(mongo_url) as runner:
        await write_lowercase_emails(runner)
        tracemalloc.start()
        started = time.perf_counter()
        (result,) = await runner.run_migrations()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert result["status"] == "applied", result
        assert await runner.db.db.users.count_documents({"email_lower": {"$exists": True}}) == DOCUMENTS
        assert await runner.db.db.users.find_one({"_id": 199_999}, {"email_lower": 1}) == {
            "_id": 199_999, "email_lower": "user199999@example.com"}
    print(f"\n{DOCUMENTS} documents (about {DOCUMENTS * 260 / 2**20:.0f} MB) migrated in {elapsed:.1f} s "
          f"(batches of 1000, under tracemalloc); peak Python allocations {peak / 2**20:.1f} MB; "
          f"test process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    assert peak < 16 * 2**20, "memory grew with the collection instead of staying at one batch"
