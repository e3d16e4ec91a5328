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
    /// Per namespace: label key → (groups having it, value → groups).
    pod_labels: Vec<HashMap<String, Postings>>,
    /// Labels of each group.
    group_labels: Vec<Labels>,
    /// Label key → (namespaces having it, value → namespaces).
    ns_postings: HashMap<String, Postings>,
}

/// The members carrying a label key, and those carrying each of its values (ascending lists).
#[derive(Debug, Default)]
struct Postings {
    all: Vec<usize>,
    by_value: HashMap<String, Vec<usize>>,
}

impl Postings {
    fn add(&mut self, value: &str, member: usize) {
        self.all.push(member);
        match self.by_value.get_mut(value) {
            Some(list) => list.push(member),
            None => {
                self.by_value.insert(value.to_string(), vec![member]);
            }
        }
    }
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
            self.ns_postings.entry(k.clone()).or_default().add(v, id);
        }
        self.namespace_ids.insert(name.to_string(), id);
        self.namespace_labels.push(labels);
        self.namespace_groups.push(Vec::new());
        self.pod_labels.push(HashMap::new());
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
            match self.pod_labels[ns].get_mut(k.as_str()) {
                Some(p) => p.add(v, g),
                None => self.pod_labels[ns].entry(k.clone()).or_default().add(v, g),
            }
        }
        self.namespace_groups[ns].push(g);
        if self.group_labels.len() <= g {
            self.group_labels.resize(g + 1, Labels::new());
        }
        self.group_labels[g] = labels.clone();
    }

    /// Groups of namespace `ns` that `sel` selects.
    pub fn pods(&self, ns: usize, sel: &LabelSelector) -> Bits {
        let labels = &self.pod_labels[ns];
        let lookup = |k: &str, v: &str| labels.get(k).and_then(|p| p.by_value.get(v));
        let key = |k: &str| labels.get(k).map(|p| &p.all);
        let mut out = Bits::with_capacity(self.group_labels.len());
        for g in evaluate(sel, &self.namespace_groups[ns], lookup, key) {
            out.set(g);
        }
        out
    }

    /// Namespaces `sel` selects.
    pub fn namespaces(&self, sel: &LabelSelector) -> Vec<usize> {
        let all: Vec<usize> = (0..self.namespace_labels.len()).collect();
        let lookup = |k: &str, v: &str| self.ns_postings.get(k).and_then(|p| p.by_value.get(v));
        let key = |k: &str| self.ns_postings.get(k).map(|p| &p.all);
        evaluate(sel, &all, lookup, key)
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

/// The members of `all` (ascending) a selector matches, computed from the index alone: each
/// requirement is the set of members carrying its labels (`matchLabels`, `In`, `Exists`) or its
/// complement (`NotIn`, `DoesNotExist`), and the sets are intersected starting from the smallest
/// positive one. No member's labels are read, so N selectors over N members cost the sizes of
/// the lists they name, not N² label matches.
fn evaluate<'a>(
    sel: &LabelSelector,
    all: &[usize],
    lookup: impl Fn(&str, &str) -> Option<&'a Vec<usize>>,
    key: impl Fn(&str) -> Option<&'a Vec<usize>>,
) -> Vec<usize> {
    enum Req<'a> {
        /// Members in the union of these lists.
        In(Vec<&'a Vec<usize>>),
        /// Members in none of these lists.
        NotIn(Vec<&'a Vec<usize>>),
    }
    let mut reqs: Vec<Req> = Vec::new();
    for (k, v) in sel.match_labels.iter().flatten() {
        reqs.push(Req::In(lookup(k, v).into_iter().collect()));
    }
    for e in sel.match_expressions.iter().flatten() {
        let values = || e.values.iter().flatten().filter_map(|v| lookup(&e.key, v)).collect();
        reqs.push(match e.operator.as_str() {
            "In" => Req::In(values()),
            "NotIn" => Req::NotIn(values()),
            "Exists" => Req::In(key(&e.key).into_iter().collect()),
            "DoesNotExist" => Req::NotIn(key(&e.key).into_iter().collect()),
            // An operator the API server rejects matches nothing (`check` reports it).
            _ => Req::In(Vec::new()),
        });
    }
    let size = |lists: &[&Vec<usize>]| lists.iter().map(|l| l.len()).sum::<usize>();
    // Start from the smallest positive requirement, or from every member.
    let start = reqs.iter().enumerate().filter_map(|(i, r)| match r {
        Req::In(lists) => Some((size(lists), i)),
        Req::NotIn(_) => None,
    });
    let first = start.min();
    let mut members: Vec<usize> = match first {
        Some((_, i)) => {
            let Req::In(lists) = &reqs[i] else { unreachable!("a positive requirement") };
            let mut v: Vec<usize> = lists.iter().flat_map(|l| l.iter().copied()).collect();
            if lists.len() > 1 {
                v.sort_unstable();
                v.dedup();
            }
            v
        }
        None => all.to_vec(),
    };
    for (i, r) in reqs.iter().enumerate() {
        if members.is_empty() {
            break;
        }
        if first.is_some_and(|(_, f)| f == i) {
            continue;
        }
        let (lists, keep_hits) = match r {
            Req::In(lists) => (lists, true),
            Req::NotIn(lists) => (lists, false),
        };
        let hit: std::borrow::Cow<[usize]> = if lists.len() == 1 {
            std::borrow::Cow::Borrowed(lists[0].as_slice())
        } else {
            let mut v: Vec<usize> = lists.iter().flat_map(|l| l.iter().copied()).collect();
            v.sort_unstable();
            v.dedup();
            std::borrow::Cow::Owned(v)
        };
        // Both lists ascending: one merge pass.
        let mut j = 0;
        members.retain(|m| {
            while j < hit.len() && hit[j] < *m {
                j += 1;
            }
            (j < hit.len() && hit[j] == *m) == keep_hits
        });
    }
    members
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
