//! Edits as RFC 6902 JSON Patch operations on a document: building them ([`append_egress`],
//! [`diff`]), moving them into a List document ([`under`]) and applying them ([`apply`]).
//!
//! Only operations that keep the key order of the result are produced (`add` of a new key
//! appends it, `add`/`replace` of an existing key keeps its place), so the patched value
//! serialises exactly as the intended output. Arrays lose items only at their end (`remove` of
//! the items after the part kept, last first). Objects never get `remove` (serde_json's ordered
//! map would move the last key into the hole): a changed object whose keys went away is replaced
//! whole.

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation, RemoveOperation, ReplaceOperation};
use serde_json::Value;

/// The pointer of `tokens` below `base`.
fn pointer(base: &PointerBuf, tokens: &[&str]) -> PointerBuf {
    let mut p = base.clone();
    for t in tokens {
        p.push_back(*t);
    }
    p
}

fn add(path: PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Add(AddOperation { path, value })
}

fn replace(path: PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Replace(ReplaceOperation { path, value })
}

fn remove(path: PointerBuf) -> PatchOperation {
    PatchOperation::Remove(RemoveOperation { path })
}

/// Operations appending `rules` to the `spec.egress` of the policy object `policy`: one
/// `add …/egress/-` per rule when `egress` is a list, else one `add` of the list (creating
/// `spec` too when it is missing or not an object).
pub fn append_egress(policy: &Value, rules: Vec<Value>) -> Vec<PatchOperation> {
    let root = PointerBuf::root();
    match policy.get("spec") {
        Some(Value::Object(spec)) => match spec.get("egress") {
            Some(Value::Array(_)) => {
                rules.into_iter().map(|r| add(pointer(&root, &["spec", "egress", "-"]), r)).collect()
            }
            _ => vec![add(pointer(&root, &["spec", "egress"]), Value::Array(rules))],
        },
        _ => vec![add(pointer(&root, &["spec"]), serde_json::json!({ "egress": rules }))],
    }
}

/// Operations turning `old` into `new` (exactly, key order included).
pub fn diff(old: &Value, new: &Value) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    diff_at(old, new, &PointerBuf::root(), &mut ops);
    ops
}

fn diff_at(old: &Value, new: &Value, path: &PointerBuf, ops: &mut Vec<PatchOperation>) {
    if same(old, new) {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            // Recurse only when `b` keeps all of `a`'s keys, in `a`'s order, new keys after them.
            let kept = a.keys().zip(b.keys()).all(|(x, y)| x == y) && b.len() >= a.len();
            if !kept {
                return ops.push(replace(path.clone(), new.clone()));
            }
            for (key, value) in b {
                let child = pointer(path, &[key]);
                match a.get(key) {
                    Some(old_value) => diff_at(old_value, value, &child, ops),
                    None => ops.push(add(child, value.clone())),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            // Items after the common beginning are removed (last first) and the new ones
            // appended: netfence's earlier additions give way to this run's.
            let common = a.iter().zip(b).take_while(|(x, y)| same(x, y)).count();
            if common == 0 && !a.is_empty() && !b.is_empty() {
                return ops.push(replace(path.clone(), new.clone()));
            }
            for i in (common..a.len()).rev() {
                ops.push(remove(pointer(path, &[&i.to_string()])));
            }
            for item in &b[common..] {
                ops.push(add(pointer(path, &["-"]), item.clone()));
            }
        }
        _ => ops.push(replace(path.clone(), new.clone())),
    }
}

/// Equal, and with the same key order everywhere (`Value`'s own `==` ignores key order).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k1, v1), (k2, v2))| k1 == k2 && same(v1, v2))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v1, v2)| same(v1, v2)),
        _ => a == b,
    }
}

/// The one operation that removes the whole value it applies to (path `""`; moved under a
/// List item's prefix by [`under`], the removal of that item).
pub fn remove_whole() -> Vec<PatchOperation> {
    vec![remove(PointerBuf::root())]
}

