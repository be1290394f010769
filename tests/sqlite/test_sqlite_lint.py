"""``ncm lint``'s shared rules on SQLite, against a real database file."""

import lint_cases as cases
import pytest

CASES = cases.SHARED + cases.SQL_NOT_MYSQL
IDS = [f"{c.code}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_the_rule_flags_its_failing_example(case, url, migrations_dir):
    await cases.check_failing(url, migrations_dir, case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_the_rule_passes_its_passing_example(case, url, migrations_dir):
    await cases.check_passing(url, migrations_dir, case)
