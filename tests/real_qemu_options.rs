//! The option table recorded from real QEMU 10.0
//! (`tests/fixtures/real-qemu/options-10.0.json`, written by
//! `scripts/real-qemu/record.sh`): still what the installed QEMU does.

use compat_core::property::{PropertyKind, PropertyValue};
use compat_tests::real_qemu::{OptionCase, RealQemu, Version};
use serde_json::{json, Value};

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

/// The kind QEMU 10.0 gives each property the table sets by value.
fn kind_of(property: &str) -> Option<PropertyKind> {
    Some(match property {
        "subsys" | "aer_log_max" => PropertyKind::U16,
        "disable_vnet_hdr" | "chassis" => PropertyKind::U8,
        "acpi-index" | "bus-reserve" => PropertyKind::U32,
        "rombar" => PropertyKind::I32,
        "x-max-bounce-buffer-size" | "mem-reserve" | "io-reserve" => PropertyKind::Size,
        "init-vet" | "migrate-timadj" | "x-pcie-err-unc-mask" => PropertyKind::Bool,
        _ => return None,
    })
}

fn json_of(value: &PropertyValue) -> Value {
    match value {
        PropertyValue::Bool(b) => json!(b),
        PropertyValue::Uint(u) | PropertyValue::Size(u) => json!(u),
        PropertyValue::Int(i) => json!(i),
        PropertyValue::Str(s) => json!(s),
        PropertyValue::Enum(e) => json!(e),
    }
}

/// Every value of a number, size or boolean the table sets on one device:
/// compat's parser takes what QEMU 10.0 took, with the value QEMU read
/// back, and refuses what QEMU refused as not of the kind. (A refusal
/// for another reason — a device's own limit — is not about syntax.)
#[test]
fn values_parse_as_qemu_10_parsed_them() {
    let recorded: Value = serde_json::from_str(&fixture("options-10.0.json")).unwrap();
    let mut compared = 0;
    for case in recorded["cases"].as_array().unwrap() {
        let items: Vec<&str> = case["case"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let [device, read] = items[..] else { continue };
        let Some(props) = device.strip_prefix("-device ") else {
            continue;
        };
        let Some((_, assignment)) = props.rsplit_once(',') else {
            continue;
        };
        let Some((property, text)) = assignment.split_once('=') else {
            continue;
        };
        let Some(kind) = kind_of(property) else {
            continue;
        };
        if read != format!("?x.{property}") {
            continue;
        }
        let ours = kind.parse(text);
        let stderr = case["stderr"].to_string();
        if case["exit"] == 0 {
            let want = &case["reads"][&read[1..]];
            let got = ours.unwrap_or_else(|e| panic!("{device}: QEMU took it, compat: {e}"));
            assert_eq!(&json_of(&got), want, "{device}");
        } else if stderr.contains("expects") {
            assert!(
                ours.is_err(),
                "{device}: QEMU refused it ({stderr}), compat took {ours:?}"
            );
        } else {
            continue;
        }
        compared += 1;
    }
    assert_eq!(
        compared, 78,
        "the number of value cases of the recorded table"
    );
}
