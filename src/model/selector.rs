//! Kubernetes label selectors (`matchLabels` + `matchExpressions`), evaluated exactly as the API
//! server does: all requirements ANDed, an empty selector matches everything.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// A set of labels (a pod's or a namespace's).
pub type Labels = BTreeMap<String, String>;

/// Whether `selector` selects an object with `labels`.
///
/// An unknown operator matches nothing, which is what the API server would do had it accepted
/// the object (it rejects it instead); `netfence check` reports such selectors.
pub fn matches(selector: &LabelSelector, labels: &Labels) -> bool {
    let labels_ok = selector.match_labels.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
    labels_ok
        && selector.match_expressions.iter().flatten().all(|req| {
            let value = labels.get(&req.key);
            let values = req.values.as_deref().unwrap_or_default();
            match req.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
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

/// The labels every namespace carries automatically (`kubernetes.io/metadata.name`, set by the
/// API server since Kubernetes 1.21), merged with the labels of its `Namespace` object if any.
pub fn namespace_labels(name: &str, declared: Option<&Labels>) -> Labels {
    let mut labels = declared.cloned().unwrap_or_default();
    labels.insert("kubernetes.io/metadata.name".into(), name.into());
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

    #[test]
    fn empty_selects_all_and_labels_are_anded() {
        assert!(matches(&LabelSelector::default(), &labels(&[])));
        let sel = from_labels([("a", "1"), ("b", "2")]);
        assert!(matches(&sel, &labels(&[("a", "1"), ("b", "2"), ("c", "3")])));
        assert!(!matches(&sel, &labels(&[("a", "1")])));
    }

    #[test]
    fn expressions() {
        let l = labels(&[("tier", "web")]);
        assert!(matches(&expr("tier", "In", &["web", "db"]), &l));
        assert!(!matches(&expr("tier", "NotIn", &["web"]), &l));
        assert!(matches(&expr("env", "NotIn", &["prod"]), &l));
        assert!(matches(&expr("tier", "Exists", &[]), &l));
        assert!(matches(&expr("env", "DoesNotExist", &[]), &l));
        assert!(!matches(&expr("tier", "Bogus", &[]), &l));
    }
}
