"""deploy/: every Kubernetes manifest, and the Helm chart's rendered output, validates against
Kubernetes' strict JSON schemas (vendored in tests/fixtures/kubernetes, source named in its
README), runs as uid 10001 without root, and gives ncm commands that exist."""

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).parents[2]
SCHEMAS = ROOT / "tests" / "fixtures" / "kubernetes"
CHART = ROOT / "deploy" / "helm" / "ncm-migration"
FILES = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml")) + sorted((CHART / "rendered").glob("*.yaml"))
SCHEMA_FILES = {("batch/v1", "Job"): "job-batch-v1", ("v1", "ServiceAccount"): "serviceaccount-v1",
                ("v1", "Secret"): "secret-v1", ("v1", "ConfigMap"): "configmap-v1",
                ("apps/v1", "Deployment"): "deployment-apps-v1",
                ("v1", "PersistentVolumeClaim"): "persistentvolumeclaim-v1"}


def documents(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def all_documents():
    return [(f"{path.relative_to(ROOT)}#{d['kind']}", d) for path in FILES for d in documents(path)]


def pod_specs(doc):
    if doc["kind"] in ("Job", "Deployment"):
        yield doc["spec"]["template"]["spec"]


def containers(doc):
    for spec in pod_specs(doc):
        yield from spec.get("initContainers", []) + spec["containers"]


@pytest.mark.parametrize(("where", "doc"), all_documents(), ids=[w for w, _ in all_documents()])
def test_each_manifest_is_valid_for_kubernetes(where, doc):
    schema = json.loads((SCHEMAS / f"{SCHEMA_FILES[(doc['apiVersion'], doc['kind'])]}.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)


def test_the_schemas_reject_an_unknown_field():
    job = next(d for _, d in all_documents() if d["kind"] == "Job")
    broken = {**job, "spec": {**job["spec"], "backofLimit": 3}}
    schema = json.loads((SCHEMAS / "job-batch-v1.json").read_text())
    with pytest.raises(jsonschema.ValidationError, match="backofLimit"):
        jsonschema.Draft202012Validator(schema).validate(broken)


@pytest.mark.parametrize(("where", "doc"), [(w, d) for w, d in all_documents() if d["kind"] in ("Job", "Deployment")])
def test_every_pod_runs_as_uid_10001_without_root(where, doc):
    for spec in pod_specs(doc):
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 10001


@pytest.mark.parametrize(("where", "doc"), [(w, d) for w, d in all_documents() if d["kind"] in ("Job", "Deployment")])
def test_every_container_has_resource_limits(where, doc):
    assert all(c["resources"]["limits"]["memory"] for c in containers(doc))


@pytest.mark.parametrize(("where", "doc"), [(w, d) for w, d in all_documents() if d["kind"] == "Job"])
def test_every_job_is_bounded_in_retries_and_time(where, doc):
    spec = doc["spec"]
    assert ("backoffLimit" in spec or "backoffLimitPerIndex" in spec) and spec["activeDeadlineSeconds"] > 0


def test_the_indexed_jobs_shard_count_is_its_completions():
    job = next(d for d in documents(ROOT / "deploy/kubernetes/indexed-job.yaml") if d["kind"] == "Job")
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert job["spec"]["completionMode"] == "Indexed" and int(env["NCM_SHARD_COUNT"]) == job["spec"]["completions"]


def test_the_indexed_jobs_targets_file_is_valid():
    from ncm_core.fleet.targets import parse_targets

    config = next(d for d in documents(ROOT / "deploy/kubernetes/indexed-job.yaml") if d["kind"] == "ConfigMap")
    found = parse_targets(tomllib.loads(config["data"]["ncm.toml"])["targets"], "indexed-job.yaml")
    assert [s.name for s in found.specs] == ["tenants"]


def test_the_init_container_waits_for_head():
    deployment = documents(ROOT / "deploy/kubernetes/init-container.yaml")[0]
    (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
    assert init["args"][:2] == ["wait", "--at-head"]


@pytest.mark.parametrize(("where", "doc"), [(w, d) for w, d in all_documents() if d["kind"] in ("Job", "Deployment")])
def test_every_ncm_command_in_the_manifests_parses(where, doc):
    from ncm_core.cli import app

    for container in containers(doc):
        if "migrations" in container["image"]:
            args = [re.sub(r"\$\((\w+)\)", "x", a) for a in container["args"]]
            command, _, _ = app.parse_args(args)
            assert command.__name__ == args[0]


def test_the_chart_is_a_helm_hook_before_install_and_upgrade():
    job = next(d for d in documents(CHART / "rendered/hooks.yaml") if d["kind"] == "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"


def test_the_jobs_secret_and_account_are_hooks_that_come_first():
    docs = documents(CHART / "rendered/hooks.yaml")
    weights = {d["kind"]: int(d["metadata"]["annotations"]["helm.sh/hook-weight"]) for d in docs}
    assert weights["Secret"] < weights["Job"] and weights["ServiceAccount"] < weights["Job"]


def test_with_argocd_the_chart_is_a_presync_hook_in_an_earlier_wave():
    docs = documents(CHART / "rendered/argocd-fleet.yaml")
    job = next(d for d in docs if d["kind"] == "Job")
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    assert int(job["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) < 0


def test_each_rendered_kind_comes_from_a_template():
    templated = {m for t in (CHART / "templates").glob("*.yaml") for m in re.findall(r"^kind: (\w+)", t.read_text(), re.M)}
    rendered = {d["kind"] for path in (CHART / "rendered").glob("*.yaml") for d in documents(path)}
    assert rendered <= templated


def test_every_value_is_used_by_a_template():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    text = "".join(t.read_text() for t in (CHART / "templates").iterdir())
    leaves = []
    for key, value in values.items():
        nested = isinstance(value, dict) and key != "resources"
        leaves += [f"{key}.{sub}" for sub in value] if nested else [key]
    assert [leaf for leaf in leaves if f".Values.{leaf}" not in text] == []


def test_the_docs_quote_the_manifests_as_they_are():
    blocks = re.findall(r"```yaml\n(.*?)\n```", (ROOT / "docs/kubernetes.md").read_text(), re.S)
    files = [p.read_text() for p in (ROOT / "deploy").rglob("*.yaml")]
    assert blocks and [b for b in blocks if not any(b in text for text in files)] == []
