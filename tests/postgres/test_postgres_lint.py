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
