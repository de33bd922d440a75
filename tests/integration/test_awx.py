# -*- coding: utf-8 -*-
"""The AWX configuration against a real AWX 24.6.1 (tests/testbed/awx) and workflows run against the lab.

Run with `make awx`. The project AWX syncs is a git snapshot of this checkout; the dev and prod environments of the
configuration use inventories/local. Two groups:
- the configuration tests need AWX only (`make awx-up` starts it; no lab lock): applied twice, a refused credential,
  the credentials' environment in a job. Their Kubernetes credential points at a placeholder cluster;
- the tests named test_lab_* run workflows whose jobs deploy to the testbed: they hold the lab (take the lab lock).
  They apply the configuration first if this AWX has none yet (before the testbed starts), then point the Kubernetes
  credential at the running testbed (a new CA and token each start), as a secret rotation would: through the API,
  in about a second (the role takes 2 to 3 minutes under load, too long for a lab hold).
`pytest -k "not lab"` and `pytest -k lab` run one group; AWX started before (`make awx-up`) keeps what they applied.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import time

import pytest
import requests
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AWX_SH = os.path.join(REPO, "tests", "testbed", "awx", "awx.sh")
CONFIGURE = os.path.join(os.path.dirname(__file__), "awx", "configure.yml")
URL = "http://127.0.0.1:%s" % os.environ.get("AWX_PORT", "18052")
AUTH = ("admin", os.environ.get("AWX_ADMIN_PASSWORD", "aibang-lab-admin"))
FINISHED = ("successful", "failed", "error", "canceled")


class Awx:
    def __init__(self):
        self.session = requests.Session()
        self.session.auth = AUTH

    def get(self, path, **params):
        response = self.session.get(URL + "/api/v2/" + path, params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path, body=None):
        response = self.session.post(URL + "/api/v2/" + path, json=body or {}, timeout=30)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json() if response.text else {}

    def patch(self, path, body):
        response = self.session.patch(URL + "/api/v2/" + path, json=body, timeout=30)
        assert response.status_code < 300, (path, response.status_code, response.text)

    def one(self, kind, name):
        results = self.get(kind + "/", name=name)["results"]
        assert len(results) == 1, (kind, name, results)
        return results[0]

    def wait(self, path, done, timeout, what):
        """Poll an object until done(obj) holds; fail naming what was awaited and the last state."""
        deadline = time.monotonic() + timeout
        while True:
            obj = self.get(path)
            if done(obj):
                return obj
            assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}: {obj.get('status')}"
            time.sleep(1)

    def wait_finished(self, path, timeout=900):
        return self.wait(path, lambda obj: obj["status"] in FINISHED, timeout, path + " to finish")

    def nodes(self, workflow_job_id):
        """identifier -> (job status or None, job id) of a workflow job's nodes."""
        nodes = self.get(f"workflow_jobs/{workflow_job_id}/workflow_nodes/", page_size=50)["results"]
        return {node["identifier"]: ((node["summary_fields"].get("job") or {}).get("status"),
                                     (node["summary_fields"].get("job") or {}).get("id")) for node in nodes}

    def update(self, kind, obj_ids, field):
        """Update projects or inventory sources (all at once) and wait for every update to succeed."""
        paths = [f"{field}s/{self.post(f'{kind}/{obj_id}/update/')[field]}/" for obj_id in obj_ids]
        for path in paths:
            finished = self.wait_finished(path, timeout=300)
            assert finished["status"] == "successful", (path, finished["status"], finished.get("result_traceback"))

    def cancel_unfinished(self):
        """Cancel the jobs and workflow jobs still pending or running (before the testbed they run against stops)."""
        for job in self.get("unified_jobs/", status__in="pending,waiting,running", page_size=100)["results"]:
            self.session.post(URL + job["url"] + "cancel/", timeout=30)

    def stdout(self, job_id):
        """The job's output, once AWX has stored all its events (they arrive after the job's status says finished)."""
        self.wait(f"jobs/{job_id}/", lambda job: job["event_processing_finished"], 120, f"job {job_id}'s events")
        response = self.session.get(f"{URL}/api/v2/jobs/{job_id}/stdout/", params={"format": "txt"}, timeout=30)
        response.raise_for_status()
        return response.text


