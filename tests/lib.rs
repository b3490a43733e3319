//! What the workspace tests share: QEMU's fixtures and scripts beside the
//! repository, used as oracles.

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod real_qemu;

/// Whether the environment says the oracles must run (CI sets it when
/// `../shared` is beside the clone).
fn required() -> bool {
    std::env::var_os("COMPAT_REQUIRE_SHARED").is_some()
}

/// Skip a test of `what` because `why`: say so, or fail when the oracles
/// are required.
fn skip(what: &str, why: &str) {
    assert!(
        !required(),
        "COMPAT_REQUIRE_SHARED is set, but {what}: {why}"
    );
    eprintln!("SKIPPED: {what}: {why}");
}

/// `../shared` beside the repository (or `$COMPAT_SHARED`), with QEMU's
/// fixtures and scripts, for a test of `what`; `None` after saying it is
/// skipped when they are not there.
pub fn shared(what: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("COMPAT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let complete = ["qemu-fixtures", "qemu-scripts"]
        .iter()
        .all(|d| dir.join(d).is_dir());
    if complete {
        Some(dir)
    } else {
        skip(
            what,
            "../shared/qemu-fixtures and qemu-scripts are not beside the repository",
        );
        None
    }
}

/// Whether `python3` runs, for a test of `what` that runs QEMU's scripts;
/// `false` after saying it is skipped.
pub fn python(what: &str) -> bool {
    let runs = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !runs {
        skip(what, "python3 is not installed");
    }
    runs
}
