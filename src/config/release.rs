//! The release netfence renders for, and the per-release names of the objects it generates.
//!
//! Two Helm releases (or Argo CD apps) in one namespace must not render the same object: Helm's
//! ownership check would reject the second install, and uninstalling the first would take the
//! shared baseline with it. So when a release is known, generated objects are named
//! `netfence-<release>-<what>` (`netfence-shop-default-deny`); when none is known they keep
//! the release-less names (`netfence-default-deny`), so existing output does not change.
//!
//! Precedence: `--release`, then a function config's `spec.release` (KRM, `--config`), then
//! `$NETFENCE_RELEASE`, then `$ARGOCD_APP_NAME` (set by Argo CD for config management plugins),
//! then the one `app.kubernetes.io/instance` label value (else legacy `release` label value)
//! that the input's labelled objects share (Helm charts set it to the release name; neither
//! Helm 3 nor Helm 4 tells a post-renderer the release name). Several different values: no
//! release, with a warning.
//!
//! The value ends up in object names, so it is checked and normalised: letters, digits, `-`,
//! `.` and `_` (label values and Argo CD's `<namespace>_<app>` names), starting and ending with
//! a letter or digit; lower-cased, `.` and `_` become `-`. Anything else is an error naming
//! where the value came from. Names longer than 63 characters are cut, with a short stable hash
//! of the whole name appended ([`fit`]).

use crate::error::{Error, Result};

/// The longest generated name: a DNS-1123 label (what Helm, kubectl and most tools accept for
/// names, and what the `-2` suffixes of [`crate::transform::naming`] keep valid).
pub const MAX_NAME: usize = 63;

/// The prefix of every name netfence generates.
pub const NAME_PREFIX: &str = "netfence-";

/// The environment variable naming the release.
pub const ENV: &str = "NETFENCE_RELEASE";

/// The environment variable Argo CD sets to the app name for config management plugins.
pub const ARGOCD_ENV: &str = "ARGOCD_APP_NAME";

/// The labels a chart's objects carry with the release name, preferred first.
pub const LABELS: [&str; 2] = ["app.kubernetes.io/instance", "release"];

/// A release name given explicitly (flag, function config, environment), checked and
/// normalised; `None` when none was given (the input's labels may still name one, see
/// [`from_labels`]). Empty values count as unset.
pub fn resolve(flag: Option<&str>, function_config: Option<&str>) -> Result<Option<String>> {
    let env = |name: &str| std::env::var(name).ok();
    let candidates = [
        (flag.map(str::to_string), "--release"),
        (function_config.map(str::to_string), "functionConfig spec.release"),
        (env(ENV), "$NETFENCE_RELEASE"),
        (env(ARGOCD_ENV), "$ARGOCD_APP_NAME"),
    ];
    match candidates.into_iter().find_map(|(v, source)| v.filter(|v| !v.is_empty()).map(|v| (v, source))) {
        Some((value, source)) => normalise(&value, source).map(Some),
        None => Ok(None),
    }
}

/// The release the input's labels name: `values` are the distinct values of the preferred label
/// present (`label`), with where each was first seen. One value: that release; several: `None`
/// and a warning (netfence cannot tell which release the objects belong to).
pub fn from_labels(label: &str, values: &[(String, String)]) -> Result<Option<String>> {
    match values {
        [] => Ok(None),
        [(value, seen)] => normalise(value, &format!("label {label} of {seen}")).map(Some),
        several => {
            let names: Vec<&str> = several.iter().map(|(v, _)| v.as_str()).take(5).collect();
            tracing::warn!(
                "the input's objects carry {} different {label} labels ({}): generated objects keep release-less \
                 names; pass --release to name them per release",
                several.len(),
                names.join(", ")
            );
            Ok(None)
        }
    }
}

/// Checks `value` and normalises it for names (see the module docs); `source` says where it
/// came from, for the error.
pub fn normalise(value: &str, source: &str) -> Result<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    let ends_ok =
        value.starts_with(|c: char| c.is_ascii_alphanumeric()) && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    if value.is_empty() || value.len() > 253 || !ends_ok || !value.chars().all(allowed) {
        let shown: String = value.chars().take(80).collect();
        return Err(Error::config(
            source,
            format!(
                "{shown:?} is not a release name (letters, digits, '-', '.', '_', starting and ending with a \
                 letter or digit, at most 253 characters)"
            ),
        ));
    }
    Ok(value.chars().map(|c| if matches!(c, '.' | '_') { '-' } else { c.to_ascii_lowercase() }).collect())
}

