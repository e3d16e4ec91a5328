//! What netfence appended to a policy of the input, recorded in the policy itself so that a
//! re-render with another configuration removes exactly its own earlier additions:
//! `render(B, render(A, x)) == render(B, x)`.
//!
//! The record is one annotation, [`ADDED_EGRESS`]: `"<n>:<hash>[:<created>]"`, where `n` is the
//! number of egress rules netfence appended at the end of `spec.egress`, `hash` a short stable
//! hash of those rules ([`hash`]), and `created` the letters of the keys netfence created for
//! them (`s` for `spec`, `e` for `spec.egress`, `a` for `metadata.annotations`). Reading a policy,
//! [`original`] gives the policy as it was before netfence touched it; when the trailing rules no
//! longer match the hash (someone edited them), they are left as they are and only the
//! annotation is dropped.

use serde_json::{Map, Value};
use std::hash::Hasher;

/// The annotation recording the egress rules netfence appended.
pub const ADDED_EGRESS: &str = "netfence.dev/added-egress";

/// A short stable hash of `rules` (FNV-1a 64 over their JSON in netfence's key order, first 8
/// hex digits): the same rules give the same hash on every platform and version.
pub fn hash(rules: &[Value]) -> String {
    let mut h = fnv::FnvHasher::default();
    for r in rules {
        h.write(crate::transform::tidy(r.clone()).to_string().as_bytes());
        h.write(b"\n");
    }
    format!("{:016x}", h.finish())[..8].to_string()
}

/// The annotation value for `rules` appended to `original` (the policy before the append).
pub fn record(original: &Value, rules: &[Value]) -> String {
    let spec = original.get("spec").filter(|s| s.is_object());
    let mut created = String::new();
    if spec.is_none() {
        created.push('s');
    }
    if !spec.and_then(|s| s.get("egress")).is_some_and(Value::is_array) {
        created.push('e');
    }
    if !original.pointer("/metadata/annotations").is_some_and(Value::is_object) {
        created.push('a');
    }
    let mut out = format!("{}:{}", rules.len(), hash(rules));
    if !created.is_empty() {
        out.push(':');
        out.push_str(&created);
    }
    out
}

/// `value` with the annotation [`record`] for `rules` set (metadata must be a mapping, else
/// nothing is recorded).
pub fn annotate(value: &mut Value, original: &Value, rules: &[Value]) {
    let recorded = record(original, rules);
    let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    let annotations = metadata.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    if let Some(a) = annotations.as_object_mut() {
        a.insert(ADDED_EGRESS.to_string(), Value::String(recorded));
    }
}

/// What reading a policy's record gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Original {
    /// No record: the policy is all the input's.
    Untouched,
    /// The policy before netfence's additions (the record matched and was removed with them).
    Restored(Value),
    /// The record did not match the policy (its rules were edited): the policy with only the
    /// annotation removed, and why.
    Mismatch(Value, String),
}

/// The policy `value` as it was before netfence appended to it (see [`Original`]).
pub fn original(value: &Value) -> Original {
    let Some(recorded) = value.pointer("/metadata/annotations").and_then(|a| a.get(ADDED_EGRESS)) else {
        return Original::Untouched;
    };
    let mut out = value.clone();
    let mut created = "";
    let restored = recorded.as_str().and_then(|r| {
        let mut parts = r.split(':');
        let n: usize = parts.next()?.parse().ok()?;
        let h = parts.next()?;
        created = parts.next().unwrap_or("");
        let egress = out.pointer_mut("/spec/egress")?.as_array_mut()?;
        let start = egress.len().checked_sub(n)?;
        (hash(&egress[start..]) == h).then(|| egress.truncate(start))
    });
    remove_key(&mut out, &["metadata", "annotations"], ADDED_EGRESS);
    let Some(()) = restored else {
        let why =
            format!("its annotation {ADDED_EGRESS} does not match its last egress rules (edited?): they are kept");
        return Original::Mismatch(out, why);
    };
    if created.contains('a')
        && out.pointer("/metadata/annotations").and_then(Value::as_object).is_some_and(Map::is_empty)
    {
        remove_key(&mut out, &["metadata"], "annotations");
    }
    if created.contains('e') {
        remove_key(&mut out, &["spec"], "egress");
    }
    if created.contains('s') && out.get("spec").and_then(Value::as_object).is_some_and(Map::is_empty) {
        remove_key(&mut out, &[], "spec");
    }
    Original::Restored(out)
}

/// Removes `key` from the mapping at `path`, keeping the order of the other keys.
fn remove_key(value: &mut Value, path: &[&str], key: &str) {
    let mut at = value;
    for p in path {
        let Some(next) = at.get_mut(*p) else { return };
        at = next;
    }
    if let Some(map) = at.as_object_mut() {
        map.shift_remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_restores_the_original_in_every_shape() {
        let rule = json!({"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}]});
        for original_value in [
            json!({"metadata": {"name": "a"}, "spec": {"egress": [{}], "podSelector": {}}}),
            json!({"metadata": {"name": "a", "annotations": {"x": "y"}}, "spec": {"podSelector": {}}}),
            json!({"metadata": {"name": "a"}}),
        ] {
            let mut value = original_value.clone();
            let ops = crate::core::patch::append_egress(&value, vec![rule.clone()]);
            value = crate::core::patch::apply(&value, &ops).unwrap();
            annotate(&mut value, &original_value, std::slice::from_ref(&rule));
            assert_eq!(original(&value), Original::Restored(original_value.clone()), "{value}");
            assert_eq!(
                serde_json::to_string(&match original(&value) {
                    Original::Restored(v) => v,
                    other => panic!("{other:?}"),
                })
                .unwrap(),
                serde_json::to_string(&original_value).unwrap(),
                "key order kept"
            );
            // An edited rule: kept, the annotation dropped.
            let mut edited = value.clone();
            edited["spec"]["egress"].as_array_mut().unwrap().last_mut().unwrap()["to"][0]["ipBlock"]["cidr"] =
                json!("10.99.0.0/16");
            let Original::Mismatch(kept, why) = original(&edited) else { panic!() };
            assert!(kept["metadata"]["annotations"].get(ADDED_EGRESS).is_none());
            assert_eq!(kept["spec"]["egress"], edited["spec"]["egress"]);
            assert!(why.contains("does not match"), "{why}");
        }
        assert_eq!(original(&json!({"metadata": {"name": "a"}})), Original::Untouched);
        assert!(matches!(
            original(&json!({"metadata": {"annotations": {ADDED_EGRESS: "junk"}}})),
            Original::Mismatch(..)
        ));
        assert_eq!(hash(std::slice::from_ref(&rule)), hash(&[rule]), "stable");
    }
}
