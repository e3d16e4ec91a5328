//! Peers of one cluster: a headless Service selecting StatefulSet pods (Kafka, ZooKeeper, etcd,
//! Redis Sentinel, MongoDB replica sets, RabbitMQ) means those pods reach each other on its ports.

use super::index::Index;
use super::{Connection, Party, Rule};

/// One connection per headless Service backed by StatefulSets: their pods to their pods.
pub fn infer(ix: &Index, out: &mut Vec<Connection>) {
    for s in ix.services.values().filter(|s| s.headless && !s.ports.is_empty()) {
        let sets: Vec<usize> =
            s.backends.iter().copied().filter(|&i| ix.model.workloads[i].kind == "StatefulSet").collect();
        // One pod in all (a single-replica primary) has no peer to reach.
        let replicas: i64 = sets.iter().map(|&i| replicas(ix, i)).sum();
        if sets.is_empty() || replicas < 2 {
            continue;
        }
        let ports = s.ports.iter().map(|p| ix.target(s, p)).collect::<Vec<_>>();
        let names: Vec<String> = sets.iter().map(|&i| format!("statefulset/{}", ix.model.workloads[i].name)).collect();
        let evidence = format!("headless service {} selects {}", s.name, names.join(", "));
        // Every backend a StatefulSet: the Service's selector names them all.
        let party = match Party::service(ix.model, s) {
            Some(p) if sets.len() == s.backends.len() => p,
            _ => {
                for &a in &sets {
                    for &b in &sets {
                        out.push(Connection {
                            from: Party::workload(ix, a),
                            to: Party::workload(ix, b),
                            ports: ports.clone(),
                            rule: Rule::Peers,
                            evidence: evidence.clone(),
                        });
                    }
                }
                continue;
            }
        };
        out.push(Connection { from: party.clone(), to: party, ports, rule: Rule::Peers, evidence });
    }
}

/// `spec.replicas` of workload `i` (default 1).
fn replicas(ix: &Index, i: usize) -> i64 {
    ix.workload_values[i].and_then(|v| v.pointer("/spec/replicas")).and_then(serde_json::Value::as_i64).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use crate::infer::references::tests::lines;

    #[test]
    fn statefulset_pods_behind_a_headless_service_reach_each_other() {
        let yaml = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: zk, namespace: d}\nspec: {replicas: 3, template: {metadata: {labels: {app: zk}}, spec: {containers: [{name: c, ports: [{name: peer, containerPort: 2888}]}]}}}\n---\n\
            apiVersion: v1\nkind: Service\nmetadata: {name: zk-hl, namespace: d}\nspec: {clusterIP: None, selector: {app: zk}, ports: [{port: 2888, targetPort: peer}, {port: 3888}]}\n---\n\
            apiVersion: v1\nkind: Service\nmetadata: {name: zk, namespace: d}\nspec: {selector: {app: zk}, ports: [{port: 2181}]}\n";
        assert_eq!(
            lines(yaml, ""),
            [
                "d/StatefulSet/zk d/StatefulSet/zk TCP/2888 peers: headless service zk-hl selects statefulset/zk",
                "d/StatefulSet/zk d/StatefulSet/zk TCP/3888 peers: headless service zk-hl selects statefulset/zk",
            ]
        );
        assert!(lines(yaml, "infer: {peers: false}").is_empty());
        assert!(lines(&yaml.replace("replicas: 3", "replicas: 1"), "").is_empty(), "one pod has no peers");
    }
}
