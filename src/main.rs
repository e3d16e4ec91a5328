//! The `netfence` binary: everything lives in the library; see [`netfence::cli`].

fn main() -> std::process::ExitCode {
    netfence::cli::main()
}