/// The operations moved below `prefix` (an object inside a List document: `/items/3`).
pub fn under(prefix: &[&str], ops: Vec<PatchOperation>) -> Vec<PatchOperation> {
    if prefix.is_empty() {
        return ops;
    }
    let base = pointer(&PointerBuf::root(), prefix);
    ops.into_iter()
        .map(|op| match op {
            PatchOperation::Add(o) => add(base.concat(&o.path), o.value),
            PatchOperation::Replace(o) => replace(base.concat(&o.path), o.value),
            PatchOperation::Remove(o) => remove(base.concat(&o.path)),
            other => other,
        })
        .collect()
}

/// `value` with `ops` applied. An operation that does not fit the document is a bug in
/// netfence, reported as such rather than written.
pub fn apply(value: &Value, ops: &[PatchOperation]) -> Result<Value, String> {
    let mut out = value.clone();
    json_patch::patch(&mut out, ops).map_err(|e| format!("internal error: netfence's own edit does not apply: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(old: Value, new: Value) -> Vec<PatchOperation> {
        let ops = diff(&old, &new);
        let out = apply(&old, &ops).unwrap();
        assert!(same(&out, &new), "{out} != {new} via {ops:?}");
        ops
    }

    #[test]
    fn diff_reproduces_the_new_value_with_its_key_order() {
        assert!(roundtrip(json!({"a": 1}), json!({"a": 1})).is_empty());
        let ops = roundtrip(json!({"a": {"x": 1}, "b": [1]}), json!({"a": {"x": 2, "y": 3}, "b": [1, 2]}));
        assert_eq!(
            serde_json::to_value(&ops).unwrap(),
            json!([
                {"op": "replace", "path": "/a/x", "value": 2},
                {"op": "add", "path": "/a/y", "value": 3},
                {"op": "add", "path": "/b/-", "value": 2},
            ])
        );
        // Reordered or removed keys: the object is replaced whole.
        let ops = roundtrip(json!({"m": {"a": 1, "b": 2}}), json!({"m": {"b": 2, "a": 1}}));
        assert_eq!(ops.len(), 1);
        roundtrip(json!({"m": {"a": 1, "b": 2}}), json!({"m": {"a": 1}}));
        roundtrip(json!({"a/b": {"~": 1}}), json!({"a/b": {"~": 2}}));
        // Arrays: the items after the common beginning removed, last first, the new appended.
        let ops = roundtrip(json!({"e": [1, 2, 3]}), json!({"e": [1, 4]}));
        assert_eq!(
            serde_json::to_value(&ops).unwrap(),
            json!([
                {"op": "remove", "path": "/e/2"},
                {"op": "remove", "path": "/e/1"},
                {"op": "add", "path": "/e/-", "value": 4},
            ])
        );
        roundtrip(json!([1, 2]), json!([3]));
        roundtrip(json!([1, 2]), json!([]));
    }

    #[test]
    fn appending_egress_in_every_shape_of_spec() {
        let rule = json!({"to": []});
        for (old, new) in [
            (json!({"spec": {"egress": [{}]}}), json!({"spec": {"egress": [{}, rule]}})),
            (json!({"spec": {"podSelector": {}}}), json!({"spec": {"podSelector": {}, "egress": [rule]}})),
            (json!({"spec": {"egress": null, "x": 1}}), json!({"spec": {"egress": [rule], "x": 1}})),
            (json!({"kind": "NetworkPolicy"}), json!({"kind": "NetworkPolicy", "spec": {"egress": [rule]}})),
            (json!({"spec": null}), json!({"spec": {"egress": [rule]}})),
        ] {
            let out = apply(&old, &append_egress(&old, vec![rule.clone()])).unwrap();
            assert!(same(&out, &new), "{old} -> {out}");
        }
        let list = json!({"items": [{}, {"spec": {"egress": []}}]});
        let ops = under(&["items", "1"], append_egress(&list["items"][1], vec![rule.clone()]));
        assert_eq!(apply(&list, &ops).unwrap()["items"][1]["spec"]["egress"], json!([rule]));
    }
}
