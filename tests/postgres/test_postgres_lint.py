"""``ncm lint`` on PostgreSQL: the shared rules and the LK locking rules, against a fresh
database whose tables make "existing" what it is."""

import lint_cases as cases
import pytest

CASES = cases.SHARED + cases.SQL_NOT_MYSQL + cases.POSTGRES
IDS = [f"{c.code}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_the_rule_flags_its_failing_example(case, database_url, migrations_dir):
    await cases.check_failing(database_url, migrations_dir, case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_the_rule_passes_its_passing_example(case, database_url, migrations_dir):
    await cases.check_passing(database_url, migrations_dir, case)


async def test_lk109_is_reported_once_per_migration(database_url, migrations_dir):
    case = cases.Case("LK109", 'op.add_column("users", sa.Column("a", sa.Integer))\n'
                      'op.add_column("users", sa.Column("b", sa.Integer))', "")
    await cases.apply_existing(database_url, migrations_dir, case)
    cases.write(migrations_dir, "002_case", case, case.failing)
    found = await cases.lint(database_url, migrations_dir, sql={"ddl_lock_timeout": 0})
    assert [f.code for f in found].count("LK109") == 1


async def test_lk109_is_not_reported_where_ncm_sets_the_lock_timeout_itself(database_url, migrations_dir):
    case = cases.POSTGRES[[c.code for c in cases.POSTGRES].index("LK109")]
    await cases.apply_existing(database_url, migrations_dir, case)
    cases.write(migrations_dir, "002_case", case, case.failing)
    assert "LK109" not in [f.code for f in await cases.lint(database_url, migrations_dir)]