@pytest.fixture(scope="module")
def awx():
    started_here = subprocess.run([AWX_SH, "status"], capture_output=True, check=False).returncode != 0
    if started_here:
        subprocess.run([AWX_SH, "up"], check=True)
    yield Awx()
    if started_here:
        subprocess.run([AWX_SH, "down"], check=True)


@pytest.fixture(scope="module")
def project_repo(awx):
    """A git repository holding this checkout's files (committed or not), for AWX to sync over file://.

    It lives as long as the lab's AWX (in its state directory) and each session commits on top of the last one:
    AWX's clone of the project only fetches fast-forwards (an unrelated history is rejected as non-fast-forward).
    """
    repo = os.path.join(os.environ.get("AWX_STATE_DIR", "/run/aibang-awx"), "project-snapshot", "gke_platform")
    git = ["git", "-C", repo, "-c", "user.name=lab", "-c", "user.email=lab@example.invalid"]
    if not os.path.isdir(os.path.join(repo, ".git")):
        os.makedirs(repo)
        subprocess.run(git[:3] + ["init", "-q", "-b", "main"], check=True)
    subprocess.run(git[:3] + ["rm", "-rq", "--ignore-unmatch", "."], check=True)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if os.path.isfile(os.path.join(REPO, name)):
            os.makedirs(os.path.dirname(os.path.join(repo, name)), exist_ok=True)
            shutil.copy2(os.path.join(REPO, name), os.path.join(repo, name))
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "snapshot"], check=True)
    return repo


# The configuration tests' cluster: AWX stores and injects these, nothing connects to it.
PLACEHOLDER_CLUSTER = {"host": "https://127.0.0.1:6443", "bearer_token": "placeholder-token",
                       "ca": "-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n"}


@pytest.fixture(scope="module")
def testbed_cluster(testbed):
    """A bearer token for the testbed's API server (a service account bound to cluster-admin) and its CA."""
    testbed.kubectl("-n", "kube-system", "create", "serviceaccount", "awx-lab", check=False)
    testbed.kubectl("create", "clusterrolebinding", "awx-lab", "--clusterrole=cluster-admin",
                    "--serviceaccount=kube-system:awx-lab", check=False)
    token = testbed.kubectl("-n", "kube-system", "create", "token", "awx-lab", "--duration=2h").stdout.strip()
    config = json.loads(testbed.kubectl("config", "view", "--raw", "-o", "json").stdout)
    cluster_entry = config["clusters"][0]["cluster"]
    if "certificate-authority-data" in cluster_entry:
        ca = base64.b64decode(cluster_entry["certificate-authority-data"]).decode()
    else:  # the testbed's kubeconfig names the CA's file
        with open(cluster_entry["certificate-authority"], encoding="utf-8") as ca_file:
            ca = ca_file.read()
    return {"host": cluster_entry["server"], "bearer_token": token, "ca": ca}


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def service_account_key():
    """A real (throwaway) RSA key in PKCS#8, as a service account's JSON key holds: AWX parses it."""
    return subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                          check=True, capture_output=True, text=True).stdout


