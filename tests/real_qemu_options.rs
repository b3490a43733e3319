//! The option tables recorded from real QEMU 10.0 and 7.2
//! (`tests/fixtures/real-qemu/options-{10.0,7.2}.json`, written by
//! `scripts/real-qemu/record.sh`): still what the installed QEMU does, and
//! what compat's releases 10.0 and 7.2 do.

use compat_core::property::{PropertyKind, PropertyValue};
use compat_tests::real_qemu::{OptionCase, RealQemu, Version};
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/real-qemu")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The cases of file `cases` and what real QEMU did in each (`recorded`).
fn table(cases: &str, recorded: &str) -> (Vec<OptionCase>, Vec<Value>) {
    let cases = OptionCase::parse_all(&fixture(cases)).unwrap();
    let recorded: Value = serde_json::from_str(&fixture(recorded)).unwrap();
    let recorded = recorded["cases"].as_array().unwrap().clone();
    assert_eq!(
        recorded.len(),
        cases.len(),
        "re-record: scripts/real-qemu/record.sh"
    );
    (cases, recorded)
}

#[test]
fn recorded_table_is_what_qemu_10_does() {
    rerun(Version::V10_0, "option-cases.jsonl", "options-10.0.json");
}

#[test]
fn recorded_table_is_what_qemu_7_2_does() {
    rerun(Version::V7_2, "option-cases-7.2.jsonl", "options-7.2.json");
}

/// Every fifth case of `cases` run again on the installed QEMU `version`
/// (the whole table takes QEMU about ten seconds): it still does what
/// `recorded` says.
fn rerun(version: Version, cases: &str, recorded: &str) {
    let Some(qemu) = RealQemu::for_test(version, "re-running the option table") else {
        return;
    };
    let (cases, recorded) = table(cases, recorded);
    for (case, want) in cases.iter().zip(&recorded).step_by(5) {
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
        compared, 79,
        "the number of value cases of the recorded table"
    );
}

/// What a command line did: started (with its warnings and the values
/// read back), printed a type's properties, or was refused.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    Started {
        warnings: Vec<String>,
        reads: serde_json::Map<String, Value>,
    },
    Help(Vec<String>),
    Refused(String),
}

/// A message without where it came from: `-device ARG: ` or `-global ARG: `
/// and `warning: ` are QEMU's framing, not the message.
fn bare(line: &str) -> &str {
    let line = match line.split_once(": ") {
        Some((option, rest))
            if option.starts_with("-device ") || option.starts_with("-global ") =>
        {
            rest
        }
        _ => line,
    };
    line.strip_prefix("warning: ").unwrap_or(line)
}

/// The property names of a `-device TYPE,help` text, links and children
/// left out (they are QOM's object graph, not properties).
fn help_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .skip(1)
        .filter(|l| !l.contains("=<link<") && !l.contains("=<child<"))
        .filter_map(|l| l.trim().split_once('=').map(|(n, _)| n.to_owned()))
        .collect();
    names.sort();
    names
}