/// The name of a generated object with base name `base` (`netfence-default-deny`) for
/// `release`: `netfence-<release>-default-deny`, or `base` when no release is known; then
/// [`fit`].
pub fn name(base: &str, release: Option<&str>) -> String {
    let full = match (release, base.strip_prefix(NAME_PREFIX)) {
        (Some(r), Some(rest)) => format!("{NAME_PREFIX}{r}-{rest}"),
        (Some(r), None) => format!("{NAME_PREFIX}{r}-{base}"),
        (None, _) => base.to_string(),
    };
    fit(&full)
}

/// `name` if it is at most [`MAX_NAME`] characters; else its first characters, then `-` and the
/// first 8 hex digits of a stable hash (FNV-1a-64) of the whole name, so that two long names
/// differing only at the end stay different and a re-render gives the same name.
pub fn fit(name: &str) -> String {
    if name.len() <= MAX_NAME {
        return name.to_string();
    }
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(name.as_bytes());
    let hash = format!("{:016x}", h.finish());
    // Names are ASCII here (normalised releases, generated bases); cut on a char boundary anyway.
    let mut cut = MAX_NAME - 9;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = name[..cut].trim_end_matches(['-', '.']);
    format!("{head}-{}", &hash[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_per_release_are_short_valid_and_stable() {
        assert_eq!(name("netfence-default-deny", None), "netfence-default-deny");
        assert_eq!(name("netfence-default-deny", Some("shop")), "netfence-shop-default-deny");
        assert_eq!(name("netfence-allow-dns", Some("a")), "netfence-a-allow-dns");
        let long = name("netfence-workload-a-very-long-workload-name-from-a-chart", Some("my-release-name"));
        assert_eq!(long.len(), MAX_NAME, "{long}");
        assert!(long.starts_with("netfence-my-release-name-workload-a-very-long-"), "{long}");
        assert_eq!(long, name("netfence-workload-a-very-long-workload-name-from-a-chart", Some("my-release-name")));
        let other = name("netfence-workload-a-very-long-workload-name-from-a-chart-2", Some("my-release-name"));
        assert_ne!(long, other, "names differing at the end stay different");
        // A DNS-1123 label: lower-case alphanumerics and '-', alphanumeric at both ends.
        for n in [&long, &other, &fit(&format!("netfence-{}-x", "a".repeat(60)))] {
            assert!(n.len() <= MAX_NAME);
            assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{n}");
            assert!(!n.ends_with('-') && !n.starts_with('-'), "{n}");
        }
        // Cut before a '-': the '-' goes, the hash follows one separator.
        let cut = fit(&format!("{}-{}", "a".repeat(53), "b".repeat(20)));
        assert!(!cut.contains("--") && cut.len() <= MAX_NAME, "{cut}");
    }

    #[test]
    fn release_values_are_checked_and_normalised() {
        assert_eq!(normalise("shop", "--release").unwrap(), "shop");
        assert_eq!(normalise("argocd_My.App", "$ARGOCD_APP_NAME").unwrap(), "argocd-my-app");
        for bad in ["", "-x", "x-", "a b", "a/b", "a\nb", "ä", "$(id)", "--post-renderer=x", &"a".repeat(254)] {
            let e = normalise(bad, "--release").unwrap_err().to_string();
            assert!(e.contains("--release") && e.contains("is not a release name") && !e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn one_label_value_names_the_release_several_do_not() {
        let seen = |v: &str| (v.to_string(), "document 1 (Service/web)".to_string());
        assert_eq!(from_labels("app.kubernetes.io/instance", &[]).unwrap(), None);
        assert_eq!(from_labels("app.kubernetes.io/instance", &[seen("Shop")]).unwrap().as_deref(), Some("shop"));
        assert_eq!(from_labels("release", &[seen("a"), seen("b")]).unwrap(), None);
        let e = from_labels("release", &[seen("a b")]).unwrap_err().to_string();
        assert!(e.contains("label release of document 1 (Service/web)"), "{e}");
    }
}
