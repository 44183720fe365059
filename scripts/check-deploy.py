#!/usr/bin/env python3
"""Checks deploy/kubernetes against what Sluice is: every setting a name `sluice serve` knows,
the port the probes and the Service use the one it listens on, one worker per CPU of the limit,
and the memory the workers may grow to under the memory fence of the pod's limit.

    scripts/check-deploy.py [SLUICE_BINARY] [MANIFEST_DIR]   # defaults: .build/debug/sluice, deploy/kubernetes

Run by scripts/check-deploy.sh (after yamllint and kubernetes-validate); exit status 1 names
each mismatch and the file it is in.
"""
import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
MANIFESTS = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "deploy" / "kubernetes"
# Measured (docs/deploy.md, "Sizing"): the server's proportional set size under load. Sluice's
# "MB" settings are MiB (2^20 bytes), as Kubernetes' Mi and Gi are.
SERVER_MB = 50
# Names Sluice reads that are not its own (rudder-transformer's, kept for drop-in use).
FOREIGN = {"CONFIG_BACKEND_URL", "GEOLOCATION_URL", "GEOLOCATION_TIMEOUT_IN_MS",
           "MEMORY_FENCING_ENABLED", "MEMORY_FENCING_THRESHOLD_PERCENT"}

problems = []


def problem(file, text):
    problems.append(f"{file}: {text}")


def load(name):
    return yaml.safe_load((MANIFESTS / name).read_text())


def quantity_mib(text, file):
    match = re.fullmatch(r"(\d+)(Mi|Gi)", str(text))
    if not match:
        problem(file, f"memory {text!r}: write it in Mi or Gi")
        return 0
    return int(match.group(1)) * (1024 if match.group(2) == "Gi" else 1)


binary = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".build" / "debug" / "sluice")
help_text = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True, check=True).stdout
known = set(re.findall(r"\b(SLUICE_[A-Z_]+|[A-Z][A-Z_]+_(?:URL|MS|PERCENT|ENABLED))\b", help_text))

settings = load("configmap.yaml")["data"]
secret = load("secret.yaml")["stringData"]
for file, keys in (("configmap.yaml", settings), ("secret.yaml", secret)):
    for key in keys:
        if key not in known and key not in FOREIGN:
            problem(file, f"{key} is not a setting `sluice serve` reads (see `sluice serve --help`)")
        elif key in FOREIGN and key not in known:
            problem(file, f"{key} is no longer listed by `sluice serve --help`")

kustomization = load("kustomization.yaml")
listed = set(kustomization["resources"])
present = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
for name in sorted(present - listed):
    problem("kustomization.yaml", f"{name} is not in resources")
for name in sorted(listed - present):
    problem("kustomization.yaml", f"resources names {name}, which does not exist")

deployment = load("deployment.yaml")
pod = deployment["spec"]["template"]["spec"]
container = pod["containers"][0]
port = int(settings.get("SLUICE_PORT", "9090"))
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
if ports.get("http") != port:
    problem("deployment.yaml", f"containerPort http is {ports.get('http')}, SLUICE_PORT is {port}")
service = load("service.yaml")
if service["spec"]["ports"][0]["targetPort"] not in ("http", port):
    problem("service.yaml", "targetPort is neither the container's http port nor SLUICE_PORT")
for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
    if container[probe]["httpGet"]["port"] not in ("http", port):
        problem("deployment.yaml", f"{probe} does not probe the http port")
if container["readinessProbe"]["httpGet"]["path"] != "/health":
    problem("deployment.yaml", "readiness must be /health (503 while no worker is ready)")

limits = container["resources"]["limits"]
cpus = float(str(limits["cpu"]).rstrip("m")) / (1000 if str(limits["cpu"]).endswith("m") else 1)
workers = int(settings.get("SLUICE_WORKERS", "0"))
if workers != max(1, int(cpus)):
    problem("configmap.yaml", f"SLUICE_WORKERS is {workers}, the CPU limit is {limits['cpu']}: one worker per CPU")
limit_mb = quantity_mib(limits["memory"], "deployment.yaml")
fence_mb = limit_mb * int(settings.get("SLUICE_MEMORY_FENCE_PERCENT", "80")) // 100
recycle_mb = int(settings.get("SLUICE_WORKER_RECYCLE_MB", "1024"))
# The pool keeps one spare worker besides SLUICE_WORKERS.
grown = SERVER_MB + (workers + 1) * recycle_mb
if grown > fence_mb:
    problem("configmap.yaml", f"{workers + 1} workers at SLUICE_WORKER_RECYCLE_MB={recycle_mb} and the server "
            f"({SERVER_MB} MB) hold {grown} MB, past the memory fence ({fence_mb} MB of {limit_mb} MB)")

grace = pod["terminationGracePeriodSeconds"]
pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
drain = int(pre_stop[-1]) if pre_stop[0] == "sleep" else 0
shutdown = int(settings.get("SLUICE_SHUTDOWN_GRACE_MS", "25000")) / 1000
if grace < drain + shutdown + 5:
    problem("deployment.yaml", f"terminationGracePeriodSeconds {grace} < preStop {drain} s + shutdown grace {shutdown:g} s + 5 s")

context = container["securityContext"]
if context.get("allowPrivilegeEscalation") is not False:
    problem("deployment.yaml", "allowPrivilegeEscalation must be false (no_new_privs for the workers' seccomp filters)")
if pod["securityContext"].get("seccompProfile", {}).get("type") not in ("RuntimeDefault", "Localhost"):
    problem("deployment.yaml", "the pod needs a seccomp profile (RuntimeDefault)")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"deploy/kubernetes agrees with sluice: port {port}, {workers} workers for {limits['cpu']} CPU, "
      f"{grown} MB at most under a {fence_mb} MB fence ({limit_mb} MB limit), grace {grace} s ≥ {drain} + {shutdown:g} + 5 s")
