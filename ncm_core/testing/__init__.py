"""What plugin authors reuse: pytest fixtures and the backend contract suite.

In a plugin's conftest.py: ``pytest_plugins = ["ncm_core.testing.fixtures"]``; then
subclass :class:`ncm_core.testing.contract.BackendContract` (or a family's subclass such as
``ncm_sql.testing.SQLContract``) and provide a ``database_url`` fixture.
"""

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_url(env_var: str) -> str:
    """The URL of a test server from ``env_var``: skipped outside CI when unset, failing in CI."""
    url = os.environ.get(env_var)
    if url:
        return url
    if in_ci():
        pytest.fail(f"{env_var} is not set: in CI every backend's tests must run against its server")
    pytest.skip(f"set {env_var} to run these tests against a real server")
