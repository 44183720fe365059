#!/usr/bin/env bash
# Checks what deploys Sluice, offline: yamllint on deploy/ and docker-compose.yml, the Kubernetes
# manifests against the Kubernetes schemas (kubernetes-validate, strict: an unknown field is an
# error) for the oldest and newest Kubernetes it covers, and scripts/check-deploy.py (the
# manifests against the built binary and the measured sizing). Each check is also run once on a
# copy broken on purpose, and must fail there — a validator that passes anything would pass ours.
#
#   scripts/check-deploy.sh [SLUICE_BINARY]      # default .build/debug/sluice (run after a build)
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-.build/debug/sluice}"

# The tools, pinned, from PyPI (Debian's own Python refuses pip installs unless told).
if ! python3 -c 'import kubernetes_validate, yamllint' 2>/dev/null; then
  echo "installing: kubernetes-validate, yamllint (PyPI)"
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "kubernetes-validate==1.37.0" "yamllint==1.38.0"
fi

manifests=(deploy/kubernetes/configmap.yaml deploy/kubernetes/secret.yaml deploy/kubernetes/deployment.yaml
           deploy/kubernetes/service.yaml deploy/kubernetes/hpa.yaml deploy/kubernetes/pdb.yaml)
versions=(1.29.0 1.37.0)

echo "yamllint: deploy/, docker-compose.yml"
python3 -m yamllint --strict -c deploy/.yamllint.yaml deploy docker-compose.yml

for version in "${versions[@]}"; do
  echo "kubernetes-validate --strict, Kubernetes $version: ${manifests[*]##*/}"
  python3 -m kubernetes_validate --strict --quiet -k "$version" "${manifests[@]}"
done

echo "check-deploy.py: the manifests against $binary"
python3 scripts/check-deploy.py "$binary"

# Broken on purpose: each check must fail.
broken="$(mktemp -d)"
trap 'rm -rf "$broken"' EXIT
cp -R deploy/kubernetes "$broken/kubernetes"
sed -i 's/readinessProbe:/readinesProbe:/' "$broken/kubernetes/deployment.yaml"
if python3 -m kubernetes_validate --strict --quiet -k 1.37.0 "$broken/kubernetes/deployment.yaml" >/dev/null 2>&1; then
  echo "kubernetes-validate passed a Deployment with a misspelled field" >&2; exit 1
fi
printf 'key: [unclosed\n' > "$broken/bad.yaml"
if python3 -m yamllint --strict -c deploy/.yamllint.yaml "$broken/bad.yaml" >/dev/null 2>&1; then
  echo "yamllint passed malformed YAML" >&2; exit 1
fi
cp deploy/kubernetes/deployment.yaml "$broken/kubernetes/deployment.yaml"
sed -i 's/SLUICE_WORKERS: "2"/SLUICE_WORKERS: "8"/; s/SLUICE_WORKER_RECYCLE_MB: "224"/SLUICE_WORKER_RECYCLE_MB: "1024"/' "$broken/kubernetes/configmap.yaml"
if python3 scripts/check-deploy.py "$binary" "$broken/kubernetes" >/dev/null 2>&1; then
  echo "check-deploy.py passed 8 workers on 2 CPUs at 1024 MB each in 1 GiB" >&2; exit 1
fi
echo "deploy checks passed (and each failed on its broken copy)"
