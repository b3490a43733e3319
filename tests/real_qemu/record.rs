//! `record-real-qemu`: record what real QEMU does, as the fixtures the tests
//! compare compat with. Run by `scripts/real-qemu/record.sh` after
//! `install.sh`; writes into `tests/fixtures/real-qemu/`.
//!
//! `options`: every case of `option-cases.jsonl` run on QEMU 10.0, the
//! outcome in `options-10.0.json`.

use std::path::{Path, PathBuf};

use compat_tests::real_qemu::{OptionCase, RealQemu, Version};
use serde_json::{json, Value};

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "all".to_owned());
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/real-qemu"));
    let q10 = RealQemu::installed(Version::V10_0)
        .unwrap_or_else(|| fail("QEMU 10.0.2 is not installed: run scripts/real-qemu/install.sh"));
    if matches!(what.as_str(), "options" | "all") {
        record_options(&q10, &dir);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("record-real-qemu: {message}");
    std::process::exit(1);
}

/// Run every option case on QEMU 10.0; write what it did.
fn record_options(qemu: &RealQemu, dir: &Path) {
    let text = std::fs::read_to_string(dir.join("option-cases.jsonl"))
        .unwrap_or_else(|e| fail(&format!("option-cases.jsonl: {e}")));
    let cases = OptionCase::parse_all(&text).unwrap_or_else(|e| fail(&e));
    let mut results = Vec::new();
    for case in &cases {
        let commands: Vec<Value> = case
            .reads
            .iter()
            .map(|(id, property)| {
                json!({"execute": "qom-get", "arguments": {
                    "path": format!("/machine/peripheral/{id}"), "property": property}})
            })
            .collect();
        let outcome = qemu.run(&case.command_line(), &commands);
        let reads: serde_json::Map<String, Value> = case
            .reads
            .iter()
            .zip(&outcome.replies)
            .map(|((id, property), reply)| {
                let value = match reply.get("return") {
                    Some(v) => v.clone(),
                    None => json!({"error": reply["error"]["desc"]}),
                };
                (format!("{id}.{property}"), value)
            })
            .collect();
        results.push(json!({
            "case": case.items,
            "started": outcome.started,
            "exit": outcome.exit,
            "stderr": outcome.stderr,
            "stdout": outcome.stdout,
            "reads": reads,
        }));
    }
    let out = dir.join("options-10.0.json");
    let mut text = serde_json::to_string_pretty(&json!({
        "qemu": qemu.version.full(),
        "cases": results,
    }))
    .expect("JSON");
    text.push('\n');
    std::fs::write(&out, text).unwrap_or_else(|e| fail(&format!("{}: {e}", out.display())));
    eprintln!("{}: {} cases", out.display(), cases.len());
}
