# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.modules import app_workload_render
from ansible_collections.aibang.gke_platform.tests.unit.plugins.module_utils.test_app_workload import CONTEXT

ENVIRONMENT = {"name": "prod", "namespace": "aibang-prod"}


def test_renders_and_reports_readiness(run_module):
    result = run_module(app_workload_render, {"apps": [{"name": "web", "image": "web:1"}], "environment": ENVIRONMENT,
                                              "context": CONTEXT})
    assert result["changed"] is False and result["namespaces"] == ["aibang-prod"]
    assert result["apps"][0]["approval"] == "required"
    assert not result["readiness"]["ready"] and result["readiness"]["unmet"][0].startswith("container-image-digest:")


@pytest.mark.parametrize("app, field", [({"name": "web", "image": "w:1", "size": "XXL"}, "size"),
                                        ({"name": "Web", "image": "w:1"}, "app name")])
def test_bad_input_fails_naming_the_app_and_the_field(run_module, app, field):
    result = run_module(app_workload_render, {"apps": [app], "environment": ENVIRONMENT, "context": CONTEXT})
    assert result["failed"] and field in result["msg"]


def test_kustomize_output_returns_files(run_module):
    result = run_module(app_workload_render, {"apps": [{"name": "web", "image": "web:1"}], "environment": ENVIRONMENT,
                                              "context": CONTEXT, "output": "kustomize"})
    assert {"base/kustomization.yaml", "overlays/prod/kustomization.yaml", "flux/prod.yaml"} <= set(result["files"])
    assert result["secrets_out_of_band"] == ["aibang-prod/web-db"]
