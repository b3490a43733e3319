//! Real QEMU binaries read into locks (`compat lock --qemu`), each of the
//! ladder 5.2, 7.2, 10.0 and 11.1: machine types as the binary lists them,
//! device types with their parents, properties and VMState, each machine
//! type's compat values where the binary tells them (10.0 and 11.1) and a
//! lock that says it does not know them where it does not (5.2 and 7.2).
//! The values a lock claims are held against the real process: a device
//! created on that machine type reads the same value back.

mod cli;
use cli::run;

use compat_core::migration::lock::{Lock, Unknown};
use compat_core::migration::verify::FindingKind;
use compat_core::tools::qemu::{read_qemu, QemuReadError};
use compat_tests::real_qemu::{RealQemu, Version};
use serde_json::{json, Value};

const TYPES: [&str; 4] = ["pcie-root-port", "e1000e", "virtio-blk-pci", "am53c974"];

fn types() -> Vec<String> {
    TYPES.map(str::to_owned).to_vec()
}

fn lock_of(q: &RealQemu) -> Lock {
    read_qemu(&q.binary.to_string_lossy(), Some(&types()))
        .unwrap()
        .lock
}

/// The value a device's property reads back on machine type `machine`.
fn read_back(q: &RealQemu, machine: &str, device: &str, property: &str) -> Value {
    let args: Vec<String> = [
        "-M",
        machine,
        "-smp",
        "4",
        "-blockdev",
        "driver=null-co,node-name=d0",
        "-device",
        device,
    ]
    .map(str::to_owned)
    .to_vec();
    let out = q.run(
        &args,
        &[json!({"execute": "qom-get", "arguments": {"path": "/machine/peripheral/dev", "property": property}})],
    );
    out.replies
        .first()
        .map(|r| r["return"].clone())
        .unwrap_or_else(|| panic!("QEMU {}: {:?}", q.version.full(), out.stderr))
}

/// The value and the compat set of `device`'s `property` on `machine`, if
/// the lock has that machine type and property.
fn value<'a>(
    lock: &'a Lock,
    machine: &str,
    device: &str,
    property: &str,
) -> Option<(&'a str, Option<&'a str>)> {
    let m = lock.machine(machine)?;
    let d = m.devices.iter().find(|d| d.type_name == device).unwrap();
    let p = d.properties.iter().find(|p| p.name == property)?;
    Some((p.value.as_str(), p.set_by.as_deref()))
}

#[test]
fn each_real_binary_reads_into_a_lock() {
    for v in Version::LADDER {
        let Some(q) = RealQemu::for_test(v, "real QEMU read into a lock") else {
            continue;
        };
        let started = std::time::Instant::now();
        let lock = lock_of(&q);
        let took = started.elapsed();
        assert_eq!(lock.release, format!("qemu-{}", v.full()));
        // A lock of a binary stands where any lock does.
        assert_eq!(Lock::from_json(&lock.to_json()).unwrap(), lock);
        // Machine types as the binary has them: 11.1 has none before
        // pc-q35-5.2; the others still have the bugfix variant
        // pc-q35-4.0.1.
        let has = |n: &str| lock.machine(n).is_some();
        assert!(has("pc-q35-5.2") && has("pc-i440fx-5.2"), "{v:?}");
        let old = v != Version::V11_1;
        assert_eq!(has("pc-q35-5.1"), old, "{v:?}");
        assert_eq!(has("pc-q35-4.0.1"), old, "{v:?}");
        if let Some(q35) = lock.machine("pc-q35-4.0.1") {
            assert_eq!(
                (q35.family.as_str(), q35.version.as_deref()),
                ("pc-q35", Some("4.0.1"))
            );
        }
        let default = lock.machine_types.iter().filter(|m| m.default).count();
        assert_eq!(default, 1, "{v:?}: one default machine type");
        // The QOM tree: the intermediate types exist, with their parents.
        let parent = |t: &str| {
            lock.device_types
                .iter()
                .find(|d| d.name == t)
                .and_then(|d| d.parent.clone())
        };
        assert_eq!(
            parent("pcie-root-port").as_deref(),
            Some("pcie-root-port-base")
        );
        assert_eq!(
            parent("virtio-blk-pci").as_deref(),
            Some("virtio-blk-pci-base")
        );
        let base = lock
            .device_types
            .iter()
            .find(|d| d.name == "pcie-root-port-base");
        assert!(base.is_some_and(|b| b.is_abstract), "{v:?}");
        // The virtio proxy's child, whose properties it shows as its own.
        assert!(lock
            .device_types
            .iter()
            .any(|d| d.name == "virtio-blk-device"));
        // VMState from -dump-vmstate: names and versions, no wire types.
        let rp = lock
            .device_types
            .iter()
            .find(|d| d.name == "pcie-root-port")
            .unwrap();
        assert_eq!(rp.vmstate.as_ref().unwrap().name, "pcie-root-port");
        assert!(!lock.knows(Unknown::WireTypes));
        // Compat properties: listed by 10.0 and 11.1, said unknown by 5.2
        // and 7.2, whose devices are read back on each machine type instead.
        let told = matches!(v, Version::V10_0 | Version::V11_1);
        assert_eq!(lock.knows(Unknown::CompatProperties), told, "{v:?}");
        assert!(lock.knows(Unknown::DeviceValues), "{v:?}");
        for m in lock
            .machine_types
            .iter()
            .filter(|m| m.name.starts_with("pc-q35"))
        {
            assert_eq!(m.devices.len(), TYPES.len(), "{v:?} {}", m.name);
        }
        eprintln!(
            "QEMU {}: {} machine types, {} device types, read in {took:?}",
            v.full(),
            lock.machine_types.len(),
            lock.device_types.len()
        );
    }
}

