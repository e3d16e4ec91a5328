//! Confining the files an Application names to the app directory.
//!
//! Whoever can edit an Application chooses `VALUE_FILES`, `CHART_PATH` and the `-f` of
//! `HELM_ARGS`. Helm reads what it is given: an absolute path (the sidecar's service-account
//! token, `/etc/passwd`), a path climbing out of the checkout (another app's secrets), a URL
//! (`https://169.254.169.254/…`: cloud metadata) or `-` (stdin). So every such path must be
//! relative, free of `..`, not a URL, and must resolve — symlinks followed — to a file (or
//! directory) inside the app directory. The canonical path is what Helm then gets, so it reads
//! exactly the file that was checked.

use crate::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// What the path must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A regular file (values files).
    File,
    /// A directory (the chart or kustomization).
    Dir,
}

/// `raw` (from setting `what`) as a canonical path inside `app_dir` (itself canonical), or an
/// error saying why it is refused.
pub fn confine(app_dir: &Path, raw: &str, what: &str, expect: Expect) -> Result<PathBuf> {
    let refuse = |why: &str| Error::config(what, format!("{raw:?} is refused: {why}"));
    if raw.is_empty() {
        return Err(refuse("empty path"));
    }
    if raw == "-" {
        return Err(refuse("`-` would make Helm read stdin; name a file in the app directory"));
    }
    if is_url(raw) {
        return Err(refuse("URLs are not allowed; name a file in the app directory"));
    }
    let path = Path::new(raw);
    if path.is_absolute() || raw.starts_with('~') {
        return Err(refuse("absolute paths are not allowed; give a path relative to the app directory"));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(refuse("`..` is not allowed; the path must stay inside the app directory"));
    }
    let resolved = app_dir.join(path).canonicalize().map_err(|e| refuse(&format!("cannot be read ({e})")))?;
    if !resolved.starts_with(app_dir) {
        return Err(refuse("it resolves (through a symlink) outside the app directory"));
    }
    let ok = match expect {
        Expect::File => resolved.is_file(),
        Expect::Dir => resolved.is_dir(),
    };
    if !ok {
        return Err(refuse(match expect {
            Expect::File => "not a regular file",
            Expect::Dir => "not a directory",
        }));
    }
    Ok(resolved)
}

/// Whether `raw` looks like a URL or a Helm getter reference (`https://…`, `oci://…`,
/// `s3:bucket/key`, `file:…`): a scheme of letters, digits, `+`, `-`, `.` followed by `:`
/// before any `/`. A file name with a colon in its first segment is refused too (rare; it
/// can be renamed).
fn is_url(raw: &str) -> bool {
    let first_segment = raw.split('/').next().unwrap_or_default();
    match first_segment.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(test: &str) -> (PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("netfence-confine-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let app = root.join("app");
        std::fs::create_dir_all(app.join("sub")).unwrap();
        std::fs::write(app.join("values.yaml"), "a: 1\n").unwrap();
        std::fs::write(app.join("sub/v.yaml"), "a: 1\n").unwrap();
        std::fs::write(root.join("secret.yaml"), "token: x\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", app.join("passwd.yaml")).unwrap();
        std::os::unix::fs::symlink("../secret.yaml", app.join("escape.yaml")).unwrap();
        std::os::unix::fs::symlink("sub/v.yaml", app.join("inside.yaml")).unwrap();
        (app.canonicalize().unwrap(), root)
    }

    #[test]
    fn files_inside_the_app_directory_are_allowed() {
        let (app, root) = app("ok");
        let ok = |raw: &str| confine(&app, raw, "VALUE_FILES", Expect::File).unwrap();
        assert_eq!(ok("values.yaml"), app.join("values.yaml"));
        assert_eq!(ok("./sub/v.yaml"), app.join("sub/v.yaml"));
        assert_eq!(ok("inside.yaml"), app.join("sub/v.yaml"), "a symlink inside the app is followed");
        assert_eq!(confine(&app, ".", "CHART_PATH", Expect::Dir).unwrap(), app);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn escapes_are_refused_with_the_reason() {
        let (app, root) = app("err");
        let err = |raw: &str| confine(&app, raw, "VALUE_FILES", Expect::File).unwrap_err().to_string();
        for (raw, why) in [
            ("/etc/passwd", "absolute"),
            ("/var/run/secrets/kubernetes.io/serviceaccount/token", "absolute"),
            ("../x", "`..`"),
            ("sub/../../secret.yaml", "`..`"),
            ("https://169.254.169.254/latest/meta-data/", "URL"),
            ("http://example.com/v.yaml", "URL"),
            ("oci://registry/chart", "URL"),
            ("s3:bucket/values.yaml", "URL"),
            ("file:/etc/passwd", "URL"),
            ("-", "stdin"),
            ("~/values.yaml", "absolute"),
            ("passwd.yaml", "outside the app directory"),
            ("escape.yaml", "outside the app directory"),
            ("missing.yaml", "cannot be read"),
            ("sub", "not a regular file"),
            ("", "empty"),
        ] {
            let msg = err(raw);
            assert!(msg.starts_with("VALUE_FILES: ") && msg.contains(why), "{raw}: {msg}");
        }
        std::fs::remove_dir_all(root).unwrap();
    }
}
