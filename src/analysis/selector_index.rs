//! Label selectors evaluated through an index: which groups of pods (and which namespaces) a
//! selector matches, found from the labels its positive requirements name instead of by testing
//! every pod, so that N selectors over N pods cost about N lookups, not N² matches.

use super::admin::PodsOf;
use super::connectivity::Bits;
use super::topology::Topology;
use crate::k8s::selector::{self, Labels};
use k8s_openapi::api::networking::v1::NetworkPolicyPeer;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::{BTreeMap, HashMap};

/// Namespaces and groups of pods, indexed by label.
#[derive(Debug, Default)]
pub struct Index {
    namespace_ids: HashMap<String, usize>,
    namespace_labels: Vec<Labels>,
    /// Groups of each namespace.
    namespace_groups: Vec<Vec<usize>>,
    /// (namespace, key, value) → groups.
    pod_values: HashMap<(usize, String, String), Vec<usize>>,
    /// (namespace, key) → groups having the key.
    pod_keys: HashMap<(usize, String), Vec<usize>>,
    /// Labels of each group.
    group_labels: Vec<Labels>,
    /// (key, value) → namespaces.
    ns_values: HashMap<(String, String), Vec<usize>>,
    /// key → namespaces having it.
    ns_keys: HashMap<String, Vec<usize>>,
}

impl Index {
    /// The index of `topology`'s namespaces (groups are added with [`Index::add_pod`]).
    pub fn new(topology: &Topology) -> Index {
        let mut index = Index::default();
        for (name, labels) in &topology.namespaces {
            index.add_namespace(name, labels.clone());
        }
        index
    }

    fn add_namespace(&mut self, name: &str, labels: Labels) -> usize {
        let id = self.namespace_labels.len();
        for (k, v) in &labels {
            self.ns_values.entry((k.clone(), v.clone())).or_default().push(id);
            self.ns_keys.entry(k.clone()).or_default().push(id);
        }
        self.namespace_ids.insert(name.to_string(), id);
        self.namespace_labels.push(labels);
        self.namespace_groups.push(Vec::new());
        id
    }

    /// The id of namespace `name`, added with its automatic label when unknown.
    pub fn namespace_id(&mut self, name: &str) -> usize {
        match self.namespace_ids.get(name) {
            Some(id) => *id,
            None => self.add_namespace(name, selector::namespace_labels(name, None)),
        }
    }

    /// The id of namespace `name`, if known.
    pub fn namespace(&self, name: &str) -> Option<usize> {
        self.namespace_ids.get(name).copied()
    }

    /// Records group `g` of pods with `labels` in namespace `ns` (groups are added in order).
    pub fn add_pod(&mut self, g: usize, ns: usize, labels: &Labels) {
        for (k, v) in labels {
            self.pod_values.entry((ns, k.clone(), v.clone())).or_default().push(g);
            self.pod_keys.entry((ns, k.clone())).or_default().push(g);
        }
        self.namespace_groups[ns].push(g);
        if self.group_labels.len() <= g {
            self.group_labels.resize(g + 1, Labels::new());
        }
        self.group_labels[g] = labels.clone();
    }

    /// Groups of namespace `ns` that `sel` selects.
    pub fn pods(&self, ns: usize, sel: &LabelSelector) -> Bits {
        let mut out = Bits::default();
        for g in self.pod_candidates(ns, sel) {
            if selector::matches(sel, &self.group_labels[g]) {
                out.set(g);
            }
        }
        out
    }

    fn pod_candidates(&self, ns: usize, sel: &LabelSelector) -> Vec<usize> {
        let lookup = |k: &str, v: &str| self.pod_values.get(&(ns, k.to_string(), v.to_string()));
        let key = |k: &str| self.pod_keys.get(&(ns, k.to_string()));
        candidates(sel, &self.namespace_groups[ns], lookup, key)
    }

    /// Namespaces `sel` selects.
    pub fn namespaces(&self, sel: &LabelSelector) -> Vec<usize> {
        let all: Vec<usize> = (0..self.namespace_labels.len()).collect();
        let lookup = |k: &str, v: &str| self.ns_values.get(&(k.to_string(), v.to_string()));
        let key = |k: &str| self.ns_keys.get(k);
        candidates(sel, &all, lookup, key)
            .into_iter()
            .filter(|ns| selector::matches(sel, &self.namespace_labels[*ns]))
            .collect()
    }

    /// Groups a NetworkPolicy peer (of a policy in namespace `policy_ns`) matches; an `ipBlock`
    /// peer matches none.
    pub fn peer(&self, peer: &NetworkPolicyPeer, policy_ns: &str) -> Bits {
        if peer.ip_block.is_some() {
            return Bits::default();
        }
        let namespaces = match &peer.namespace_selector {
            Some(sel) => self.namespaces(sel),
            None => self.namespace(policy_ns).into_iter().collect(),
        };
        let every_pod = LabelSelector::default();
        let pods = peer.pod_selector.as_ref().unwrap_or(&every_pod);
        let mut out = Bits::default();
        for ns in namespaces {
            out.or(&self.pods(ns, pods));
        }
        out
    }