def lab_config(project_repo, cluster, **overrides):
    """The configuration the tests apply: dev (no approval) and prod (approval required), both on the lab.

    Their job templates get the Kubernetes credential only: the lab's inventory reaches the GCP fake with a
    placeholder access token (gcp_auth), and the role refuses a GCE credential next to it (google.cloud's modules
    refuse the credential's service-account file next to any other auth_kind: the first lab hold's deploy job 41).
    The GCE credential is created for the credential test, which attaches it to a job template of its own."""
    config = {
        "awx_config_controller_host": URL,
        "awx_config_controller_username": AUTH[0],
        "awx_config_controller_password": AUTH[1],
        "awx_config_validate_certs": False,
        "awx_config_project_dir": REPO,
        "awx_config_project": {"name": "aibang-gke-platform", "scm_type": "git",
                               "scm_url": "file://" + str(project_repo), "scm_branch": "main"},
        "awx_config_environments": [
            {"name": "dev", "inventory": "inventories/local", "approval": "none", "credentials": ["lab-k8s"]},
            {"name": "prod", "inventory": "inventories/local", "approval": "required", "approval_timeout": 600,
             "credentials": ["lab-k8s"]},
        ],
        "awx_config_credentials": [
            {"name": "lab-gcp", "type": "gce",
             "inputs": {"username": "deployer@aibang-local-consumer.iam.gserviceaccount.com",
                        "project": "aibang-local-consumer",
                        "ssh_key_data": service_account_key()}},
            {"name": "lab-k8s", "type": "kubernetes_bearer_token",
             "inputs": {"host": cluster["host"], "bearer_token": cluster["bearer_token"], "verify_ssl": True,
                        "ssl_ca_cert": cluster["ca"]}},
        ],
    }
    config.update(overrides)
    return config


def configure(tmp_path, config, name="vars.json"):
    """Apply the configuration with the role; returns (exit code, output, changed count of the recap)."""
    path = tmp_path / name
    path.write_text(json.dumps(config))
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
           "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections")}
    done = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), CONFIGURE, "-e", "@" + str(path)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    recap = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", done.stdout)
    return done.returncode, done.stdout + done.stderr, int(recap.group(1)) if recap else None


@pytest.fixture(scope="module")
def configured(awx, project_repo, tmp_path_factory):
    """The configuration applied twice; the first run writes the secrets (an earlier lab run may have others)."""
    tmp = tmp_path_factory.mktemp("awx-config")
    first = configure(tmp, lab_config(project_repo, PLACEHOLDER_CLUSTER, awx_config_update_secrets=True))
    assert first[0] == 0, first[1][-4000:]
    second = configure(tmp, lab_config(project_repo, PLACEHOLDER_CLUSTER))
    return first, second


@pytest.fixture(scope="module")
def applied(awx, project_repo, tmp_path_factory):
    """The configuration, applied once here unless this AWX has it already (an earlier group applied it)."""
    if not awx.get("workflow_job_templates/", name="aibang-dev-deploy-workflow")["count"]:
        code, output, _changed = configure(tmp_path_factory.mktemp("awx-lab-config"),
                                           lab_config(project_repo, PLACEHOLDER_CLUSTER, awx_config_update_secrets=True))
        assert code == 0, output[-4000:]


# Seconds the lab group's jobs reuse the project sync and inventory updates its fixture runs.
LAB_CACHE_TIMEOUT = 3600


