# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aibang platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  project:
    description:
      - The Google Cloud project ID. Falls back to E(GCP_PROJECT).
    type: str
  auth_kind:
    description:
      - How to authenticate, as in the google.cloud collection. V(application) uses application default
        credentials, which include the GCE metadata server and GKE Workload Identity; V(machineaccount) the metadata
        server explicitly; V(serviceaccount) a key file or its contents (avoid where Workload Identity serves);
        V(accesstoken) a ready OAuth access token. Falls back to E(GCP_AUTH_KIND), then V(application).
    type: str
    choices: [application, machineaccount, serviceaccount, accesstoken]
  service_account_file:
    description:
      - Path to a service account key file, for O(auth_kind=serviceaccount). Falls back to E(GCP_SERVICE_ACCOUNT_FILE).
    type: path
  service_account_contents:
    description:
      - A service account key as a JSON string, for O(auth_kind=serviceaccount). Falls back to
        E(GCP_SERVICE_ACCOUNT_CONTENTS). Never logged.
    type: jsonarg
  access_token:
    description:
      - An OAuth access token, for O(auth_kind=accesstoken). Falls back to E(GCP_ACCESS_TOKEN). Never logged.
    type: str
  scopes:
    description:
      - OAuth scopes. Falls back to E(GCP_SCOPES), then V(https://www.googleapis.com/auth/cloud-platform).
    type: list
    elements: str
notes:
  - Calls go to the public Google APIs with C(requests); E(HTTPS_PROXY) and E(REQUESTS_CA_BUNDLE) are honoured.
  - Retries 429 and 5xx with jittered exponential backoff (honouring C(Retry-After)); long-running operations are
    polled to completion. Errors start with C(Failed to <what>) followed by Google's message, and name the missing
    permission on 403.
requirements:
  - google-auth >= 2.0
  - requests
"""