    /// Groups an AdminNetworkPolicy subject or peer selects.
    pub fn admin_subject(&self, of: &PodsOf) -> Bits {
        let mut out = Bits::default();
        match of {
            PodsOf::Namespaces(sel) => {
                for ns in self.namespaces(sel) {
                    for &g in &self.namespace_groups[ns] {
                        out.set(g);
                    }
                }
            }
            PodsOf::Pods { namespace, pod } => {
                for ns in self.namespaces(namespace) {
                    out.or(&self.pods(ns, pod));
                }
            }
        }
        out
    }

    /// Whether some group has all of `pod_labels` in a namespace that has all of `ns_labels`.
    pub fn any_pod_with_labels(
        &self,
        ns_labels: &BTreeMap<String, String>,
        pod_labels: &BTreeMap<String, String>,
    ) -> bool {
        let ns_sel = selector::from_labels(ns_labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let pod_sel = selector::from_labels(pod_labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.namespaces(&ns_sel).into_iter().any(|ns| !self.pods(ns, &pod_sel).is_empty())
    }
}

/// The members of `all` a selector may match: those carrying the rarest label its positive
/// requirements name (`matchLabels`, `In`, `Exists`), or all of them when it has none.
fn candidates<'a>(
    sel: &LabelSelector,
    all: &[usize],
    lookup: impl Fn(&str, &str) -> Option<&'a Vec<usize>>,
    key: impl Fn(&str) -> Option<&'a Vec<usize>>,
) -> Vec<usize> {
    let mut best: Option<Vec<&Vec<usize>>> = None;
    let size = |lists: &Vec<&Vec<usize>>| lists.iter().map(|l| l.len()).sum::<usize>();
    let consider = |lists: Vec<&'a Vec<usize>>, best: &mut Option<Vec<&'a Vec<usize>>>| {
        if best.as_ref().is_none_or(|b| size(&lists) < size(b)) {
            *best = Some(lists);
        }
    };
    // A label no member carries: nothing can match.
    let mut none_possible = false;
    for (k, v) in sel.match_labels.iter().flatten() {
        match lookup(k, v) {
            Some(l) => consider(vec![l], &mut best),
            None => none_possible = true,
        }
    }
    for e in sel.match_expressions.iter().flatten() {
        match e.operator.as_str() {
            "In" => {
                let lists: Vec<&Vec<usize>> = e.values.iter().flatten().filter_map(|v| lookup(&e.key, v)).collect();
                if lists.is_empty() {
                    none_possible = true;
                } else {
                    consider(lists, &mut best);
                }
            }
            "Exists" => match key(&e.key) {
                Some(l) => consider(vec![l], &mut best),
                None => none_possible = true,
            },
            _ => {}
        }
    }
    if none_possible {
        return Vec::new();
    }
    match best {
        None => all.to_vec(),
        Some(lists) if lists.len() == 1 => lists[0].clone(),
        Some(lists) => {
            let mut v: Vec<usize> = lists.into_iter().flatten().copied().collect();
            v.sort_unstable();
            v.dedup();
            v
        }
    }
}

/// A selector's requirements in a canonical order, to compare selectors by meaning as np-guard
/// does for representative peers (`In` with one value is the same as a plain label).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Canonical(Vec<(String, String, Vec<String>)>);

impl Canonical {
    /// The canonical form of `sel`.
    pub fn of(sel: &LabelSelector) -> Canonical {
        let mut reqs: Vec<(String, String, Vec<String>)> = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            reqs.push((k.clone(), "=".into(), vec![v.clone()]));
        }
        for e in sel.match_expressions.iter().flatten() {
            let mut values: Vec<String> = e.values.clone().unwrap_or_default();
            values.sort();
            values.dedup();
            let op = if e.operator == "In" && values.len() == 1 { "=".to_string() } else { e.operator.clone() };
            reqs.push((e.key.clone(), op, values));
        }
        reqs.sort();
        Canonical(reqs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelector {
        LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: key.into(),
                operator: op.into(),
                values: Some(values.iter().map(|v| v.to_string()).collect()),
            }]),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn index_agrees_with_plain_matching() {
        let mut index = Index::default();
        let ns = index.namespace_id("shop");
        let pods = [labels(&[("app", "a"), ("tier", "web")]), labels(&[("app", "b")]), labels(&[])];
        for (g, l) in pods.iter().enumerate() {
            index.add_pod(g, ns, l);
        }
        let selectors = [
            LabelSelector::default(),
            selector::from_labels([("app", "a")]),
            selector::from_labels([("app", "c")]),
            expr("app", "In", &["a", "b"]),
            expr("app", "NotIn", &["a"]),
            expr("tier", "Exists", &[]),
            expr("tier", "DoesNotExist", &[]),
            expr("app", "Bogus", &[]),
        ];
        for sel in &selectors {
            let got: Vec<usize> = index.pods(ns, sel).iter().collect();
            let want: Vec<usize> = (0..pods.len()).filter(|g| selector::matches(sel, &pods[*g])).collect();
            assert_eq!(got, want, "{sel:?}");
        }
        assert_eq!(index.namespaces(&selector::from_labels([("kubernetes.io/metadata.name", "shop")])), [ns]);
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(Canonical::of(&expr("app", "In", &["x"])), Canonical::of(&selector::from_labels([("app", "x")])));
        assert_eq!(Canonical::of(&expr("app", "In", &["b", "a"])), Canonical::of(&expr("app", "In", &["a", "b"])));
        assert_ne!(Canonical::of(&expr("app", "In", &["a"])), Canonical::of(&expr("app", "NotIn", &["a"])));
    }
}
