//! The seeds' outcomes, asserted on the real matrix: every cell of every
//! machine type's table, the multi-hop scenarios, the xen story and the CPU
//! hosts. Each cell is a real save on the source release and a real load on
//! the destination release.

use compat_core::codec::LoadErrorKind;
use compat_core::{migrate, migrate_chain, MigrationError};
use compat_examples::catalog::{catalog, hosts, intersection_cpu, standard_config};
use compat_examples::releases::{self, RELEASES};

fn r(name: &str) -> compat_core::Release {
    releases::release(name).unwrap()
}

fn cell(src: &str, dst: &str, machine: &str) -> Result<(), MigrationError> {
    let config = standard_config(machine);
    migrate(&r(src), &config, &r(dst), &config)
}

fn index(release: &str) -> usize {
    RELEASES.iter().position(|r| *r == release).unwrap()
}

/// The release a machine type first appears in.
fn first_release(machine: &str) -> &'static str {
    RELEASES
        .iter()
        .copied()
        .find(|rel| r(rel).machine(machine).is_ok())
        .unwrap()
}

/// What the seeds say each cell does.
fn expected(machine: &str, src: &str, dst: &str) -> Expected {
    if index(dst) < index(first_release(machine)) {
        return Expected::UnknownMachine;
    }
    if machine == "xenfv" {
        // 4.2's xenfv expects smbus state; every other release's xenfv
        // (3.1, and xenfv-3.1 from 5.0 on) does not.
        return if (src == "4.2") == (dst == "4.2") {
            Expected::Ok
        } else {
            Expected::Fail
        };
    }
    let new = ["8.0", "8.2", "10.0"]
        .iter()
        .any(|v| machine.ends_with(&format!("-{v}")));
    if (machine.starts_with("pc-q35-") || machine.starts_with("pc-i440fx-")) && !new {
        // 8.0 forgot {pci-device, x-pcie-err-unc-mask, off}: on every old
        // machine type with a device carrying QEMU's AER capability (the
        // root port and e1000e on q35, e1000e on i440fx) it differs from
        // every other release.
        return if (src == "8.0") == (dst == "8.0") {
            Expected::Ok
        } else {
            Expected::Fail
        };
    }
    Expected::Ok
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Expected {
    Ok,
    Fail,
    UnknownMachine,
}

#[test]
fn every_cell_of_the_matrix() {
    let tables = catalog().matrix();
    let mut cells = 0;
    for t in &tables {
        for c in &t.cells {
            cells += 1;
            let want = expected(&t.machine, &c.src, &c.dst);
            let got = match &c.outcome {
                Ok(()) => Expected::Ok,
                Err(e) if e.is_unknown_machine() => Expected::UnknownMachine,
                Err(MigrationError::Load(_)) => Expected::Fail,
                Err(other) => panic!("{} {} -> {}: unexpected {other}", t.machine, c.src, c.dst),
            };
            assert_eq!(
                got, want,
                "{} {} -> {}: {:?}",
                t.machine, c.src, c.dst, c.outcome
            );
        }
    }
    assert!(cells > 500, "{cells} cells");
}

/// Cases 1-6 of the backward-compatibility text (qemu-5.1/5.2, pc-5.1/5.2).
#[test]
fn cases_1_to_6() {
    // 1, 2: the same release with its newest machine type.
    cell("5.2", "5.2", "pc-q35-5.2").unwrap();
    cell("5.1", "5.1", "pc-q35-5.1").unwrap();
    // 3: the new release with the old machine type, on both sides.
    cell("5.2", "5.2", "pc-q35-5.1").unwrap();
    // 4: the old release does not know the new machine type.
    let err = cell("5.2", "5.1", "pc-q35-5.2").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the destination refuses: unsupported machine type 'pc-q35-5.2' in release 5.1; \
         close names: pc-q35-5.1, pc-q35-5.0, pc-q35-4.2, pc-q35-3.1, q35"
    );
    // 5, 6: across releases on pc-5.1: hw_compat_5_1 keeps one queue.
    cell("5.2", "5.1", "pc-q35-5.1").unwrap();
    cell("5.1", "5.2", "pc-q35-5.1").unwrap();
}

