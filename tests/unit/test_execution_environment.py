"""The execution environment definition: `ansible-builder create` runs offline and its context holds what AWX needs.

The image itself is not built here (no base image, no registry); the context is what a build would use.
"""
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv that has ansible-builder and ansible-galaxy


def pins(path):
    """name -> 'name==version' for every pinned line of a requirements file."""
    found = {}
    for line in Path(path).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(0)
    return found


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    work = tmp_path_factory.mktemp("ee")
    shutil.copytree(ROOT, work / "src", ignore=shutil.ignore_patterns(".venv", "output", "__pycache__", ".git"))
    src = work / "src"
    (src / "tests/output/ee").mkdir(parents=True)
    subprocess.run([BIN / "ansible-galaxy", "collection", "build", "--output-path", "tests/output/ee", "."],
                   cwd=src, check=True, capture_output=True)
    built = next((src / "tests/output/ee").glob("aibang-gke_platform-*.tar.gz"))
    built.rename(src / "tests/output/ee/aibang-gke_platform.tar.gz")
    subprocess.run([BIN / "ansible-builder", "create", "-f", "execution-environment.yml", "--context", work / "context",
                    "--output-filename", "Containerfile"],  # whether podman is on PATH or not
                   cwd=src, check=True, capture_output=True, env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(work)})
    return work / "context"


def test_containerfile_installs_the_pinned_ansible_core_and_runner(context):
    containerfile = (context / "Containerfile").read_text()
    core = pins(ROOT / "requirements.txt")["ansible-core"]
    assert f'ARG ANSIBLE_INSTALL_REFS="{core} ansible-runner==2.4.0"' in containerfile
    assert 'ARG ANSIBLE_GALAXY_CLI_COLLECTION_OPTS="--no-deps"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile


def test_collections_come_from_the_pinned_ansible_bundle(context):
    ee_python = (context / "_build/requirements.txt").read_text().split()
    assert ee_python == [pins(ROOT / "requirements.txt")["ansible"]]
    galaxy = yaml.safe_load((context / "_build/requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": "/build/collections/aibang-gke_platform.tar.gz", "type": "file"}]


def test_the_collection_tarball_declares_its_run_time_dependencies(context):
    with tarfile.open(context / "_build/collections/aibang-gke_platform.tar.gz") as tarball:
        names = set(tarball.getnames())
        meta = yaml.safe_load(tarball.extractfile("meta/execution-environment.yml"))
    assert {"meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-bindep.txt",
            "playbooks/deploy.yml"} <= names
    assert not [name for name in names if name.startswith((".venv", "tests", "execution-environment.yml"))]
    assert meta["dependencies"] == {"python": "meta/ee-requirements.txt", "system": "meta/ee-bindep.txt"}


def test_run_time_python_pins_equal_the_toolchain_pins():
    toolchain = pins(ROOT / "requirements.txt")
    run_time = pins(ROOT / "meta/ee-requirements.txt")
    assert run_time and all(toolchain.get(name) == pin for name, pin in run_time.items()), run_time


@pytest.mark.parametrize("platform, wanted", [
    (["platform:rpm", "platform:centos"], {"openssh-clients", "bind-utils"}),
    (["platform:dpkg", "platform:debian"], {"openssh-client", "bind9-dnsutils"}),
])
def test_run_time_system_packages_per_platform(platform, wanted):
    from bindep.depends import Depends  # installed with ansible-builder

    depends = Depends((ROOT / "meta/ee-bindep.txt").read_text())
    assert {rule[0] for rule in depends.active_rules(platform + ["default"])} == wanted