@pytest.fixture(scope="module")
def lab(awx, applied, testbed_cluster):
    """AWX pointed at the running testbed, for the workflows' jobs:
    - the configuration's Kubernetes credential: the testbed's new CA and a service-account token;
    - no kubeconfig: inventories/local names the testbed's for the playbooks run by hand (k8s_kubeconfig); the
      workflows here give k8s_kubeconfig='' so their jobs, as in a real environment, have the credential's
      K8S_AUTH_* and nothing else to reach the cluster with;
    - the project and the inventories synced once here, then reused by the jobs (cache timeouts), rather than before
      each of the group's eight jobs (about 20 s each: a third of the hold)."""
    credential = awx.one("credentials", "lab-k8s")
    awx.patch(f"credentials/{credential['id']}/", {"inputs": {
        "host": testbed_cluster["host"], "bearer_token": testbed_cluster["bearer_token"], "verify_ssl": True,
        "ssl_ca_cert": testbed_cluster["ca"]}})
    workflows = [awx.one("workflow_job_templates", f"aibang-{env}-deploy-workflow") for env in ("dev", "prod")]
    project = awx.one("projects", "aibang-gke-platform")
    sources = awx.get("inventory_sources/", source_project=project["id"], page_size=50)["results"]
    for workflow in workflows:
        awx.patch(f"workflow_job_templates/{workflow['id']}/", {"extra_vars": json.dumps({"k8s_kubeconfig": ""})})
    awx.patch(f"projects/{project['id']}/", {"scm_update_cache_timeout": LAB_CACHE_TIMEOUT})
    awx.update("projects", [project["id"]], "project_update")
    for source in sources:
        awx.patch(f"inventory_sources/{source['id']}/", {"update_cache_timeout": LAB_CACHE_TIMEOUT})
    awx.update("inventory_sources", [source["id"] for source in sources], "inventory_update")
    yield awx
    awx.cancel_unfinished()
    for workflow in workflows:
        awx.patch(f"workflow_job_templates/{workflow['id']}/", {"extra_vars": workflow["extra_vars"]})
    awx.patch(f"projects/{project['id']}/", {"scm_update_cache_timeout": project["scm_update_cache_timeout"]})
    for source in sources:
        awx.patch(f"inventory_sources/{source['id']}/", {"update_cache_timeout": source["update_cache_timeout"]})


def test_the_configuration_applies_and_a_second_run_changes_nothing(configured, awx):
    first, second = configured
    assert first[2] > 0
    assert second[0] == 0, second[1][-4000:]
    assert second[2] == 0, second[1][-6000:]
    print(f"first run changed={first[2]}, second run changed={second[2]}")
    nodes = awx.get("workflow_job_template_nodes/", workflow_job_template__name="aibang-prod-deploy-workflow")
    assert sorted(node["identifier"] for node in nodes["results"]) == ["approval", "deploy", "rollback", "verify"]


def with_k8s_credential_without_ca(config):
    config["awx_config_credentials"].append({"name": "lab-k8s-no-ca", "type": "kubernetes_bearer_token",
                                             "inputs": {"host": PLACEHOLDER_CLUSTER["host"], "bearer_token": "x",
                                                        "verify_ssl": True}})


def with_environment_without_inventory(config):
    config["awx_config_environments"].append({"name": "qa", "inventory": "inventories/qa", "approval": "none"})


def with_survey_variable_verify_does_not_use(config):
    with open(os.path.join(REPO, "roles", "awx_config", "defaults", "main.yml"), encoding="utf-8") as defaults:
        catalogue = yaml.safe_load(defaults)["awx_config_job_templates"]
    catalogue["verify"]["survey"] = [{"variable": "platform_release", "question_name": "Release number"}]
    config["awx_config_job_templates"] = catalogue


def with_gce_credential_next_to_an_access_token(config):
    config["awx_config_environments"][0]["credentials"] = ["lab-gcp", "lab-k8s"]


def with_approval_timeout_zero(config):
    config["awx_config_environments"][1]["approval_timeout"] = 0


@pytest.mark.parametrize("change, message", [
    (with_k8s_credential_without_ca, "credentials[2].inputs.verify_ssl=True: credential lab-k8s-no-ca asks to verify "
                                     "TLS but gives no ssl_ca_cert"),
    (with_environment_without_inventory, "environments[2].inventory='inventories/qa'"),
    (with_survey_variable_verify_does_not_use, "job_templates.verify.survey[0].variable='platform_release': "
                                               "playbook playbooks/verify.yml does not use this variable"),
    (with_approval_timeout_zero, "environments[1].approval_timeout=0"),
    (with_gce_credential_next_to_an_access_token,
     "environments[0].credentials=['lab-gcp', 'lab-k8s']: GCE credential lab-gcp injects GCP_SERVICE_ACCOUNT_FILE "
     "while inventories/local/group_vars/control sets gcp_auth.auth_kind='accesstoken'"),
])
def test_bad_input_is_refused_before_anything_is_sent(configured, awx, project_repo, tmp_path, change, message):
    config = lab_config(project_repo, PLACEHOLDER_CLUSTER)
    change(config)
    activity_before = awx.get("activity_stream/", page_size=1)["count"]
    code, output, _changed = configure(tmp_path, config)
    assert code != 0
    assert message in output, output[-3000:]
    assert awx.get("activity_stream/", page_size=1)["count"] == activity_before


