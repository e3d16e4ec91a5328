#!/usr/bin/env python3
"""Generated inputs for the analysis scaling benchmark (bench/analysis.sh), one family per
argument, N the scale:

  rich N       one namespace, N Deployments with rich labels, N NetworkPolicies with
               matchExpressions (each isolating most pods, admitting almost nothing): the
               family issue 14 measured as O(n^3), with a few hundred bytes of output;
  namespaces N N namespaces of 3 workloads, default-deny + allow-DNS + one allow rule each:
               the namespace matrix of issue 14 (2.7 GB at 3000);
  rich-intent N  a `netfence verify` intent for `rich N` (N allow entries and a deny entry);
  cluster N    a cluster-scale platform: N/25 namespaces of 25 workloads (N workloads), per
               namespace a default-deny and an allow-DNS policy, one policy per workload
               (its ingress from two neighbours, egress to the next namespace's frontend), and
               3 AdminNetworkPolicies plus a BaselineAdminNetworkPolicy over them.

Usage: analysis_families.py FAMILY N > out.yaml
"""
import sys


def deployment(ns, name, labels, port=8080):
    label_text = ", ".join(f"{k}: {v}" for k, v in labels.items())
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\n"
        f"spec:\n  selector: {{matchLabels: {{app: {labels['app']}}}}}\n"
        f"  template:\n    metadata: {{labels: {{{label_text}}}}}\n"
        f"    spec: {{containers: [{{name: c, image: x, ports: [{{name: http, containerPort: {port}}}]}}]}}\n"
    )


def namespace(name, labels=None):
    label_text = ", ".join(f"{k}: {v}" for k, v in (labels or {}).items())
    return f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{label_text}}}}}\n"


def policy(ns, name, spec):
    return f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{spec}"


DNS_RULE = (
    "  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, "
    "podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n"
)


def rich(n):
    docs = [namespace("scale", {"team": "scale"})]
    for i in range(n):
        labels = {"app": f"w{i}", "tier": f"t{i % 10}", "team": f"team{i % 7}", "version": f"v{i % 3}", "zone": f"z{i % 5}"}
        docs.append(deployment("scale", f"w{i}", labels))
    for i in range(n):
        spec = (
            "  podSelector:\n    matchExpressions:\n"
            f"    - {{key: tier, operator: NotIn, values: [t{i % 10}]}}\n"
            "    - {key: app, operator: Exists}\n"
            "  policyTypes: [Ingress, Egress]\n"
            "  ingress:\n  - from:\n    - podSelector:\n        matchExpressions:\n"
            f"        - {{key: app, operator: In, values: [w{i}]}}\n"
            f"        - {{key: team, operator: In, values: [team{(i + 1) % 7}]}}\n"
            "    ports: [{port: 8080}]\n"
            "  egress:\n  - to:\n    - podSelector:\n        matchExpressions:\n"
            f"        - {{key: app, operator: In, values: [w{(i + 1) % n}]}}\n"
            f"        - {{key: zone, operator: NotIn, values: [z{(i + 1) % 5}]}}\n"
            "    ports: [{port: 8080}]\n"
        )
        docs.append(policy("scale", f"p{i}", spec))
    return docs


def namespaces(n):
    docs = []
    for i in range(n):
        ns = f"ns{i}"
        docs.append(namespace(ns, {"tier": f"t{i % 4}"}))
        for w in ("frontend", "backend", "db"):
            docs.append(deployment(ns, w, {"app": w, "part-of": ns}))
        docs.append(policy(ns, "default-deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"))
        docs.append(policy(ns, "allow-dns", "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n" + DNS_RULE))
        docs.append(policy(
            ns, "frontend-to-backend",
            "  podSelector: {matchLabels: {app: backend}}\n  ingress:\n"
            "  - from: [{podSelector: {matchLabels: {app: frontend}}}]\n    ports: [{port: 8080}]\n"))
    return docs


def cluster(n):
    per = 25
    count = max(1, n // per)
    docs = []
    for i in range(count):
        ns = f"team{i}"
        nxt = f"team{(i + 1) % count}"
        docs.append(namespace(ns, {"tier": f"t{i % 5}", "env": "prod" if i % 2 else "dev"}))
        for w in range(per):
            labels = {"app": f"a{w}", "role": "frontend" if w == 0 else ("db" if w % 5 == 4 else "service"), "zone": f"z{w % 3}"}
            docs.append(deployment(ns, f"a{w}", labels, 8000 + w))
        docs.append(policy(ns, "default-deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"))
        docs.append(policy(ns, "allow-dns", "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n" + DNS_RULE))
        for w in range(per):
            spec = (
                f"  podSelector: {{matchLabels: {{app: a{w}}}}}\n  policyTypes: [Ingress, Egress]\n"
                "  ingress:\n"
                f"  - from: [{{podSelector: {{matchExpressions: [{{key: app, operator: In, values: [a{(w + 1) % per}, a{(w + 2) % per}]}}]}}}}]\n"
                "    ports: [{port: http}]\n"
                "  egress:\n"
                f"  - to: [{{podSelector: {{matchLabels: {{app: a{(w + per - 1) % per}}}}}}}]\n"
                f"  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {nxt}}}}}, podSelector: {{matchLabels: {{role: frontend}}}}}}]\n"
                "    ports: [{port: 8000}]\n"
            )
            docs.append(policy(ns, f"a{w}", spec))
    anp = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
    docs.append(anp + "metadata: {name: deny-dev-to-prod-db}\nspec:\n  priority: 10\n"
                "  subject: {pods: {namespaceSelector: {matchLabels: {env: prod}}, podSelector: {matchLabels: {role: db}}}}\n"
                "  ingress:\n  - {name: deny-dev, action: Deny, from: [{namespaces: {matchLabels: {env: dev}}}]}\n")
    docs.append(anp + "metadata: {name: pass-frontends}\nspec:\n  priority: 20\n"
                "  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {role: frontend}}}}\n"
                "  ingress:\n  - {name: pass-all, action: Pass, from: [{namespaces: {}}]}\n")
    docs.append(anp + "metadata: {name: allow-monitoring}\nspec:\n  priority: 30\n"
                "  subject: {namespaces: {}}\n"
                "  ingress:\n  - name: scrape\n    action: Allow\n    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]\n"
                "    ports: [{portNumber: {protocol: TCP, port: 9090}}]\n")
    docs.append("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n"
                "  subject: {namespaces: {matchLabels: {tier: t0}}}\n"
                "  egress:\n  - {name: deny-t4, action: Deny, to: [{namespaces: {matchLabels: {tier: t4}}}]}\n")
    return docs


def rich_intent(n):
    """A verify intent for `rich N`: each workload reaches its successor on TCP/8080 (what the
    egress rules aim at), nothing reaches the metadata address."""
    lines = ["apiVersion: netfence.dev/v1alpha1\nkind: ConnectivityIntent\nexhaustive: true\nallow:\n"]
    for i in range(n):
        lines.append(f"- {{from: scale/w{i}, to: scale/w{(i + 1) % n}, ports: [TCP/8080]}}\n")
    lines.append("deny:\n- {from: '*', to: 169.254.169.254/32}\n")
    return ["".join(lines)]


FAMILIES = {"rich": rich, "rich-intent": rich_intent, "namespaces": namespaces, "cluster": cluster}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in FAMILIES:
        sys.exit(__doc__)
    sys.stdout.write("---\n".join(FAMILIES[sys.argv[1]](int(sys.argv[2]))))
