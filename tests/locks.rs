//! Locks: what a release promised, written and read back exactly, with the
//! facts later releases are verified against.

use compat_core::migration::lock::{hex, unhex, Lock, LockError, SCHEMA};
use compat_examples::releases::{self, RELEASES};

fn lock(release: &str) -> Lock {
    Lock::of(&releases::release(release).unwrap())
}

fn property<'a>(
    lock: &'a Lock,
    machine: &str,
    device: &str,
    name: &str,
) -> (&'a str, Option<&'a str>) {
    let m = lock.machine(machine).unwrap();
    let d = m.devices.iter().find(|d| d.type_name == device).unwrap();
    let p = d.properties.iter().find(|p| p.name == name).unwrap();
    (p.value.as_str(), p.set_by.as_deref())
}

#[test]
fn a_lock_read_back_describes_its_release_exactly() {
    for name in RELEASES {
        let live = lock(name);
        let text = live.to_json();
        let read = Lock::from_json(&text).unwrap();
        assert_eq!(read, live, "release {name}");
        // Stable: the same release writes the same bytes.
        assert_eq!(lock(name).to_json(), text, "release {name}");
        assert_eq!(read.schema, SCHEMA);
    }
}

#[test]
fn a_lock_records_values_with_the_set_that_set_them() {
    // 8.0 forgot {pci-device, x-pcie-err-unc-mask, off}; 8.0.1 has it.
    assert_eq!(
        property(
            &lock("8.0"),
            "pc-q35-7.2",
            "pcie-root-port",
            "x-pcie-err-unc-mask"
        ),
        ("on", None)
    );
    assert_eq!(
        property(
            &lock("8.0.1"),
            "pc-q35-7.2",
            "pcie-root-port",
            "x-pcie-err-unc-mask"
        ),
        ("off", Some("hw_compat_7_2"))
    );
    // num-queues: one per vCPU by default from 5.2, 1 on pc-q35-5.1.
    assert_eq!(
        property(
            &lock("5.2"),
            "pc-q35-5.1",
            "virtio-blk-device",
            "num-queues"
        ),
        ("1", Some("hw_compat_5_1"))
    );
    assert_eq!(
        property(
            &lock("5.2"),
            "pc-q35-5.2",
            "virtio-blk-device",
            "num-queues"
        ),
        ("65535", None)
    );
    // Machine types, aliases and stream formats.
    let l50 = lock("5.0");
    assert_eq!(l50.machine("xenfv").unwrap().name, "xenfv-3.1");
    assert_eq!(l50.machine("xenfv-4.2").unwrap().stream, "device-state");
    assert_eq!(l50.machine("pc-q35-5.0").unwrap().stream, "migration");
    assert!(l50.machine("pc-i440fx-3.1").unwrap().flags["smbus_no_migration_support"]);
    // The VMState of a device type, nested structs included.
    let port = lock("8.0")
        .device_types
        .into_iter()
        .find(|t| t.name == "pcie-root-port")
        .unwrap();
    let vmsd = port.vmstate.unwrap();
    assert_eq!(vmsd.name, "pcie-root-port");
    assert!(vmsd
        .fields
        .iter()
        .any(|f| f.kind == "struct" && f.nested.is_some()));
    // Must-match values of a fresh device, with the mask compared.
    let l = lock("8.0.1");
    let m = l.machine("pc-q35-7.2").unwrap();
    let root = m
        .devices
        .iter()
        .find(|d| d.type_name == "pcie-root-port")
        .unwrap();
    let config = root
        .must_match
        .iter()
        .find(|v| v.path.ends_with("config"))
        .unwrap();
    assert_eq!(unhex(&config.bytes).unwrap().len(), 4096);
    assert!(config.mask.is_some());
}

#[test]
fn a_bad_lock_is_one_precise_error() {
    let text = lock("3.1").to_json();
    let other = text.replacen(&format!("\"schema\": {SCHEMA}"), "\"schema\": 99", 1);
    assert_eq!(
        Lock::from_json(&other).unwrap_err().to_string(),
        format!("lock schema 99 is not the schema {SCHEMA} this code reads")
    );
    let unknown = text.replacen("\"release\"", "\"relase\"", 1);
    let err = Lock::from_json(&unknown).unwrap_err();
    assert!(matches!(err, LockError::Json(_)));
    assert!(err.to_string().contains("unknown field `relase`"), "{err}");
    assert!(Lock::from_json("[]").is_err());
    assert!(Lock::from_json("").is_err());
    // Names are printed in findings: a lock whose texts would drive a
    // terminal is refused, the text shown escaped.
    let evil = text.replacen("\"release\": \"3.1\"", "\"release\": \"3.1\\u001b[2J\"", 1);
    assert_ne!(evil, text);
    assert_eq!(
        Lock::from_json(&evil).unwrap_err().to_string(),
        "not a lock: a text holds control characters: 3.1\\u{1b}[2J"
    );
}

#[test]
fn byte_runs_round_trip() {
    for bytes in [
        vec![],
        vec![0; 4096],
        vec![1, 2, 3],
        vec![0x36, 0x1b, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 8],
        (0..=255).collect::<Vec<u8>>(),
    ] {
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
    }
    assert_eq!(hex(&[0x36, 0x1b, 0, 0, 0, 0, 1]), "361b 00*4 01");
    assert_eq!(unhex("00*99999999"), None, "a run is bounded");
    assert_eq!(unhex("0"), None);
    assert_eq!(unhex("zz"), None);
}
