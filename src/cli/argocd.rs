//! `netfence argocd init|generate|discover`: the commands of the Argo CD plugin
//! (functions/argocd/plugin.yaml); the work is in [`crate::argocd`].

use crate::argocd;
use crate::error::{Error, Result};
use clap::Subcommand;
use std::io::Write;

/// The plugin's commands (plugin.yaml's `init`, `generate` and `discover.find`).
#[derive(Debug, Clone, Subcommand)]
pub enum ArgocdCommand {
    /// Fetch the chart's dependencies when Chart.yaml declares some and charts/ is empty.
    Init,
    /// Render the app (Helm or kustomize) and add the network policies; print the manifests.
    Generate,
    /// Print the file that makes this app netfence's (apps that opt in with NETFENCE=true in
    /// plugin.env or a `.netfence` file, and hold a chart or a kustomization); else nothing.
    Discover,
}

/// Runs one plugin command in the current directory (the app's); returns the exit code.
pub fn run(command: &ArgocdCommand) -> Result<u8> {
    let app_dir = argocd::app_dir()?;
    let output = match command {
        ArgocdCommand::Init => {
            argocd::init(&app_dir)?;
            Vec::new()
        }
        ArgocdCommand::Generate => argocd::generate(&app_dir)?,
        ArgocdCommand::Discover => {
            argocd::discover(&app_dir).map(|f| format!("{f}\n").into_bytes()).unwrap_or_default()
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&output)
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Io { what: "writing the output".into(), source })?;
    Ok(0)
}
