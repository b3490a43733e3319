//! QEMU as the reference: the streams and dumps real QEMU wrote
//! (`../shared/qemu-fixtures`) and QEMU's own tools (`../shared/qemu-scripts`,
//! run as external programs). Each test says so and passes when the shared
//! folder is absent; CI runs with it present.

use std::path::{Path, PathBuf};
use std::process::Command;

use compat_core::stream::qemu::{analyze_text, QemuStream};

/// `../shared` beside the repository (or `$COMPAT_SHARED`), if present.
fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("COMPAT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    dir.join("qemu-fixtures").is_dir().then_some(dir)
}

fn skip(what: &str) {
    eprintln!("SKIPPED: {what}: ../shared/qemu-fixtures is not beside the repository");
}

fn python_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

const FIXTURES: [&str; 3] = ["base_72to72.mig", "base_10to10.mig", "uncmask_10to72.mig"];

#[test]
fn qemu_streams_read_and_reemit_byte_identical() {
    let Some(shared) = shared() else {
        return skip("reading QEMU's streams");
    };
    for name in FIXTURES {
        let bytes = std::fs::read(shared.join("qemu-fixtures/mig").join(name)).unwrap();
        let stream = QemuStream::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(stream.machine(), Some("pc-q35-7.2"), "{name}");
        let out = stream.to_bytes();
        assert_eq!(out.len(), bytes.len(), "{name}");
        assert!(out == bytes, "{name}: re-emitted bytes differ");
        let sections: Vec<String> = stream
            .sections()
            .map(|(id, h, _)| format!("{} ({id})", h.idstr))
            .collect();
        assert!(sections.iter().any(|s| s.ends_with("/pcie-root-port (37)") || s.ends_with("/pcie-root-port (38)")), "{name}: {sections:?}");
        assert!(
            sections[0].starts_with("ram ("),
            "{name}: RAM first: {sections:?}"
        );
    }
}

#[test]
fn analyze_matches_analyze_migration_py() {
    let Some(shared) = shared() else {
        return skip("comparing with analyze-migration.py");
    };
    if !python_available() {
        eprintln!("SKIPPED: comparing with analyze-migration.py: python3 is not installed");
        return;
    }
    for name in FIXTURES {
        let path = shared.join("qemu-fixtures/mig").join(name);
        let bytes = std::fs::read(&path).unwrap();
        let ours = analyze_text(&QemuStream::parse(&bytes).unwrap().analyze());
        let theirs = Command::new("python3")
            .arg(shared.join("qemu-scripts/analyze-migration.py"))
            .arg("-f")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            theirs.status.success(),
            "{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let theirs = String::from_utf8(theirs.stdout).unwrap();
        if ours != theirs {
            let line = ours
                .lines()
                .zip(theirs.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{name}: first difference at line {}:\n ours:   {:?}\n theirs: {:?}",
                line + 1,
                ours.lines().nth(line),
                theirs.lines().nth(line)
            );
        }
    }
}
