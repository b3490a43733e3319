//! Verify: a release checked against the locks of releases already
//! shipped, re-enacting QEMU's backward-compatibility stories.

use compat_core::migration::lock::Lock;
use compat_core::migration::verify::{verify, Direction, FindingKind};
use compat_examples::releases;

fn lock(name: &str) -> Lock {
    // Through the file format, as a committed lock is read.
    Lock::from_json(&Lock::of(&releases::release(name).unwrap()).to_json()).unwrap()
}

fn report(findings: &[compat_core::migration::verify::Finding]) -> String {
    findings.iter().map(|f| format!("{f}\n")).collect()
}

#[test]
fn eight_oh_against_seven_two_finds_the_forgotten_entry() {
    let findings = verify(&releases::release("8.0").unwrap(), &lock("7.2"));
    let unc: Vec<_> = findings
        .iter()
        .filter(|f| f.item.as_deref() == Some("x-pcie-err-unc-mask"))
        .collect();
    // One finding per device type carrying QEMU's AER capability: e1000e
    // and the root port.
    assert_eq!(unc.len(), 2, "{}", report(&findings));
    assert_eq!(unc[0].device.as_deref(), Some("e1000e"));
    let f = unc[1];
    assert_eq!(f.kind, FindingKind::PropertyChanged);
    assert_eq!(f.device.as_deref(), Some("pcie-root-port"));
    assert_eq!(f.direction, Direction::Both);
    // Every q35 machine type up to 7.2 (and every i440fx one: the root port
    // can be plugged there too).
    for m in ["pc-q35-3.1", "pc-q35-5.2", "pc-q35-7.2", "pc-i440fx-7.2"] {
        assert!(f.machines.iter().any(|x| x == m), "{m}: {f}");
    }
    assert!(!f.machines.iter().any(|x| x == "pc-q35-8.0"), "{f}");
    // Exactly the entry 8.0.1 added, in hw_compat_7_2.
    assert_eq!(
        f.fixes[0],
        "add {pci-device, x-pcie-err-unc-mask, off} to hw_compat_7_2 in release 8.0"
    );
    assert!(
        f.fixes[1].contains("-global pci-device.x-pcie-err-unc-mask=off"),
        "{f}"
    );
    // 8.0 also changed the root port's layout (the AER mask register is
    // written), which the property explains: no must-match finding.
    assert!(
        !findings
            .iter()
            .any(|f| f.kind == FindingKind::MustMatchChanged),
        "{}",
        report(&findings)
    );
    // 8.0.1 has the entry: nothing to report.
    let fixed = verify(&releases::release("8.0.1").unwrap(), &lock("7.2"));
    assert!(fixed.is_empty(), "{}", report(&fixed));
}

#[test]
fn five_two_without_hw_compat_5_1_finds_num_queues() {
    // 5.2 as shipped: nothing.
    let ok = verify(&releases::release("5.2").unwrap(), &lock("5.1"));
    assert!(ok.is_empty(), "{}", report(&ok));
    // 5.2 built without hw_compat_5_1.
    let broken = releases::builder("5.2")
        .unwrap()
        .edit_family("pc-q35", |f| {
            f.version(
                compat_core::Version::new(5, 1),
                compat_core::VersionStep::default(),
            )
        })
        .build()
        .unwrap();
    let findings = verify(&broken, &lock("5.1"));
    let f = findings
        .iter()
        .find(|f| f.item.as_deref() == Some("num-queues"))
        .unwrap_or_else(|| panic!("{}", report(&findings)));
    assert_eq!(f.device.as_deref(), Some("virtio-blk-device"));
    assert!(f.machines.iter().any(|m| m == "pc-q35-5.1"), "{f}");
    assert!(
        !f.machines.iter().any(|m| m.starts_with("pc-i440fx")),
        "the i440fx family kept its set: {f}"
    );
    assert!(
        f.fixes[0].starts_with("add {virtio-blk-device, num-queues, 1} to "),
        "{f}"
    );
}

#[test]
fn five_oh_against_four_two_finds_that_xenfv_changed_meaning() {
    let findings = verify(&releases::release("5.0").unwrap(), &lock("4.2"));
    let f = findings
        .iter()
        .find(|f| f.kind == FindingKind::MachineChanged)
        .unwrap_or_else(|| panic!("{}", report(&findings)));
    assert_eq!(f.machines, ["xenfv"]);
    assert_eq!(
        f.fixes,
        ["guests started on release 4.2 with -M xenfv use -M xenfv-4.2 on release 5.0"]
    );
}

