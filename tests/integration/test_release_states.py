# -*- coding: utf-8 -*-
"""Issue 12: the state deploy leaves its release in when verify, the end-to-end check at its end, fails (the lab).

Every stage passes its own gate; the end-to-end check then disagrees with the chain. The fault: the inventory's
egress_chain_tier2_client (the address tier 2 sees) names an address outside the policy's vm.client_cidrs, so
squid_policy_check predicts a refusal at tier 2 where the real chain lets an allowed name through, as a wrong value
of it would on Google Cloud. The playbook helpers are test_gates.py's.
"""

from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils import release_store
from tests.integration.test_gates import deployment, faulty_inventory, playbook, release_record, releases, tier1

WRONG_TIER2_CLIENT = {"egress_chain_tier2_client": "192.0.2.10"}  # TEST-NET-1: outside every lab range


@pytest.fixture(name="egress", scope="module")
def fixture_egress(testbed):
    """The egress stages deployed on the lab (tier 2, tier 1, the alias), each through its gate, then verify."""
    done = playbook("deploy.yml", "--tags", "egress")
    assert done.returncode == 0, done.summary()
    return done


def test_verify_run_on_its_own_fails_at_the_check_that_failed(testbed, egress, tmp_path):
    assert any("This run: release" in message or "This run: changed nothing" in message for message in egress.messages())
    done = playbook("verify.yml", inventory=faulty_inventory(tmp_path, WRONG_TIER2_CLIENT))
    assert done.returncode != 0, done.summary()
    message = done.failure_message()
    assert message.startswith("Verify failed: end to end (from a pod, through the alias, tier 1 and tier 2) at "), message
    assert "login.microsoftonline.com" in message, message


def test_a_deploy_whose_end_to_end_check_fails_marks_its_release_failed_and_says_so(testbed, egress, tmp_path):
    """A change that passes tier 1's gate (three replicas), then a failed end-to-end check: the run's release is marked
    failed (not left running, for the next run to call interrupted), the play fails naming the check and the release,
    nothing is restored automatically, and rollback.yml, as the message says, restores what the run changed."""
    as_before = tier1(testbed)
    history_before = releases(testbed)
    inventory = faulty_inventory(tmp_path, {"squid_gke_replicas": 3, **WRONG_TIER2_CLIENT})
    done = playbook("deploy.yml", "--tags", "squid_gke,verify", inventory=inventory)
    assert done.returncode != 0, done.summary()

    kept = releases(testbed)
    new = sorted(set(kept) - set(history_before))
    assert len(new) == 1, (sorted(history_before), sorted(kept))
    number = new[0]
    release = release_store.read(kept[number])  # still valid against its sha256
    assert release["state"] == "failed" and kept[number]["metadata"]["labels"]["aibang.io/state"] == "failed", release["state"]
    assert release["changed"] == ["squid_gke"] and release_record(testbed)["changed"] == ["squid_gke"]
    assert "login.microsoftonline.com" in release["verify_failures"][0], release["verify_failures"]
    assert not [found for found, stored in kept.items() if stored["metadata"]["labels"]["aibang.io/state"] == "running"]

    message = done.failure_message()
    print(f"deploy failed with: {message}")
    assert "failed its end-to-end check (verify): end to end (from a pod, through the alias, tier 1 and tier 2)" in message
    assert "login.microsoftonline.com" in message, message
    assert f"Release {number} (changed: squid_gke) is marked failed." in message, message
    assert "Nothing was restored automatically" in message and "playbooks/rollback.yml" in message, message
    assert any(f"This run: release {number} is now failed; its end-to-end check failed" in said for said in done.messages())
    assert deployment(testbed)["spec"]["replicas"] == 3  # left as deployed: the check names no single stage

    undone = playbook("rollback.yml")
    assert undone.returncode == 0, undone.summary()
    assert "Rolling back squid_gke (changed by deploy run" in " ".join(undone.messages())
    assert tier1(testbed) == as_before
