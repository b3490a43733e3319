//! `my-vmm-compat`: the `compat` command over my-vmm's releases.

fn main() -> std::process::ExitCode {
    compat_core::tools::cli::main(&my_vmm::catalog())
}
