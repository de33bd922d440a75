# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.aibang.gke_platform.plugins.module_utils.gcp_resource import (
    differences,
    link,
    link_path,
    project_of,
    same_link,
    without_none,
)


@pytest.mark.parametrize("desired, current, expected", [
    ({"a": 1}, {"a": "1"}, []),                                   # int64 comes back as a string
    ({"a": True}, {"a": True}, []),
    ({"a": False}, {}, ["a"]),
    ({"a": None}, {"a": 5}, []),                                   # None means "not managed"
    ({"n": {"x": 1, "y": 2}}, {"n": {"x": 1, "y": 3}}, ["n.y"]),
    ({"l": ["b", "a"]}, {"l": ["a", "b"]}, []),                   # scalar lists compare as sets
    ({"l": []}, {}, []),
    ({"l": ["a"]}, {}, ["l"]),
    ({"l": [{"p": "x", "n": 1}]}, {"l": [{"p": "x", "n": "1", "extra": 0}]}, []),
    ({"l": [{"p": "x"}]}, {"l": [{"p": "y"}]}, ["l"]),
    ({"net": "https://compute.googleapis.com/compute/v1/projects/p/global/networks/v"},
     {"net": "https://www.googleapis.com/compute/v1/projects/p/global/networks/v"}, []),
])
def test_differences(desired, current, expected):
    assert differences(desired, current) == expected


@pytest.mark.parametrize("value, expected", [
    ("vpc", "https://compute.googleapis.com/compute/v1/projects/p/global/networks/vpc"),
    ("projects/o/global/networks/vpc", "https://compute.googleapis.com/compute/v1/projects/o/global/networks/vpc"),
    ("https://www.googleapis.com/compute/v1/projects/o/global/networks/vpc",
     "https://compute.googleapis.com/compute/v1/projects/o/global/networks/vpc"),
])
def test_link_accepts_names_paths_and_urls(value, expected):
    assert link(value, "p", "networks") == expected


def test_regional_link_and_helpers():
    made = link("nodes", "p", "subnetworks", "europe-west2")
    assert link_path(made) == "projects/p/regions/europe-west2/subnetworks/nodes"
    assert same_link(made, "https://www.googleapis.com/compute/v1/projects/p/regions/europe-west2/subnetworks/nodes")
    assert project_of(made) == "p"
    assert without_none({"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}]}) == {"b": {"d": 1}, "e": [{}]}