def launch_workflow(awx, name, release):
    workflow = awx.one("workflow_job_templates", name)
    return awx.post(f"workflow_job_templates/{workflow['id']}/launch/",
                    {"extra_vars": {"platform_release": release}})["workflow_job"]


def pending_approval(awx, workflow_job_id):
    """Wait until the workflow job's approval node waits for a decision; its workflow_approval id."""
    page = awx.wait(f"workflow_jobs/{workflow_job_id}/workflow_nodes/",
                    lambda page: any(node["identifier"] == "approval" and node["summary_fields"].get("job")
                                     and node["summary_fields"]["job"]["status"] == "pending"
                                     for node in page["results"]),
                    120, "the approval node to wait")
    return next(node["summary_fields"]["job"]["id"] for node in page["results"] if node["identifier"] == "approval")


def test_the_prod_workflow_waits_at_its_approval_and_a_denial_ends_it(configured, awx):
    job_id = launch_workflow(awx, "aibang-prod-deploy-workflow", "2026.11.9")
    approval_id = pending_approval(awx, job_id)
    assert awx.get(f"workflow_jobs/{job_id}/")["status"] == "running"
    assert awx.nodes(job_id)["deploy"] == (None, None), "deploy started before the approval"
    awx.post(f"workflow_approvals/{approval_id}/deny/")
    finished = awx.wait_finished(f"workflow_jobs/{job_id}/", timeout=300)
    nodes = awx.get(f"workflow_jobs/{job_id}/workflow_nodes/")["results"]
    print(f"prod workflow job {job_id}, approval {approval_id} denied: {finished['status']}")
    assert finished["status"] == "failed"
    assert {node["identifier"]: node["do_not_run"] for node in nodes} == {
        "approval": False, "deploy": True, "verify": True, "rollback": True}


def test_the_credentials_environment_reaches_the_playbooks(configured, awx):
    project = awx.one("projects", "aibang-gke-platform")
    inventory = awx.one("inventories", "aibang-dev-inventory")
    template = awx.post("job_templates/", {
        "name": "lab-env-check", "project": project["id"], "inventory": inventory["id"],
        "playbook": "tests/integration/awx/env_check.yml", "limit": "localhost"})
    try:
        for name in ("lab-gcp", "lab-k8s"):
            awx.post(f"job_templates/{template['id']}/credentials/", {"id": awx.one("credentials", name)["id"]})
        job_id = awx.post(f"job_templates/{template['id']}/launch/")["job"]
        finished = awx.wait_finished(f"jobs/{job_id}/", timeout=300)
        output = awx.stdout(job_id)
        print(f"env check job {job_id}: {finished['status']}")
        assert finished["status"] == "successful", output[-3000:]
        for line in ("GCP_AUTH_KIND=serviceaccount", "GCP_PROJECT=aibang-local-consumer",
                     "GCP_SERVICE_ACCOUNT_FILE client_email=deployer@aibang-local-consumer.iam.gserviceaccount.com",
                     "K8S_AUTH_HOST=" + PLACEHOLDER_CLUSTER["host"], "K8S_AUTH_VERIFY_SSL=True",
                     "K8S_AUTH_SSL_CA_CERT sha256=" + sha256(PLACEHOLDER_CLUSTER["ca"]),
                     "K8S_AUTH_API_KEY sha256=" + sha256(PLACEHOLDER_CLUSTER["bearer_token"]),
                     "precedence=all_plugins_play,groups_plugins_play,all_inventory,"):
            assert line in output, output[-3000:]
    finally:
        awx.session.delete(f"{URL}/api/v2/job_templates/{template['id']}/", timeout=30)


