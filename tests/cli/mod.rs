//! The `compat` command of the example releases, run in the test's own
//! process: exit status, standard output, standard error.

/// Run `args` (the program name first); its exit status and output.
pub fn run(args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = compat_core::tools::cli::run(
        &compat_examples::catalog::catalog(),
        args.iter().map(std::ffi::OsString::from),
        &mut out,
        &mut err,
    );
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}
