"""Checks deploy/kubernetes offline: every manifest validates strictly (unknown fields refused)
against the Kubernetes API schemas of the oldest and newest versions we support, with
kubernetes-validate; every SCAFFOLD_* setting the manifests set names a real configuration key
(scaffold.example.toml lists them all); and the pieces fit together (selectors match the pod
labels, probes name the health endpoints, the HPA and the PDB target the Deployment)."""

import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
VERSIONS = ["1.31.0", "1.37.0"]

failures = []
validate = pathlib.Path(sys.executable).parent / "kubernetes-validate"
for version in VERSIONS:
    run = subprocess.run([str(validate), "--strict", "--quiet", "-k", version, *map(str, MANIFESTS)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        failures.append(f"kubernetes-validate {version}:\n{run.stdout}{run.stderr}")

docs = [d for m in MANIFESTS for d in yaml.safe_load_all(m.read_text()) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)

# Settings: SCAFFOLD_SECTION__KEY must be `key = ` under `[section]` in the example file.
example = (ROOT / "scaffold.example.toml").read_text()
sections, section = {}, None
for line in example.splitlines():
    if m := re.match(r"^\[(\w+)\]", line):
        section = m.group(1)
    elif (m := re.match(r"^(\w+) = ", line)) and section:
        sections.setdefault(section, set()).add(m.group(1))
names = [k for d in by_kind.get("ConfigMap", []) for k in d.get("data", {})]
for d in by_kind.get("Deployment", []) + by_kind.get("Job", []):
    for c in d["spec"]["template"]["spec"]["containers"]:
        names += [e["name"] for e in c.get("env", [])]
for name in names:
    if name == "DATABASE_URL":
        continue
    m = re.fullmatch(r"SCAFFOLD_([A-Z_]+?)__([A-Z_]+)", name)
    if not m or m.group(2).lower() not in sections.get(m.group(1).lower(), set()):
        failures.append(f"{name} is not a configuration setting (scaffold.example.toml)")

(deployment,) = by_kind["Deployment"]
labels = deployment["spec"]["template"]["metadata"]["labels"]
if deployment["spec"]["selector"]["matchLabels"].items() - labels.items():
    failures.append("the Deployment's selector does not match its pods")
for kind in ["Service", "PodDisruptionBudget"]:
    for d in by_kind.get(kind, []):
        sel = d["spec"]["selector"]
        sel = sel.get("matchLabels", sel)
        if sel.items() - labels.items():
            failures.append(f"the {kind} selects no Deployment pods")
for hpa in by_kind.get("HorizontalPodAutoscaler", []):
    if hpa["spec"]["scaleTargetRef"]["name"] != deployment["metadata"]["name"]:
        failures.append("the HPA scales something else")
(container,) = deployment["spec"]["template"]["spec"]["containers"]
probes = {p: container[p]["httpGet"]["path"] for p in ["startupProbe", "readinessProbe", "livenessProbe"]}
if probes != {"startupProbe": "/readyz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}:
    failures.append(f"probes: {probes}")
if "--migrate" in container.get("args", []):
    failures.append("the Deployment migrates: the Job does")
(job,) = by_kind["Job"]
if job["spec"]["template"]["spec"]["containers"][0]["args"] != ["migrate"]:
    failures.append("the Job does not run `scaffold migrate`")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"deploy/kubernetes: {len(docs)} resources valid against Kubernetes {', '.join(VERSIONS)}")
