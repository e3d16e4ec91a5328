//! Kubernetes label selectors (`matchLabels` + `matchExpressions`), evaluated exactly as the API
//! server does: all requirements ANDed, an empty selector matches everything.
//!
//! [`Selector`] is a selector parsed once into typed requirements (kube-core's `Selector` is the
//! model; it is not used because it cannot represent a selector the API server would reject,
//! which netfence must still read, match as nothing and report, and it would pull in a second
//! JSON Patch version). [`matches`] evaluates a k8s-openapi `LabelSelector` in place with the same
//! rules, for code that holds the raw type.

use super::NAMESPACE_NAME_LABEL;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// A set of labels (a pod's or a namespace's).
pub type Labels = BTreeMap<String, String>;

/// A `matchExpressions` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// The label is set to one of the values (`matchLabels` entries are `In` one value).
    In,
    /// The label is unset or set to none of the values.
    NotIn,
    /// The label is set.
    Exists,
    /// The label is unset.
    DoesNotExist,
    /// An operator the API server rejects: the requirement matches nothing.
    Invalid,
}

impl Operator {
    /// Reads an operator as the API server spells it.
    pub fn parse(text: &str) -> Operator {
        match text {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            _ => Operator::Invalid,
        }
    }

    /// Whether a label with `value` (`None`: unset) satisfies this operator over `values`.
    fn holds(self, value: Option<&String>, values: &[String]) -> bool {
        match self {
            Operator::In => value.is_some_and(|v| values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::Invalid => false,
        }
    }
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// How the label's value is tested.
    pub operator: Operator,
    /// The values (sorted, without duplicates; empty for `Exists`/`DoesNotExist`).
    pub values: Vec<String>,
}

impl Requirement {
    /// Whether `labels` satisfy the requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.operator.holds(labels.get(&self.key), &self.values)
    }
}

/// A label selector parsed once: `matchLabels` and `matchExpressions` as one list of
/// requirements, in a canonical order (so equal selectors compare equal however written).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// Parses a k8s-openapi selector.
    pub fn parse(selector: &LabelSelector) -> Selector {
        let labels = selector.match_labels.iter().flatten().map(|(k, v)| Requirement {
            key: k.clone(),
            operator: Operator::In,
            values: vec![v.clone()],
        });
        let expressions = selector.match_expressions.iter().flatten().map(|e| {
            let mut values = e.values.clone().unwrap_or_default();
            values.sort();
            values.dedup();
            Requirement { key: e.key.clone(), operator: Operator::parse(&e.operator), values }
        });
        let mut requirements: Vec<Requirement> = labels.chain(expressions).collect();
        requirements.sort();
        requirements.dedup();
        Selector { requirements }
    }

    /// A selector of exactly these labels (`matchLabels`).
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> Selector {
        Selector::parse(&from_labels(labels))
    }

    /// The selector of one namespace by name ([`NAMESPACE_NAME_LABEL`]).
    pub fn namespace(name: &str) -> Selector {
        Selector::from_labels([(NAMESPACE_NAME_LABEL, name)])
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether the selector has no requirement, i.e. selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements, in canonical order.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }
}

impl From<&LabelSelector> for Selector {
    fn from(selector: &LabelSelector) -> Self {
        Selector::parse(selector)
    }
}

/// Whether `selector` selects an object with `labels` (the rules of [`Selector`], evaluated on
/// the raw type without parsing it).
///
/// An unknown operator matches nothing, which is what the API server would do had it accepted
/// the object (it rejects it instead); `netfence check` reports such selectors.
pub fn matches(selector: &LabelSelector, labels: &Labels) -> bool {
    let labels_ok = selector.match_labels.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
    labels_ok
        && selector.match_expressions.iter().flatten().all(|req| {
            Operator::parse(&req.operator).holds(labels.get(&req.key), req.values.as_deref().unwrap_or_default())
        })
}

/// Whether the selector has no requirement at all (`{}`), i.e. selects everything.
pub fn is_empty(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector.match_expressions.as_ref().is_none_or(|e| e.is_empty())
}

/// A selector with just `matchLabels`.
pub fn from_labels<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        match_expressions: None,
    }
}

/// The `namespaceSelector` of one namespace by name ([`NAMESPACE_NAME_LABEL`]).
pub fn namespace_selector(name: &str) -> LabelSelector {
    from_labels([(NAMESPACE_NAME_LABEL, name)])
}

/// The labels every namespace carries automatically ([`NAMESPACE_NAME_LABEL`]), merged with the
/// labels of its `Namespace` object if any.
pub fn namespace_labels(name: &str, declared: Option<&Labels>) -> Labels {
    let mut labels = declared.cloned().unwrap_or_default();
    labels.insert(NAMESPACE_NAME_LABEL.into(), name.into());
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

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

    /// Both evaluations agree.
    fn both(sel: &LabelSelector, l: &Labels) -> bool {
        let raw = matches(sel, l);
        assert_eq!(Selector::parse(sel).matches(l), raw, "{sel:?} on {l:?}");
        raw
    }

    #[test]
    fn empty_selects_all_and_labels_are_anded() {
        assert!(both(&LabelSelector::default(), &labels(&[])));
        assert!(Selector::parse(&LabelSelector::default()).is_empty());
        let sel = from_labels([("a", "1"), ("b", "2")]);
        assert!(both(&sel, &labels(&[("a", "1"), ("b", "2"), ("c", "3")])));
        assert!(!both(&sel, &labels(&[("a", "1")])));
    }

    #[test]
    fn expressions() {
        let l = labels(&[("tier", "web")]);
        assert!(both(&expr("tier", "In", &["web", "db"]), &l));
        assert!(!both(&expr("tier", "NotIn", &["web"]), &l));
        assert!(both(&expr("env", "NotIn", &["prod"]), &l));
        assert!(both(&expr("tier", "Exists", &[]), &l));
        assert!(both(&expr("env", "DoesNotExist", &[]), &l));
        assert!(!both(&expr("tier", "Bogus", &[]), &l));
    }

    #[test]
    fn equal_selectors_compare_equal_however_written() {
        let a = from_labels([("app", "web")]);
        let b = expr("app", "In", &["web"]);
        assert_eq!(Selector::parse(&a), Selector::parse(&b));
        assert_eq!(Selector::namespace("shop").requirements()[0].key, NAMESPACE_NAME_LABEL);
    }
}