#[test]
fn a_release_verifies_clean_against_its_own_lock() {
    let mut checked = 0;
    for name in releases::RELEASES {
        let r = releases::release(name).unwrap();
        let findings = verify(&r, &lock(name));
        assert!(findings.is_empty(), "{name}: {}", report(&findings));
        checked += 1;
    }
    assert_eq!(checked, releases::RELEASES.len());
}

#[test]
fn the_cargo_test_helper_reports_writes_and_refreshes() {
    use compat_core::migration::verify::check_locks;
    let dir = std::env::temp_dir().join(format!("compat-locks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("7.2.lock.json"), lock("7.2").to_json()).unwrap();
    let r80 = releases::release("8.0").unwrap();
    // 8.0's own lock is missing: written for review, and reported; the
    // finding against 7.2 is reported with its fix.
    let report = check_locks(&r80, &dir, false).unwrap_err();
    assert!(
        report.starts_with("release 8.0 against the lock of release 7.2 ("),
        "{report}"
    );
    assert!(
        report.contains("  fix: add {pci-device, x-pcie-err-unc-mask, off} to hw_compat_7_2"),
        "{report}"
    );
    assert!(
        report.contains("8.0.lock.json: the lock of release 8.0 was missing"),
        "{report}"
    );
    assert!(dir.join("8.0.lock.json").exists());
    // 8.0.1 against the same locks: 8.0's lock is another release's, 7.2's
    // finds nothing; 8.0.1's own lock is written on purpose.
    std::fs::remove_file(dir.join("8.0.lock.json")).unwrap();
    let r801 = releases::release("8.0.1").unwrap();
    check_locks(&r801, &dir, true).unwrap();
    check_locks(&r801, &dir, false).unwrap();
    // A release that no longer keeps its own lock is told so.
    let lock801 = dir.join("8.0.1.lock.json");
    let edited = std::fs::read_to_string(&lock801).unwrap().replacen(
        "\"hw_compat_7_2\"",
        "\"hw_compat_7_1\"",
        1,
    );
    std::fs::write(&lock801, edited).unwrap();
    let report = check_locks(&r801, &dir, false).unwrap_err();
    assert!(
        report.contains("is no longer what release 8.0.1 promises"),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn virtio_blk_refuses_more_queues_than_its_stream_carries() {
    use compat_core::migration::migrate;
    use compat_core::migration::verify::own_streams;
    use compat_core::{parse_device, MachineConfig};
    // Every example release loads every stream it can save.
    for r in releases::all() {
        let findings = own_streams(&r);
        assert!(findings.is_empty(), "{}: {}", r.name(), report(&findings));
    }
    // Because virtio-blk refuses num-queues above the queue maximum...
    let r = releases::release("8.2").unwrap();
    let config = |n: &str, smp: u16| MachineConfig {
        machine: "pc-q35-8.2".into(),
        smp,
        devices: vec![parse_device(&format!("virtio-blk-device,id=blk0{n}")).unwrap()],
        ..MachineConfig::default()
    };
    let err = r
        .instantiate_config(&config(",num-queues=1025", 1))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("num-queues property must be <= 1024"),
        "{err}"
    );
    // ...and one queue per vCPU stops at that maximum.
    let many = config("", 2000);
    migrate(&r, &many, &r, &many).unwrap();
}

/// Release 10.0 against 8.2's lock: the properties QEMU 10.0 has that the
/// line's older types do not model say how their absence behaved, host
/// settings (`netdev`) are not compared, fields retired as skipped bytes
/// and config bits one side compares where both hold the same bytes are
/// not differences, and neither is the rename `data_in_ready` →
/// `data_ready` (names are not on the wire). What stays is am53c974's real
/// break: 8.2's `ti_cmd` read as 10.0's `lun`, a silent misread.
#[test]
fn ten_oh_against_eight_two_reports_only_the_esp_misread() {
    let findings = verify(&releases::release("10.0").unwrap(), &lock("8.2"));
    assert_eq!(findings.len(), 1, "{}", report(&findings));
    assert_eq!(findings[0].device.as_deref(), Some("am53c974"));
    assert_eq!(findings[0].kind, FindingKind::LayoutChanged);
    assert_eq!(findings[0].item.as_deref(), Some("esp.lun"));
    assert!(
        findings[0].message.contains("the state in the wrong field"),
        "{}",
        findings[0]
    );
}