def summary(awx, job_id, finished):
    """One line for the report: the workflow job, its status and time, each node's job id, status and time."""
    nodes = awx.get(f"workflow_jobs/{job_id}/workflow_nodes/", page_size=50)["results"]
    parts = []
    for node in sorted(nodes, key=lambda node: node["id"]):
        job = node["summary_fields"].get("job") or {}
        parts.append(f"{node['identifier']}: " + (f"job {job['id']} {job['status']} {job.get('elapsed', 0):.0f}s"
                                                  if job else "not run"))
    return f"workflow job {job_id} {finished['status']} in {finished['elapsed']:.0f}s ({'; '.join(parts)})"


def test_lab_the_dev_workflow_deploys_and_verifies(lab, testbed_cluster):
    awx = lab
    job_id = launch_workflow(awx, "aibang-dev-deploy-workflow", "2026.11.1")
    finished = awx.wait_finished(f"workflow_jobs/{job_id}/")
    nodes = awx.nodes(job_id)
    print("dev workflow:", summary(awx, job_id, finished))
    assert finished["status"] == "successful", (nodes, [output_tail(awx, job) for status, job in nodes.values()
                                                        if status == "failed" and job])
    assert nodes["deploy"][0] == "successful" and nodes["verify"][0] == "successful"
    assert nodes["rollback"][0] is None
    assert "2026.11.1-" in awx.stdout(nodes["deploy"][1])
    # The lab's own requests (inventories/local group_vars/control), not the ones derived from the policy
    # (playbooks/group_vars/all): the project's ansible.cfg ranks the playbooks' group_vars lowest in AWX too.
    assert "loopback.microsoft.com:443" in awx.stdout(nodes["verify"][1])
    for node in ("deploy", "verify"):
        job = awx.get(f"jobs/{nodes[node][1]}/")
        assert json.loads(job["extra_vars"])["k8s_kubeconfig"] == "", job["extra_vars"]
        assert job["job_env"]["K8S_AUTH_HOST"] == testbed_cluster["host"]
        assert [credential["name"] for credential in job["summary_fields"]["credentials"]] == ["lab-k8s"]


def test_lab_the_prod_workflow_waits_for_approval_then_runs(lab):
    awx = lab
    job_id = launch_workflow(awx, "aibang-prod-deploy-workflow", "2026.11.2")
    approval_id = pending_approval(awx, job_id)
    assert awx.get(f"workflow_jobs/{job_id}/")["status"] == "running"
    assert awx.nodes(job_id)["deploy"] == (None, None), "deploy started before the approval"
    awx.post(f"workflow_approvals/{approval_id}/approve/")
    finished = awx.wait_finished(f"workflow_jobs/{job_id}/")
    nodes = awx.nodes(job_id)
    print(f"prod workflow, approval {approval_id} approved through the API:", summary(awx, job_id, finished))
    assert finished["status"] == "successful", (nodes, [output_tail(awx, job) for status, job in nodes.values()
                                                        if status == "failed" and job])
    assert nodes["approval"][0] == "successful" and nodes["deploy"][0] == "successful"
    assert nodes["verify"][0] == "successful" and nodes["rollback"][0] is None


def policy_also_allowing(domain):
    with open(os.path.join(REPO, "inventories", "local", "group_vars", "all", "egress.yml"), encoding="utf-8") as egress:
        policy = yaml.safe_load(egress)["egress_policy"]
    return {**policy, "allowed_domains": [*policy["allowed_domains"], domain]}


def output_tail(awx, job_id, chars=3000):
    """The end of a job's output, from its last failure on when it has one: what a failed assertion shows."""
    output = awx.stdout(job_id)
    return ("fatal:" + output.rsplit("fatal:", 1)[-1] if "fatal:" in output else output)[-chars:]