#[test]
fn num_queues_follow_the_machine_type() {
    let queues = |release: &str, machine: &str| {
        let rel = r(release);
        let mut m = rel.instantiate_config(&standard_config(machine)).unwrap();
        let blk = m.devices.iter_mut().find(|d| d.label == "blk0").unwrap();
        blk.object.get("num-queues").unwrap().to_string()
    };
    assert_eq!(queues("5.1", "pc-q35-5.1"), "1");
    assert_eq!(queues("5.2", "pc-q35-5.1"), "1");
    // Auto (65535) is one queue per vCPU (-smp 4), read back as realized,
    // as QEMU reads it back.
    assert_eq!(queues("5.2", "pc-q35-5.2"), "4", "auto: one per vCPU");
    let e = r("5.2")
        .explain("pc-q35-5.2", &[], "virtio-blk-device,id=blk0", "num-queues")
        .unwrap();
    assert_eq!(
        e.summary(),
        "default 65535 (virtio-blk-device) → 1 by the device when it realized",
        "one vCPU: one queue"
    );
    let e = r("5.2")
        .explain("pc-q35-5.1", &[], "virtio-blk-device,id=blk0", "num-queues")
        .unwrap();
    assert_eq!(
        e.summary(),
        "default 65535 (virtio-blk-device) → 1 by hw_compat_5_1 applied by pc-q35-5.1"
    );
}

#[test]
fn a_queue_count_mismatch_breaks_the_load() {
    let scenarios = catalog().run_scenarios();
    let s = scenarios
        .iter()
        .find(|s| s.title.contains("hw_compat_5_1 were missing"))
        .unwrap();
    let (hop, MigrationError::Load(e)) = s.outcome.clone().unwrap_err() else {
        panic!("{:?}", s.outcome)
    };
    assert_eq!(hop, 1);
    assert_eq!(e.path, ["num_queues"]);
    assert_eq!(
        e.kind,
        LoadErrorKind::MustMatch {
            incoming: "0x1".into(),
            ours: "0x4".into()
        }
    );
}

/// The double migration A -> B -> C of the text.
#[test]
fn a_to_b_to_c() {
    let q51 = standard_config("pc-q35-5.1");
    migrate_chain(&[
        (&r("5.1"), q51.clone()),
        (&r("5.2"), q51.clone()),
        (&r("5.2"), q51),
    ])
    .unwrap();
}

/// The pc-7.2 table of the mitigation patch (seed 004).
#[test]
fn the_pc_7_2_table() {
    let m = "pc-q35-7.2";
    cell("7.2", "7.2", m).unwrap();
    cell("8.0", "8.0", m).unwrap();
    cell("8.0.1", "8.0.1", m).unwrap();
    for (src, dst) in [
        ("7.2", "8.0"),
        ("8.0", "7.2"),
        ("8.0", "8.0.1"),
        ("8.0.1", "8.0"),
    ] {
        let Err(MigrationError::Load(e)) = cell(src, dst, m) else {
            panic!("{src} -> {dst} must fail")
        };
        assert_eq!(
            e.path,
            ["parent_obj.parent_obj.parent_obj", "config"],
            "{src} -> {dst}"
        );
        assert!(
            matches!(e.kind, LoadErrorKind::BadConfigData { index: 0x10a, .. }),
            "{e}"
        );
    }
    cell("7.2", "8.0.1", m).unwrap();
    cell("8.0.1", "7.2", m).unwrap();
    let e = cell("8.0", "7.2", m).unwrap_err();
    assert_eq!(
        e.to_string().split(" (at offset").next().unwrap(),
        "error while loading state for instance 0x0 of device '0000:00:01.0/pcie-root-port' (stream version 1): \
         field 'parent_obj.parent_obj.parent_obj.config': Bad config data: i=0x10a read: 40 device: 0 cmask: ff"
    );

    // The way out: start the 8.0.1 destination with the property on, and
    // keep it on at every later hop.
    let scenarios = catalog().run_scenarios();
    let outcome = |title: &str| {
        scenarios
            .iter()
            .find(|s| s.title == title)
            .unwrap_or_else(|| panic!("{title}"))
            .outcome
            .clone()
    };
    assert!(outcome("8.0 -> 8.0.1 on pc-q35-7.2: the fix refuses 8.0's config").is_err());
    outcome("8.0 -> 8.0.1 with x-pcie-err-unc-mask=on on the destination").unwrap();
    outcome("8.0 -> 8.0.1 -> 8.2, remembering x-pcie-err-unc-mask=on").unwrap();
    assert_eq!(
        outcome("8.0 -> 8.0.1 -> 8.2, forgetting it on the last hop")
            .unwrap_err()
            .0,
        2
    );
}

