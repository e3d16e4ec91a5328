//! Shell completions and the man page, generated from the clap definition of the command line
//! (`netfence completions bash|zsh|fish|elvish|powershell`, `netfence man`), so they can never
//! disagree with the flags. The Helm plugin archive ships both (scripts/package-helm-plugin.sh).

use clap::{Args, CommandFactory};
use clap_complete::Shell;

/// The version `--version` prints: the crate version and the commit it was built from
/// (`build.rs`; `unknown` outside a git checkout unless `NETFENCE_COMMIT` was set).
pub const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("NETFENCE_COMMIT"), ")");

/// Options of `completions`.
#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut cmd = crate::cli::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "netfence", &mut out);
    out
}

/// The man page `netfence(1)` in roff, with a section per subcommand.
pub fn man_page() -> Vec<u8> {
    let cmd = crate::cli::Cli::command();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone());
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    let _ = man.render_subcommands_section(&mut out);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        // Each subcommand's own options, under a heading of its name.
        let _ = roff_heading(&mut out, &format!("netfence {}", sub.get_name()));
        let sub_man = clap_mangen::Man::new(sub.clone().bin_name(format!("netfence {}", sub.get_name())));
        let mut section = Vec::new();
        let _ = sub_man.render_synopsis_section(&mut section);
        let _ = sub_man.render_options_section(&mut section);
        // Subsections of the command's section, not top-level sections of the page.
        let section = String::from_utf8_lossy(&section)
            .replace(".SH SYNOPSIS", ".SS Synopsis")
            .replace(".SH OPTIONS", ".SS Options");
        out.extend_from_slice(section.as_bytes());
    }
    let _ = man.render_version_section(&mut out);
    out
}

fn roff_heading(out: &mut Vec<u8>, title: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(out, ".SH \"{}\"", title.to_uppercase().replace('"', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_the_commit() {
        assert!(LONG_VERSION.starts_with(env!("CARGO_PKG_VERSION")));
        assert!(LONG_VERSION.contains(" (commit "), "{LONG_VERSION}");
    }

    #[test]
    fn completions_know_the_subcommands_and_flags() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = String::from_utf8(completions(shell)).unwrap();
            for word in ["render", "matrix", "values", "namespace", "completions"] {
                assert!(text.contains(word), "{shell}: no {word}");
            }
        }
    }

    #[test]
    fn man_page_documents_every_subcommand() {
        let text = String::from_utf8(man_page()).unwrap();
        assert!(text.starts_with(".ie \\n(.g .ds Aq") || text.contains(".TH netfence 1"), "{}", &text[..200]);
        for sub in ["NETFENCE RENDER", "NETFENCE MATRIX", "NETFENCE VERIFY", "NETFENCE COMPLETIONS"] {
            assert!(text.contains(sub), "no section {sub}");
        }
        assert!(text.contains(LONG_VERSION), "the version section names the commit");
    }
}
