//! The option table recorded from real QEMU 10.0
//! (`tests/fixtures/real-qemu/options-10.0.json`, written by
//! `scripts/real-qemu/record.sh`): still what the installed QEMU does.

use compat_tests::real_qemu::{OptionCase, RealQemu, Version};
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/real-qemu")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn recorded_table_is_what_qemu_10_does() {
    let Some(qemu) = RealQemu::for_test(Version::V10_0, "re-running the option table") else {
        return;
    };
    let cases = OptionCase::parse_all(&fixture("option-cases.jsonl")).unwrap();
    let recorded: Value = serde_json::from_str(&fixture("options-10.0.json")).unwrap();
    let recorded = recorded["cases"].as_array().unwrap();
    assert_eq!(
        recorded.len(),
        cases.len(),
        "re-record: scripts/real-qemu/record.sh"
    );
    // Every fifth case: the whole table takes QEMU about ten seconds.
    for (case, want) in cases.iter().zip(recorded).step_by(5) {
        assert_eq!(want["case"], serde_json::json!(case.items));
        let outcome = qemu.run(&case.command_line(), &[]);
        assert_eq!(
            Value::from(outcome.exit),
            want["exit"],
            "{:?}: {:?}",
            case.items,
            outcome.stderr
        );
        assert_eq!(
            Value::from(outcome.stderr.clone()),
            want["stderr"],
            "{:?}",
            case.items
        );
    }
}