/// The documents' story as the locks of 10.0 and 11.1 tell it: virtio-blk's
/// `num-queues` is 1 on `pc-q35-5.1` (QEMU's `hw_compat_5_1` sets it on the
/// child `virtio-blk-device`) and one per vCPU from `pc-q35-5.2`; a root
/// port's `disable-acs` is on for `pc-q35-3.1`. Each held against a device
/// created on that machine type by the same binary.
#[test]
fn compat_values_in_a_lock_are_what_a_device_reads_back() {
    for v in Version::LADDER {
        let Some(q) = RealQemu::for_test(v, "compat values read from a real QEMU") else {
            continue;
        };
        let lock = lock_of(&q);
        let blk = "virtio-blk-pci,drive=d0,id=dev";
        if lock.machine("pc-q35-5.1").is_some() {
            let num = value(&lock, "pc-q35-5.1", "virtio-blk-pci", "num-queues");
            assert_eq!(num, Some(("1", Some("step of pc-q35-5.1"))), "{v:?}");
            assert_eq!(read_back(&q, "pc-q35-5.1", blk, "num-queues"), json!(1));
        }
        // From 5.2 on: one queue per vCPU, decided when the device realizes
        // (QEMU's auto value, 65535, in the lock).
        let num = value(&lock, "pc-q35-5.2", "virtio-blk-pci", "num-queues");
        assert_eq!(num, Some(("65535", None)), "{v:?}");
        assert_eq!(read_back(&q, "pc-q35-5.2", blk, "num-queues"), json!(4));
        // 11.1, without machine types before 5.2, has no disable-acs.
        let port = "pcie-root-port,id=dev,chassis=1";
        let acs = [
            ("pc-q35-3.1", true),
            ("pc-q35-4.0", false),
            ("pc-q35-5.2", false),
        ];
        let mut held = 0;
        for (machine, on) in acs {
            let Some((acs, _)) = value(&lock, machine, "pcie-root-port", "disable-acs") else {
                continue;
            };
            assert_eq!(acs, if on { "on" } else { "off" }, "{v:?} {machine}");
            assert_eq!(read_back(&q, machine, port, "disable-acs"), json!(on));
            held += 1;
        }
        assert_eq!(held, if v == Version::V11_1 { 0 } else { 3 }, "{v:?}");
    }
}

