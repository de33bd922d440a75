# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of a kubeconfig file. Without it, E(K8S_AUTH_KUBECONFIG), E(KUBECONFIG) or C(~/.kube/config), else the
        in-cluster service account.
    type: path
  context:
    description: Context in the kubeconfig.
    type: str
requirements:
  - kubernetes (Python)
"""
