//! Verifying a release against the lock files of a directory, for a
//! device crate's own `cargo test`, and keeping the release's own lock.

use std::fmt;

use super::{own_streams, verify_locks, Finding};
use crate::migration::lock::Lock;
use crate::release::Release;

/// The environment variable that makes [`assert_locks`] write the current
/// release's lock (after a release, on purpose), as trybuild's and insta's
/// overwrite modes do: `COMPAT_LOCK=overwrite`.
pub const LOCK_ENV: &str = "COMPAT_LOCK";

/// For a device crate's own `cargo test`: verify `release` against every
/// lock in `dir` (files named `*.lock.json`) of an earlier release, and
/// keep `dir/<release>.lock.json` as what this release promises.
///
/// The release is also checked against itself ([`own_streams`]).
///
/// Panics with a readable report when a finding is made; when this
/// release's own lock is missing or no longer what the release promises
/// (written then, for review, and the test fails), unless `COMPAT_LOCK=
/// overwrite` says to write it.
pub fn assert_locks(release: &Release, dir: impl AsRef<std::path::Path>) {
    if let Err(report) = check_locks(release, dir.as_ref(), overwrite()) {
        panic!("{report}");
    }
}

fn overwrite() -> bool {
    std::env::var(LOCK_ENV).is_ok_and(|v| v == "overwrite")
}

/// [`assert_locks`] as a value: the report, or `Ok` with nothing to say.
pub fn check_locks(
    release: &Release,
    dir: &std::path::Path,
    overwrite: bool,
) -> Result<(), String> {
    let mut report = String::new();
    let own = dir.join(format!("{}.lock.json", release.name()));
    let live = Lock::of(release);
    let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".lock.json"))
        .collect();
    entries.sort();
    for path in entries.iter().filter(|p| **p != own) {
        let text = crate::codec::input::read_text(path, crate::codec::input::JSON_FILE_LIMIT)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let lock = Lock::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let findings = verify_locks(&live, &lock);
        if !findings.is_empty() {
            let _ = writeln_report(&mut report, release, &lock, path, &findings);
        }
    }
    let unloadable = own_streams(release);
    if !unloadable.is_empty() {
        report.push_str(&format!(
            "release {} cannot load every stream it saves: {} finding(s)\n",
            release.name(),
            unloadable.len()
        ));
        report.push_str(&indented(&unloadable));
    }
    let current = std::fs::read_to_string(&own).ok();
    let text = live.to_json();
    if overwrite || current.is_none() {
        std::fs::write(&own, &text).map_err(|e| format!("{}: {e}", own.display()))?;
        if current.is_none() && !overwrite {
            report.push_str(&format!(
                "wrote {}: the lock of release {} was missing; review and commit it\n",
                own.display(),
                release.name()
            ));
        }
    } else if current.as_deref() != Some(text.as_str()) {
        report.push_str(&format!(
            "{} is no longer what release {} promises; if the change is meant (before the \
             release ships), run the tests with {LOCK_ENV}=overwrite and commit the lock\n",
            own.display(),
            release.name()
        ));
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

fn writeln_report(
    out: &mut String,
    release: &Release,
    lock: &Lock,
    path: &std::path::Path,
    findings: &[Finding],
) -> fmt::Result {
    use std::fmt::Write as _;
    writeln!(
        out,
        "release {} against the lock of release {} ({}): {} finding(s)",
        release.name(),
        lock.release,
        path.display(),
        findings.len()
    )?;
    out.push_str(&indented(findings));
    Ok(())
}

/// Findings as a report's body: each finding's lines indented by two
/// spaces.
pub fn indented(findings: &[Finding]) -> String {
    findings
        .iter()
        .flat_map(|f| {
            f.to_string()
                .lines()
                .map(|line| format!("  {line}\n"))
                .collect::<Vec<_>>()
        })
        .collect()
}