/// What real QEMU did in a recorded case. Lines about network back ends
/// ("nic X has no peer") are left out: compat does not model back ends.
fn qemu_verdict(case: &Value) -> Verdict {
    let stderr: Vec<&str> = case["stderr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .filter(|l| !l.contains("has no peer"))
        .collect();
    let stdout = case["stdout"].as_str().unwrap();
    if case["exit"] != 0 {
        return Verdict::Refused(stderr.join("\n"));
    }
    // `-device TYPE,help` exits 0 without starting, with the help or, for
    // an unknown or abstract type, an error.
    if case["started"] == false {
        return match stdout.contains(" options:") {
            true => Verdict::Help(help_names(stdout)),
            false => Verdict::Refused(stderr.join("\n")),
        };
    }
    Verdict::Started {
        warnings: stderr.iter().map(|l| bare(l).to_owned()).collect(),
        reads: case["reads"].as_object().unwrap().clone(),
    }
}

/// What compat's release 10.0 does with the same options. `-blockdev`
/// names a host back end, which compat does not model: it is left out.
fn compat_verdict(release: &compat_core::Release, case: &OptionCase) -> Verdict {
    use compat_core::resolve::ResolveError;
    use compat_core::{parse_device, parse_global, MachineConfig};
    let mut config = MachineConfig {
        machine: case.machine().to_owned(),
        ..MachineConfig::default()
    };
    for (name, value) in &case.options {
        let parsed = match name.as_str() {
            "-M" | "-blockdev" => Ok(()),
            "-smp" => value
                .parse()
                .map(|n| config.smp = n)
                .map_err(|e| format!("-smp {value}: {e}")),
            "-device" => parse_device(value)
                .map(|d| config.devices.push(d))
                .map_err(|e| e.to_string()),
            "-global" => parse_global(value)
                .map(|g| config.globals.push(g))
                .map_err(|e| e.to_string()),
            other => panic!("option {other} is not in the table's vocabulary"),
        };
        if let Err(e) = parsed {
            return Verdict::Refused(e);
        }
    }
    let machine = match release.instantiate_config(&config) {
        Ok(m) => m,
        Err(ResolveError::HelpRequested { text }) => return Verdict::Help(help_names(&text)),
        Err(e) => return Verdict::Refused(e.to_string()),
    };
    let reads = case
        .reads
        .iter()
        .map(|(id, property)| {
            let value = match machine
                .devices
                .iter()
                .find(|d| d.id.as_deref() == Some(id.as_str()))
            {
                None => json!({"error": format!("Device '/machine/peripheral/{id}' not found")}),
                Some(d) => match d.object.get(property) {
                    Ok(v) => json_of(&v),
                    Err(e) => json!({"error": e.to_string()}),
                },
            };
            (format!("{id}.{property}"), value)
        })
        .collect();
    Verdict::Started {
        warnings: machine
            .warnings
            .iter()
            .flat_map(|w| w.lines().map(|l| bare(l).to_owned()).collect::<Vec<_>>())
            .collect(),
        reads,
    }
}

/// Whether two verdicts agree: the same outcome; for a start, the same
/// values read back and the same warnings, in QEMU's words; for help, the
/// same properties. Refusals may be worded differently.
fn agree(qemu: &Verdict, ours: &Verdict) -> bool {
    match (qemu, ours) {
        (Verdict::Refused(_), Verdict::Refused(_)) => true,
        (Verdict::Help(a), Verdict::Help(b)) => a == b,
        (
            Verdict::Started {
                warnings: wq,
                reads: rq,
            },
            Verdict::Started {
                warnings: wo,
                reads: ro,
            },
        ) => {
            rq.iter().all(|(k, v)| match (v.get("error"), ro.get(k)) {
                (Some(_), Some(o)) => o.get("error").is_some(),
                (None, Some(o)) => o == v,
                (_, None) => false,
            }) && wq == wo
        }
        _ => false,
    }
}

/// The cases of the table compat does not model the subject of, each with
/// why: not comparable.
const NOT_COMPARABLE: &[(&str, &str)] = &[
    (
        "-device e1000e,id=x,romfile=a,,b ?x.romfile",
        "QEMU looks the ROM file up on the host; compat models no host files",
    ),
    (
        "-global e1000.bar=1",
        "e1000 is a network card type compat's examples do not model",
    ),
];

/// The comparable cases where compat's release 10.0 and real QEMU 10.0
/// disagree, each with why.
const DIFFERENCES: &[(&str, &str)] = &[(
    "-device pcie-root-port,id=x,chassis=1 -device pcie-root-port,id=y,chassis=1",
    "QEMU refuses a second port in the same chassis and slot when it registers the slot \
     (\"Can't add chassis slot, error -16\"); compat does not model the chassis's slot table",
)];

/// Every recorded case run through compat's release 10.0: the agreement
/// with real QEMU 10.0 is at least 98 % of the comparable cases, and every
/// remaining difference is listed with its reason.
#[test]
fn option_semantics_agree_with_qemu_10() {
    let (comparable, agreeing) = agreement(
        "10.0",
        "option-cases.jsonl",
        "options-10.0.json",
        NOT_COMPARABLE,
        DIFFERENCES,
    );
    assert!(comparable >= 150, "{comparable} comparable cases");
    let percent = 100.0 * agreeing as f64 / comparable as f64;
    assert!(percent >= 98.0, "{percent:.1} %");
}

/// Every case of the 7.2 table run through compat's release 7.2: the
/// device types it models have real QEMU 7.2.22's properties, kinds,
/// defaults and checks, every case agreeing.
#[test]
fn option_semantics_agree_with_qemu_7_2() {
    let (comparable, agreeing) = agreement(
        "7.2",
        "option-cases-7.2.jsonl",
        "options-7.2.json",
        &[],
        &[],
    );
    assert_eq!(agreeing, comparable);
    assert!(comparable >= 45, "{comparable} cases");
}

/// The cases of `cases` run through compat's release `release`, compared
/// with what real QEMU did (`recorded`): `(comparable, agreeing)`. Fails on
/// a disagreement not listed in `differences` and on a listed one that
/// agrees now.
fn agreement(
    release: &str,
    cases: &str,
    recorded: &str,
    not_comparable: &[(&str, &str)],
    differences: &[(&str, &str)],
) -> (usize, usize) {
    let release = compat_examples::releases::release(release).unwrap();
    let (cases, recorded) = table(cases, recorded);
    let (mut comparable, mut agreeing) = (0, 0);
    let mut unexplained = Vec::new();
    let mut explained = Vec::new();
    for (case, want) in cases.iter().zip(&recorded) {
        let text = case.items.join(" ");
        if not_comparable.iter().any(|(c, _)| *c == text) {
            continue;
        }
        comparable += 1;
        let (qemu, ours) = (qemu_verdict(want), compat_verdict(&release, case));
        if agree(&qemu, &ours) {
            agreeing += 1;
        } else if differences.iter().any(|(c, _)| *c == text) {
            explained.push(text);
        } else {
            unexplained.push(format!(
                "{text}\n    QEMU:   {qemu:?}\n    compat: {ours:?}"
            ));
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} cases disagree without a listed reason:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    for (c, _) in differences {
        assert!(
            explained.iter().any(|e| e == c),
            "listed difference agrees now: {c}"
        );
    }
    let percent = 100.0 * agreeing as f64 / comparable as f64;
    eprintln!(
        "option semantics of release {}: {agreeing} of {comparable} comparable cases agree \
         ({percent:.1} %)",
        release.name()
    );
    (comparable, agreeing)
}
