# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

_KSA = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)")


def workload_identity_members(service_accounts, project):
    """IAM members for Kubernetes service accounts written namespace/name, in the project's Workload Identity pool."""
    members = []
    for account in service_accounts or []:
        if not isinstance(account, str) or not _KSA.fullmatch(account):
            raise AnsibleFilterError(f"workload_identity_members: {account!r} is not a Kubernetes service account "
                                     "written namespace/name")
        members.append(f"serviceAccount:{project}.svc.id.goog[{account}]")
    return members


class FilterModule:
    def filters(self):
        return {"workload_identity_members": workload_identity_members}
