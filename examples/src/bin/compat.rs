//! `compat`: the command-line face of the framework, on the example
//! releases.

use std::process::ExitCode;

fn main() -> ExitCode {
    compat_core::tools::cli::main(&compat_examples::catalog::catalog())
}