/// A type the binary does not have is refused with its name; verify holds
/// the example release 10.0 to the real 10.0's lock: the compat entry the
/// example lacked on pc-q35-3.1 (a root port there failed to migrate to and
/// from real QEMU with `Bad config data: i=0x102`) is there, and verify
/// names it in a release that forgets it.
#[test]
fn the_example_release_held_to_the_real_binary() {
    let Some(q) = RealQemu::for_test(Version::V10_0, "verify against a real QEMU's lock") else {
        return;
    };
    let binary = q.binary.to_string_lossy().into_owned();
    let err = read_qemu(&binary, Some(&["no-such-device".to_owned()])).unwrap_err();
    assert!(matches!(err, QemuReadError::NoSuchType { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "QEMU qemu-10.0.2 has no device type 'no-such-device'"
    );
    let err = read_qemu("/nonexistent/qemu", None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("QEMU ended before answering the greeting"),
        "{err}"
    );

    let lock = lock_of(&q);
    let release = compat_examples::releases::release("10.0").unwrap();
    let findings = compat_core::migration::verify::verify(&release, &lock);
    // The entry this found missing on pc-q35-3.1 is in the example now
    // (`hw_compat_3_1`; the root port there migrates both ways with real
    // QEMU, in real_qemu_streams.rs): without it, verify names it.
    assert!(
        !findings
            .iter()
            .any(|f| f.item.as_deref() == Some("disable-acs")),
        "{findings:?}"
    );
    let forgot = compat_examples::releases::builder("10.0")
        .unwrap()
        .edit_family("pc-q35", |f| {
            f.version(
                compat_core::Version::new(3, 1),
                compat_core::VersionStep::default(),
            )
        })
        .build()
        .unwrap();
    let findings_forgot = compat_core::migration::verify::verify(&forgot, &lock);
    let acs = findings_forgot
        .iter()
        .find(|f| f.item.as_deref() == Some("disable-acs"))
        .expect("the missing disable-acs entry");
    assert!(acs.machines.contains(&"pc-q35-3.1".to_owned()), "{acs}");
    assert!(
        acs.fixes
            .iter()
            .any(|f| f.starts_with("add {pcie-root-port, disable-acs, on}")),
        "{acs}"
    );
    // VMState from the real dump, compared as dumps are: e1000e's and the
    // root port's are QEMU's (their streams load both ways, in
    // real_qemu_streams.rs).
    for device in ["e1000e", "pcie-root-port"] {
        let layout = findings
            .iter()
            .find(|f| f.device.as_deref() == Some(device) && f.kind == FindingKind::LayoutChanged);
        assert!(layout.is_none(), "{layout:?}");
    }
    // Machine types the example release does not offer.
    assert!(findings
        .iter()
        .any(|f| f.machines == ["pc-q35-6.0"] && f.message.contains("is gone")));
    // The other way round — the real binary's lock verified against the
    // example's — finds the same VMState and property differences, and
    // nothing of what the binary's lock cannot say (machine flags,
    // stickiness), nor of the example's record as if it were a dump's.
    let reverse = compat_core::migration::verify::verify_locks(
        &lock,
        &compat_core::migration::lock::Lock::of(&release),
    );
    let what = |list: &[compat_core::migration::verify::Finding]| {
        let mut v: Vec<(FindingKind, Option<String>, Option<String>)> = list
            .iter()
            .filter(|f| {
                !matches!(
                    f.kind,
                    FindingKind::MachineRemoved | FindingKind::DeviceRemoved
                )
            })
            .map(|f| (f.kind, f.device.clone(), f.item.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert!(!what(&findings).is_empty());
    assert_eq!(what(&reverse), what(&findings), "{reverse:?}");
}

/// `compat lock --qemu COMMAND --types ... -o FILE`, then the file where a
/// lock is named: `verify --against` and `check --from/--to`.
#[test]
fn the_command_writes_a_lock_that_stands_where_a_lock_does() {
    let Some(q) = RealQemu::for_test(Version::V10_0, "compat lock --qemu") else {
        return;
    };
    let file = std::env::temp_dir().join(format!("compat-qemu-lock-{}.json", std::process::id()));
    let (binary, path) = (q.binary.to_string_lossy(), file.to_string_lossy());
    let types = "pcie-root-port,e1000e";
    let (code, out, err) = run(&[
        "compat", "lock", "--qemu", &binary, "--types", types, "-o", &path,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("wrote the lock of qemu-10.0.2 (65 machine types, "),
        "{out}"
    );
    assert!(
        out.contains(
            "not said (the binary does not tell): the kinds and wire types of VMState fields"
        ),
        "{out}"
    );
    let (code, out, _) = run(&["compat", "verify", "--release", "10.0", "--against", &path]);
    assert_eq!(code, 1, "findings exit 1: {out}");
    // QEMU's `addr` is a PCI device-and-function number, -1 when not
    // given; the example's is text.
    assert!(
        out.contains("pcie-root-port.addr is -1 in release qemu-10.0.2 and  in release 10.0"),
        "{out}"
    );
    let (code, out, err) = run(&["compat", "check", "--from", &path, "--to", "10.0"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("pcie-root-port.addr"), "{out}");
    // --types without --qemu, and a release with --qemu, are refused.
    let (code, _, err) = run(&["compat", "lock", "--types", types, "-o", &path]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&[
        "compat",
        "lock",
        "--release",
        "10.0",
        "--qemu",
        &binary,
        "-o",
        &path,
    ]);
    assert_eq!(code, 2, "{err}");
    std::fs::remove_file(&file).ok();
}

/// Every device type of a binary: those QEMU refuses to list, or dies
/// listing (a display device whose module the host lacks), are left out
/// with QEMU's words and the rest are read.
#[test]
fn every_device_type_of_a_binary() {
    let Some(q) = RealQemu::for_test(Version::V7_2, "every device type of a real QEMU") else {
        return;
    };
    let read = read_qemu(&q.binary.to_string_lossy(), None).unwrap();
    let lock = &read.lock;
    assert!(lock.device_types.len() > 400, "{}", lock.device_types.len());
    // 7.2 lists no compat properties, and every type is not created on
    // every machine type: the lock says it does not know their values.
    assert!(!lock.knows(Unknown::DeviceValues));
    assert!(lock.machine_types.iter().all(|m| m.devices.is_empty()));
    for t in [
        "e1000e",
        "pcie-root-port",
        "PIIX4_PM",
        "ich9-ahci",
        "hpet",
        "isa-serial",
    ] {
        assert!(lock.device_types.iter().any(|d| d.name == t), "{t}");
    }
    for (t, why) in &read.left_out {
        assert!(!lock.device_types.iter().any(|d| &d.name == t), "{t}");
        assert!(!why.is_empty(), "{t}");
    }
    assert_eq!(Lock::from_json(&lock.to_json()).unwrap(), *lock);
}

/// The two ways a lock learns each device's values per machine type agree
/// on real QEMU 10.0: from the compat properties `query-machines` lists,
/// and by creating each device on each machine type and reading it back
/// (the way 5.2 and 7.2 are read) — but for values a device decides when
/// it realizes, which the second way reads as decided.
#[test]
fn compat_values_listed_and_read_back_agree() {
    use compat_core::tools::qemu::{read_qemu_with, DeviceValues};
    let Some(q) = RealQemu::for_test(Version::V10_0, "compat values read two ways") else {
        return;
    };
    let binary = q.binary.to_string_lossy().into_owned();
    let listed = lock_of(&q);
    let read = read_qemu_with(&binary, Some(&types()), DeviceValues::ReadBack)
        .unwrap()
        .lock;
    let (mut same, mut differ) = (0, std::collections::BTreeSet::new());
    for m in &read.machine_types {
        let Some(theirs) = listed.machine(&m.name) else {
            continue;
        };
        for d in m.devices.iter().filter(|d| d.error.is_none()) {
            let other = theirs
                .devices
                .iter()
                .find(|o| o.type_name == d.type_name)
                .unwrap();
            for p in &d.properties {
                let Some(o) = other.properties.iter().find(|o| o.name == p.name) else {
                    continue;
                };
                if p.value == o.value {
                    same += 1;
                } else {
                    differ.insert(format!("{}.{}", d.type_name, p.name));
                }
            }
        }
    }
    eprintln!("{same} values agree; differ: {differ:?}");
    assert!(same > 5000, "{same}");
    // Values the device decides when it realizes, read as decided: MSI-X
    // vectors from the queue count (up to 5.1 machine types), legacy
    // virtio's layout and mode where modern virtio is off (up to 2.6: the
    // value read equals the newest machine type's, so it cannot be told
    // from the default), the root port's reserve and hotplug capability
    // where the machine type's ACPI hotplug decides them (6.1).
    let decided_at_realize = [
        "virtio-blk-pci.vectors",
        "virtio-blk-pci.any_layout",
        "virtio-blk-pci.disable-legacy",
        "pcie-root-port.io-reserve",
        "pcie-root-port.x-do-not-expose-native-hotplug-cap",
    ];
    assert!(
        differ
            .iter()
            .all(|d| decided_at_realize.contains(&d.as_str())),
        "{differ:?}"
    );
}