/// The explain of the seeds' fix.
#[test]
fn why_the_mask_is_off_on_pc_7_2_in_8_0_1() {
    let e = r("8.0.1")
        .explain(
            "pc-q35-7.2",
            &[],
            "pcie-root-port,id=rp1",
            "x-pcie-err-unc-mask",
        )
        .unwrap();
    assert_eq!(
        e.summary(),
        "default on (pci-device) → off by hw_compat_7_2 applied by pc-q35-7.2"
    );
    let e = r("8.0")
        .explain(
            "pc-q35-7.2",
            &[],
            "pcie-root-port,id=rp1",
            "x-pcie-err-unc-mask",
        )
        .unwrap();
    assert_eq!(e.summary(), "default on (pci-device)", "8.0 forgot it");
}

/// The xen story (seed 003).
#[test]
fn xenfv() {
    cell("3.1", "5.0", "xenfv").unwrap();
    cell("4.2", "4.2", "xenfv").unwrap();
    let Err(MigrationError::Load(e)) = cell("4.2", "5.0", "xenfv") else {
        panic!("4.2 -> 5.0 xenfv must fail")
    };
    assert_eq!(e.kind, LoadErrorKind::TrailingGarbage { len: 34 });
    let Err(MigrationError::Load(e)) = cell("3.1", "4.2", "xenfv") else {
        panic!("3.1 -> 4.2 xenfv must fail: the original bug")
    };
    assert_eq!(e.path, ["smb.smb_ctl"]);
    // 4.2's xenfv -> 5.0's xenfv-4.2: device state carries no machine name.
    migrate(
        &r("4.2"),
        &standard_config("xenfv"),
        &r("5.0"),
        &standard_config("xenfv-4.2"),
    )
    .unwrap();
    // The stream is QEMU's xen-save-devices-state: no configuration, no footers.
    let r42 = r("4.2");
    let mut m = r42.instantiate_config(&standard_config("xenfv")).unwrap();
    let bytes = m.save().unwrap();
    assert_eq!(&bytes[..8], b"QEVM\0\0\0\x03");
    assert_eq!(
        bytes[8], 0x04,
        "a section right after the header, no configuration"
    );
    assert_eq!(*bytes.last().unwrap(), 0x00, "EOF last: no vmdesc trailer");
}

