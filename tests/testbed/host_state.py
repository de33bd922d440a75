# -*- coding: utf-8 -*-
"""What the real node changes on this machine, recorded before `up` and put back by `down`. Test infrastructure.

  python -m tests.testbed.host_state snapshot FILE    record (once: a second `up` keeps the first record)
  python -m tests.testbed.host_state restore FILE     undo: mounts, cgroups, links, routes, iptables, sysctls, dirs
  python -m tests.testbed.host_state footprint        print what of the testbed is on the machine now (JSON)
The kubelet sets vm.overcommit_memory, kernel.panic and kernel.panic_on_oops; the node turns on ip_forward.
The first `ip netns add` on a machine (the lab's internet namespace, internet.py) creates /run/netns and bind-mounts it
on itself. One mechanism for the lab's namespaces: `claim_netns_dir` (before the first one, and at `snapshot`) leaves
a marker when /run/netns is not there yet; `release_netns_dir` (internet.py's `down`, after the last one) unmounts and
removes it again, and the marker, once no namespace is left in it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

SYSCTLS = ("vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops", "net/ipv4/ip_forward")
CHAIN = re.compile(r"\b(KUBE-[A-Z0-9-]+|CNI-[A-Za-z0-9-]+|AIBANG-TESTBED-[A-Z-]+)\b")
LINK = re.compile(r"^(aibang0|aibang-kwok|aibang-vm|veth[0-9a-f]+)$")
# Directories the kubelet, containerd or CNI create in fixed places even when pointed elsewhere.
DIRECTORIES = ("/var/lib/kubelet", "/var/log/pods", "/var/log/containers", "/var/lib/cni", "/etc/cni", "/opt/cni",
               "/run/netns", "/run/containerd", "/var/lib/containerd", "/usr/libexec/kubernetes", "/opt/containerd",
               "/tmp/aibang-testbed-pv")
NETNS_DIR = "/run/netns"
NETNS_MARKER = "/run/aibang-lab.made-netns"  # the lab made NETNS_DIR: release_netns_dir takes it away again
CGROUP_ROOT = "/sys/fs/cgroup"
CONTAINER_CGROUP = re.compile(r"(^|/)(k8s\.io|kubepods[^/]*|[0-9a-f]{64})(/|$)")
ROUTES = (("10.96.0.0/16",), ("unreachable", "10.244.0.0/17"))
IPTABLES = ("iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy")
TABLES = ("filter", "nat", "mangle", "raw")


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def sysctls() -> dict:
    values = {}
    for key in SYSCTLS:
        with open(f"/proc/sys/{key}", encoding="ascii") as handle:
            values[key.replace("/", ".")] = handle.read().strip()
    return values


def mounts() -> list:
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        return [line.split()[4] for line in handle]


def cgroups() -> list:
    found = []
    for controller in sorted(os.listdir(CGROUP_ROOT)):
        top = os.path.join(CGROUP_ROOT, controller)
        for folder, subfolders, _files in os.walk(top):
            found += [os.path.join(folder, name)[len(top):] for name in subfolders
                      if CONTAINER_CGROUP.search(os.path.join(folder, name)[len(top):])]
    return sorted(set(found))


def namespaces() -> list:
    return sorted(os.listdir(NETNS_DIR)) if os.path.isdir(NETNS_DIR) else []


def _process_is_the_testbeds(pid: str, run_dir: str) -> bool:
    """Started by the testbed: a binary of its cache, a path in its run directory, or a container's cgroup."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = [arg.decode("utf-8", "replace") for arg in handle.read().split(b"\0") if arg]
        with open(f"/proc/{pid}/cgroup", encoding="utf-8") as handle:
            cgroup_paths = [line.rstrip("\n").split(":", 2)[-1] for line in handle]
        executable = os.readlink(f"/proc/{pid}/exe")
    except OSError:  # gone meanwhile, or a kernel thread
        return False
    cache = os.environ.get("TESTBED_CACHE", os.path.expanduser("~/.cache/aibang-gke-platform/testbed"))
    option = re.compile(rf"-{{1,2}}[\w.-]+={re.escape(run_dir)}/.*")  # --kubeconfig=/run/aibang-testbed/...
    in_run_dir = any(arg.startswith(run_dir + "/") or option.fullmatch(arg) for arg in argv)
    return (executable.startswith(cache + "/") or in_run_dir
            or any(CONTAINER_CGROUP.search(path) for path in cgroup_paths))


def processes(run_dir: str) -> list:
    """``pid command`` of every process of the testbed still running (this process aside)."""
    own = str(os.getpid())
    found = []
    for pid in sorted((name for name in os.listdir("/proc") if name.isdigit() and name != own), key=int):
        if _process_is_the_testbeds(pid, run_dir):
            try:
                with open(f"/proc/{pid}/comm", encoding="utf-8") as handle:
                    found.append(f"{pid} {handle.read().strip()}")
            except OSError:
                pass
    return found


def links() -> list:
    names = [line.split(":")[1].strip().split("@")[0] for line in run("ip", "-o", "link", "show").stdout.splitlines()]
    return sorted(name for name in names if LINK.match(name))


def routes() -> list:
    return sorted(line.strip() for line in run("ip", "route", "show").stdout.splitlines()
                  if line.startswith(("10.96.", "unreachable 10.244.", "10.244.")))


def iptables_lines() -> dict:
    found = {}
    for tool in IPTABLES:
        if not shutil.which(f"{tool}-save"):
            continue
        for table in TABLES:
            lines = [line for line in run(f"{tool}-save", "-t", table).stdout.splitlines() if CHAIN.search(line)]
            if lines:
                found[f"{tool}/{table}"] = [re.sub(r"\[\d+:\d+\]", "", line) for line in lines]
    return found


