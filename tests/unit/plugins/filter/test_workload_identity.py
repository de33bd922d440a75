# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.aibang.gke_platform.plugins.filter.workload_identity import workload_identity_members


def test_members_name_the_pool_and_the_kubernetes_account():
    assert workload_identity_members(["orders/orders", "batch/runner-1"], "p") == [
        "serviceAccount:p.svc.id.goog[orders/orders]", "serviceAccount:p.svc.id.goog[batch/runner-1]"]
    assert workload_identity_members([], "p") == []


@pytest.mark.parametrize("account", ["orders", "Orders/x", "a/b/c", "/x", 7])
def test_bad_accounts_fail_naming_the_entry(account):
    with pytest.raises(AnsibleFilterError, match="is not a Kubernetes service account"):
        workload_identity_members([account], "p")
