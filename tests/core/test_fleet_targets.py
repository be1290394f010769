"""The targets table, selectors, shards and the failure budget: pure logic."""

import re

import pytest

from ncm_core.errors import UsageError
from ncm_core.fleet.targets import (
    Target,
    canary_first,
    expand,
    failure_budget,
    parse_targets,
    select,
    shard,
    shard_of,
)

TABLE = {
    "groups": {"eu": ["eu-1", "eu-2"], "canary": ["eu-2"]},
    "eu-1": {"url": "postgresql+asyncpg://app:${EU_PW}@eu1/app", "environment": "production"},
    "eu-2": {"url": "postgresql+asyncpg://app@eu2/app"},
    "us": {"url": "mysql+aiomysql://root@us/app", "groups": ["americas"]},
    "tenants": {"url": "postgresql+asyncpg://app@db/app", "schema": "t_{tenant}", "tenants": ["acme", "globex"]},
}


def targets_of(table=TABLE):
    found = parse_targets(table, "ncm.toml [targets]")
    return found, [t for spec in found.specs for t in expand(spec)]


def names(targets):
    return [t.name for t in targets]


def test_a_tenant_template_becomes_one_target_per_tenant():
    _, targets = targets_of()
    assert names(targets) == ["eu-1", "eu-2", "us", "tenants/acme", "tenants/globex"]


def test_all_selects_every_target():
    found, targets = targets_of()
    assert names(select(targets, found.groups, "all")) == names(targets)


def test_a_group_of_the_groups_table_selects_its_members():
    found, targets = targets_of()
    assert names(select(targets, found.groups, "eu")) == ["eu-1", "eu-2"]


def test_a_targets_own_groups_select_it():
    found, targets = targets_of()
    assert names(select(targets, found.groups, "americas")) == ["us"]


def test_a_template_name_selects_its_tenants():
    found, targets = targets_of()
    assert names(select(targets, found.groups, "tenants,us")) == ["us", "tenants/acme", "tenants/globex"]


def test_an_unknown_selector_names_the_known_groups():
    found, targets = targets_of()
    with pytest.raises(UsageError, match=r"'nope' is neither a group \(all, americas, canary, eu, tenants\)"):
        select(targets, found.groups, "nope")


def test_the_url_reads_variables_from_the_environment():
    _, targets = targets_of()
    assert targets[0].url({"EU_PW": "s3cret"}) == "postgresql+asyncpg://app:s3cret@eu1/app"


def test_an_unset_variable_is_named_not_its_value():
    _, targets = targets_of()
    with pytest.raises(UsageError, match=r"target eu-1: environment variable EU_PW is not set"):
        targets[0].url({})


def test_the_tenant_fills_the_schema_of_the_postgres_section():
    _, targets = targets_of()
    assert targets[3].config_overrides({}) == {"database_url": "postgresql+asyncpg://app@db/app",
                                               "postgresql": {"schema": "t_acme"}}


def test_a_schema_on_a_database_without_schemas_is_refused():
    target = Target("m", "mysql+aiomysql://root@h/app", (("schema", "x"),))
    with pytest.raises(UsageError, match="target m: schema is set but a mysql database has no schemas"):
        target.config_overrides({})


def test_overrides_reach_the_configuration():
    _, targets = targets_of()
    assert targets[0].config_overrides({"EU_PW": "pw"})["environment"] == "production"


def test_canary_takes_the_canary_group_first():
    found, targets = targets_of()
    assert names(canary_first(targets, found.groups, 5)) == ["eu-2"]


def test_canary_without_a_canary_group_takes_the_first_targets():
    found, targets = targets_of({k: v for k, v in TABLE.items() if k != "groups"})
    assert names(canary_first(targets, found.groups, 2)) == ["eu-1", "eu-2"]


def many(count):
    return [Target(f"t{i:04d}", "sqlite+aiosqlite:///x.db") for i in range(count)]


@pytest.mark.parametrize("count", [1, 3, 4, 7])
def test_shards_partition_the_targets(count):
    targets = many(200)
    slices = [shard(targets, index, count) for index in range(count)]
    assert sorted(name for part in slices for name in names(part)) == names(targets)


def test_a_shard_keeps_its_targets_when_another_target_is_added():
    before = names(shard(many(100), 1, 4))
    after = names(shard(many(101), 1, 4))
    assert set(before) <= set(after)


def test_the_shard_comes_from_an_indexed_jobs_environment():
    assert shard_of(None, {"JOB_COMPLETION_INDEX": "2", "NCM_SHARD_COUNT": "4"}) == (2, 4)


def test_no_shard_without_option_or_index():
    assert shard_of(None, {}) is None


def test_an_index_without_a_count_is_refused():
    with pytest.raises(UsageError, match="JOB_COMPLETION_INDEX is set .* but NCM_SHARD_COUNT is not"):
        shard_of(None, {"JOB_COMPLETION_INDEX": "0"})


@pytest.mark.parametrize("text", ["4/4", "1", "a/b", "-1/3", "0/0"])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(UsageError, match=r"--shard .*expected INDEX/COUNT"):
        shard_of(text, {})


@pytest.mark.parametrize(("text", "total", "continue_on_error", "budget"), [
    (None, 100, False, 1), (None, 100, True, None), ("3", 100, False, 3), ("5%", 200, False, 10),
    ("5%", 10, False, 1), ("2.5%", 1000, False, 25)])
def test_the_failure_budget(text, total, continue_on_error, budget):
    assert failure_budget(text, total, continue_on_error) == budget


@pytest.mark.parametrize("text", ["x", "0", "1.5", "-2"])
def test_a_bad_failure_budget_is_refused(text):
    with pytest.raises(UsageError, match="--max-failures .*expected a number of targets"):
        failure_budget(text, 10, False)


@pytest.mark.parametrize(("table", "message"), [
    ({}, "no targets defined"),
    ({"a": "sqlite:///x"}, "target a: expected a table with a url"),
    ({"a": {"url": "nowhere"}}, "target a: url must be a database URL"),
    ({"a": {"url": "sqlite:///x", "colour": "red"}}, "target a: unknown key 'colour'"),
    ({"a": {"url": "sqlite:///{tenant}.db"}}, "target a: holds {tenant} but lists no tenants"),
    ({"a": {"url": "sqlite:///x.db", "tenants": ["b"]}}, "target a: has tenants but neither its url"),
    ({"a": {"url": "sqlite:///{tenant}.db", "tenants": ["b; DROP"]}}, "tenant 'b; DROP' is not a plain name"),
    ({"a": {"url": "sqlite:///{tenant}.db", "tenants": ["b", "b"]}}, "tenant 'b' is listed twice"),
    ({"a": {"url": "sqlite:///{tenant}.db", "tenants_query": "SELECT 1"}}, "tenants_query and tenants_database go"),
    ({"a": {"url": "sqlite:///{tenant}.db", "tenants": [], "tenants_command": "ls"}}, "give one of"),
    ({"a": {"url": "sqlite:///x"}, "groups": {"eu": ["b"]}}, "group eu names 'b', which is not a target"),
    ({"a": {"url": "sqlite:///x"}, "groups": {"all": ["a"]}}, "group 'all' is every target"),
    ({"all": {"url": "sqlite:///x"}}, "a target name is letters"),
])
def test_a_bad_targets_table_is_one_line_naming_the_key(table, message):
    with pytest.raises(UsageError, match=r"^ncm.toml \[targets\]: .*" + re.escape(message)):
        parse_targets(table, "ncm.toml [targets]")
