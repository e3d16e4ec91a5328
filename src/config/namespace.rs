//! The namespace of namespaced objects that do not set `metadata.namespace`, and where that
//! choice came from. Every I/O shape and command asks this one function.
//!
//! Precedence: `-n/--namespace`, then a function config's `spec.namespace` (KRM, `--config`),
//! then `$HELM_NAMESPACE`, then `$ARGOCD_APP_NAMESPACE`, then `default`. Neither Helm 3 nor
//! Helm 4 tells a post-renderer the release namespace, so under Helm `-n` is the way.

/// Where the namespace came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `-n/--namespace`.
    Flag,
    /// The function config's `spec.namespace` (`data.namespace` of a ConfigMap).
    FunctionConfig,
    /// `$HELM_NAMESPACE` (set by Helm for plugins).
    HelmEnv,
    /// `$ARGOCD_APP_NAMESPACE` (set by Argo CD for config management plugins).
    ArgoCdEnv,
    /// Nothing named one: `default`.
    Default,
}

/// The namespace for objects without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultNamespace {
    /// The namespace name.
    pub name: String,
    /// Where it came from.
    pub source: Source,
}

impl DefaultNamespace {
    /// A namespace given explicitly (tests, library use).
    pub fn named(name: &str) -> DefaultNamespace {
        DefaultNamespace { name: name.to_string(), source: Source::Flag }
    }

    /// Whether nothing named it: the `default` fallback. Objects netfence generates for input
    /// objects without `metadata.namespace` then carry none either (see
    /// [`crate::core::Context::unplaced_namespace`]).
    pub fn is_fallback(&self) -> bool {
        self.source == Source::Default
    }

    /// Whether the user named it for netfence (flag or function config) rather than it being
    /// taken from the environment or the fallback.
    pub fn is_configured(&self) -> bool {
        matches!(self.source, Source::Flag | Source::FunctionConfig)
    }
}

impl From<&str> for DefaultNamespace {
    fn from(name: &str) -> Self {
        DefaultNamespace::named(name)
    }
}

impl From<String> for DefaultNamespace {
    fn from(name: String) -> Self {
        DefaultNamespace { name, source: Source::Flag }
    }
}

/// Resolves the namespace from the flag and the function config's setting (empty counts as unset).
pub fn resolve(flag: Option<&str>, function_config: Option<&str>) -> DefaultNamespace {
    let env = |name: &str| std::env::var(name).ok();
    let candidates = [
        (flag.map(str::to_string), Source::Flag),
        (function_config.map(str::to_string), Source::FunctionConfig),
        (env("HELM_NAMESPACE"), Source::HelmEnv),
        (env("ARGOCD_APP_NAMESPACE"), Source::ArgoCdEnv),
    ];
    candidates
        .into_iter()
        .find_map(|(name, source)| name.filter(|n| !n.is_empty()).map(|name| DefaultNamespace { name, source }))
        .unwrap_or_else(|| DefaultNamespace { name: "default".into(), source: Source::Default })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_then_function_config() {
        assert_eq!(resolve(Some("a"), Some("b")), DefaultNamespace { name: "a".into(), source: Source::Flag });
        let fc = resolve(Some(""), Some("b"));
        assert_eq!(fc, DefaultNamespace { name: "b".into(), source: Source::FunctionConfig });
        assert!(fc.is_configured());
    }
}