/// CPU feature intersection (seed 001): hosts A and B.
#[test]
fn cpu_hosts() {
    let [(_, a), (_, b)] = hosts();
    // The documents' table shares no feature: the intersection is the
    // bare model, and each host's own line turns off what the other lacks.
    assert_eq!(intersection_cpu(&a, &b), "base");
    assert_eq!(
        compat_core::resolve::host_cpu_option(&a, &b),
        "host,pcid=off,stibp=off"
    );
    assert_eq!(
        compat_core::resolve::host_cpu_option(&b, &a),
        "host,taa-no=off"
    );
    let scenarios = catalog().run_scenarios();
    for s in scenarios.iter().filter(|s| s.title.starts_with("CPU:")) {
        assert_eq!(
            s.outcome.is_ok(),
            s.title.contains("intersection") || s.title.contains("features off"),
            "{}: {:?}",
            s.title,
            s.outcome
        );
    }
    assert_eq!(
        scenarios
            .iter()
            .filter(|s| s.title.starts_with("CPU:"))
            .count(),
        6
    );
    // A feature the host lacks is refused at start.
    let config = compat_core::MachineConfig {
        cpu: Some("base,+stibp".into()),
        host_features: b.clone(),
        ..standard_config("pc-q35-8.0")
    };
    let err = r("8.0.1").instantiate_config(&config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "-device x86-cpu,id=cpu0,model=base,stibp=on: realize failed: host does not support requested feature 'stibp'"
    );
}

/// e1000e's timadj field: the compat entry keeps it out of pc-q35-7.2's
/// stream; undoing it breaks the load on 7.2 as real QEMU measured ("Missing
/// section footer").
#[test]
fn e1000e_timadj() {
    let scenarios = catalog().run_scenarios();
    let s = scenarios
        .iter()
        .find(|s| s.title.contains("migrate-timadj=on"))
        .unwrap();
    let (hop, MigrationError::Load(e)) = s.outcome.clone().unwrap_err() else {
        panic!("{:?}", s.outcome)
    };
    assert_eq!(hop, 1);
    assert_eq!(
        e.kind,
        LoadErrorKind::MissingFooter {
            idstr: "0000:00:02.0/e1000e".into()
        }
    );
    cell("8.0.1", "7.2", "pc-q35-7.2").unwrap();
}

/// With every source sending a pre-flight, every cell that fails without
/// one fails with it, and each failing cell where the two sides are
/// configured otherwise fails at the pre-flight, before any device state;
/// none that loads is refused by the pre-flight — release 8.0's AER switch
/// differs on PIIX4_PM, mch and am53c974 too, but those conventional PCI
/// functions declare it without effect (`inert`), as it is in QEMU.
#[test]
fn the_preflight_matrix_agrees_and_refuses_early() {
    let catalog = catalog();
    let (plain, early) = (catalog.matrix(), catalog.matrix_with_preflight());
    let mut refused_early = 0;
    assert_eq!(plain.len(), early.len());
    for (p, e) in plain.iter().zip(&early) {
        assert_eq!((&p.machine, p.cells.len()), (&e.machine, e.cells.len()));
        for (a, b) in p.cells.iter().zip(&e.cells) {
            assert_eq!((&a.src, &a.dst), (&b.src, &b.dst));
            assert_eq!(
                a.outcome.is_ok(),
                b.outcome.is_ok(),
                "{} {} -> {}: {:?} / {:?}",
                p.machine,
                a.src,
                a.dst,
                a.outcome,
                b.outcome
            );
            if let Some(load) = b.outcome.as_ref().err().and_then(|e| e.load_error()) {
                if matches!(
                    load.kind,
                    compat_core::codec::LoadErrorKind::Preflight { .. }
                ) {
                    refused_early += 1;
                }
            }
        }
    }
    assert!(refused_early > 0);
    // The documents' case: 8.0 -> 8.0.1 on pc-q35-7.2 is refused with the
    // option that accepts it.
    let q72 = early.iter().find(|m| m.machine == "pc-q35-7.2").unwrap();
    let cell = q72
        .cells
        .iter()
        .find(|c| c.src == "8.0" && c.dst == "8.0.1")
        .unwrap();
    let err = cell.outcome.as_ref().unwrap_err().to_string();
    assert!(
        err.contains("(accept it with -global pcie-root-port.x-pcie-err-unc-mask=on)"),
        "{err}"
    );
}