def footprint(run_dir: str) -> dict:
    """Everything of the testbed's node that can be on the machine; empty lists when it is clean."""
    return {
        "sysctls": sysctls(),
        "mounts": [point for point in mounts() if point == NETNS_DIR or point.startswith((run_dir + "/", NETNS_DIR + "/cni-"))],
        "namespaces": namespaces(),
        "processes": processes(run_dir),
        "cgroups": cgroups(),
        "links": links(),
        "routes": routes(),
        "iptables": iptables_lines(),
        "directories": [path for path in (*DIRECTORIES, NETNS_MARKER) if os.path.lexists(path)],
    }


def snapshot(path: str, run_dir: str) -> None:
    if os.path.exists(path):
        return
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(footprint(run_dir), handle, indent=1)
    os.replace(path + ".tmp", path)
    claim_netns_dir()


def restore_iptables(before: dict) -> None:
    """Drop the testbed's chains and every rule that names one, table by table, in one iptables-restore each."""
    for tool in IPTABLES:
        if not shutil.which(f"{tool}-save"):
            continue
        for table in TABLES:
            saved = run(f"{tool}-save", "-t", table).stdout
            if not CHAIN.search(saved):
                continue
            keep = set(before.get("iptables", {}).get(f"{tool}/{table}", []))
            kept = [line for line in saved.splitlines()
                    if not CHAIN.search(line) or re.sub(r"\[\d+:\d+\]", "", line) in keep]
            subprocess.run([f"{tool}-restore", "-w", "-T", table], input="\n".join(kept) + "\n", text=True, check=True,
                           capture_output=True, timeout=60)


def restore(path: str, run_dir: str) -> list:
    """Undo what is not in the record at ``path``; returns what it did, one line each."""
    with open(path, encoding="utf-8") as handle:
        before = json.load(handle)
    done = []
    now = footprint(run_dir)
    for point in sorted(set(now["mounts"]) - set(before["mounts"]) - {NETNS_DIR}, key=len, reverse=True):
        if run("umount", point).returncode != 0:
            run("umount", "-l", point)
        done.append(f"unmounted {point}")
    for name in [name for name in namespaces() if name.startswith("cni-")]:
        os.unlink(os.path.join(NETNS_DIR, name))
    for cgroup in sorted(set(cgroups()) - set(before["cgroups"]), key=len, reverse=True):
        for controller in os.listdir(CGROUP_ROOT):
            try:
                os.rmdir(os.path.join(CGROUP_ROOT, controller) + cgroup)
                done.append(f"removed cgroup {controller}{cgroup}")
            except FileNotFoundError:
                pass
            except OSError as exc:
                done.append(f"could not remove cgroup {controller}{cgroup}: {exc}")
    for link in sorted(set(now["links"]) - set(before["links"])):
        if run("ip", "link", "delete", link).returncode == 0:
            done.append(f"deleted link {link}")
    for route in ROUTES:
        if not any(line.startswith(" ".join(route)) for line in before["routes"]):
            if run("ip", "route", "delete", *route).returncode == 0:
                done.append(f"deleted route {' '.join(route)}")
    if now["iptables"] != before["iptables"]:
        restore_iptables(before)
        done.append("removed the KUBE-, CNI- and AIBANG-TESTBED- iptables chains")
    for key, value in before["sysctls"].items():
        if now["sysctls"][key] != value:
            with open(f"/proc/sys/{key.replace('.', '/')}", "w", encoding="ascii") as handle:
                handle.write(value + "\n")
            done.append(f"{key}: {now['sysctls'][key]} -> {value}")
    for directory in sorted(set(now["directories"]) - set(before["directories"]) - {NETNS_DIR, NETNS_MARKER}):
        shutil.rmtree(directory) if os.path.isdir(directory) and not os.path.islink(directory) else os.unlink(directory)
        done.append(f"removed {directory}")
    return done + release_netns_dir()


def claim_netns_dir() -> None:
    """Before the lab's first network namespace: when /run/netns is not there, the lab will make it (mark that)."""
    if not os.path.isdir(NETNS_DIR):
        with open(NETNS_MARKER, "w", encoding="ascii"):
            pass


def release_netns_dir() -> list:
    """Unmount and remove /run/netns when the lab made it (the marker) and no namespace is left in it; returns what it
    did. The node's restore calls it, and internet.py's `down` after the lab's internet namespace, the last one."""
    if not os.path.exists(NETNS_MARKER) or namespaces():
        return []
    done = []
    if NETNS_DIR in mounts() and run("umount", NETNS_DIR).returncode == 0:
        done.append(f"unmounted {NETNS_DIR}")
    if os.path.isdir(NETNS_DIR) and NETNS_DIR not in mounts():
        os.rmdir(NETNS_DIR)
        done.append(f"removed {NETNS_DIR}")
    if not os.path.isdir(NETNS_DIR):
        os.unlink(NETNS_MARKER)
    return done


def main() -> int:
    run_dir = os.environ.get("TESTBED_RUN", "/run/aibang-testbed")
    action, *rest = sys.argv[1:] or [""]
    if action == "snapshot" and rest:
        snapshot(rest[0], run_dir)
    elif action == "restore" and rest:
        for line in restore(rest[0], run_dir):
            print(f"testbed: host: {line}")
    elif action == "footprint":
        print(json.dumps(footprint(run_dir), indent=1))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