def test_lab_a_failing_verify_runs_the_rollback(lab):
    """Release 2026.11.3 deploys (stage egress) a policy that also allows example.org, as an unreviewed change
    reaching deploy would. Deploy runs the stages and their gates, which judge each tier by the policy deploy was
    given, and pass; its own end-to-end verification is skipped (skip_tags verify: the first run of this test, job
    21, failed in deploy's bypass check, which must see example.org refused through the alias). The verify node
    judges the running chain by the inventory's policy, which denies example.org: tier 2 lets it through, verify
    fails, and the rollback node puts back both tiers' previous release."""
    awx = lab
    deploy = awx.one("job_templates", "aibang-dev-deploy")
    awx.patch(f"job_templates/{deploy['id']}/", {
        "job_tags": "egress", "skip_tags": "verify",
        "extra_vars": json.dumps({"egress_policy": policy_also_allowing("example.org")})})
    try:
        job_id = launch_workflow(awx, "aibang-dev-deploy-workflow", "2026.11.3")
        finished = awx.wait_finished(f"workflow_jobs/{job_id}/")
    finally:
        awx.patch(f"job_templates/{deploy['id']}/", {"job_tags": deploy["job_tags"], "skip_tags": deploy["skip_tags"],
                                                     "extra_vars": deploy["extra_vars"]})
    nodes = awx.nodes(job_id)
    print("dev workflow with a policy verify does not agree with:", summary(awx, job_id, finished))
    assert nodes["deploy"][0] == "successful", (nodes, output_tail(awx, nodes["deploy"][1]))
    assert nodes["verify"][0] == "failed", nodes
    verify_failure = output_tail(awx, nodes["verify"][1])
    assert "example.org" in verify_failure, verify_failure
    assert nodes["rollback"][0] == "successful", (nodes, output_tail(awx, nodes["rollback"][1]))
    rollback = awx.stdout(nodes["rollback"][1])
    rolled_back = re.search(r"Rolling back ([a-z_, ]+) \(changed by deploy run 2026\.11\.3-", rollback)
    assert rolled_back, rollback[-3000:]
    assert {"squid_vm", "squid_gke"} <= set(rolled_back.group(1).split(", ")), rolled_back.group(0)
    with open(os.path.join(os.environ.get("TESTBED_RUN_DIR", "/run/aibang-testbed"), "squid-vm.conf"), encoding="utf-8") as conf:
        assert "example.org" not in conf.read()


def test_lab_a_job_with_only_the_kubernetes_credential_reaches_the_cluster(lab, testbed_cluster):
    """The collection's own Kubernetes client (app_workload_apply) and kubernetes.core, from AWX, with the Kubernetes
    bearer-token credential alone and no kubeconfig anywhere: apply, re-apply unchanged, read, prune, delete."""
    awx = lab
    project = awx.one("projects", "aibang-gke-platform")
    inventory = awx.one("inventories", "aibang-dev-inventory")
    template = awx.post("job_templates/", {
        "name": "lab-k8s-token-check", "project": project["id"], "inventory": inventory["id"],
        "playbook": "tests/integration/awx/k8s_token_check.yml", "limit": "localhost"})
    try:
        awx.post(f"job_templates/{template['id']}/credentials/", {"id": awx.one("credentials", "lab-k8s")["id"]})
        job_id = awx.post(f"job_templates/{template['id']}/launch/")["job"]
        finished = awx.wait_finished(f"jobs/{job_id}/", timeout=300)
        output = awx.stdout(job_id)
        print(f"token-only job {job_id}: {finished['status']} in {finished['elapsed']:.0f}s")
        assert finished["status"] == "successful", output[-3000:]
        for line in ("K8S_AUTH_HOST=" + testbed_cluster["host"], "applied changed=True, re-applied changed=False",
                     "read written_by=awx", "pruned=token-check"):
            assert line in output, output[-3000:]
    finally:
        awx.session.delete(f"{URL}/api/v2/job_templates/{template['id']}/", timeout=30)
