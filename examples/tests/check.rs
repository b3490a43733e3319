//! The static checker agrees with the real matrix in every cell, and
//! proposes the fixes QEMU's documents give.

use compat_core::migrate;
use compat_core::migration::check::Prediction;
use compat_core::property::cmdline::parse_global;
use compat_core::{MachineConfig, Release};
use compat_examples::catalog::{catalog, hosts, intersection_cpu, standard_config};
use compat_examples::releases;

fn r(name: &str) -> Release {
    releases::release(name).unwrap()
}

/// The checker's prediction, with fixes aimed at the newer release as the
/// catalog orders them.
fn predict(src: &Release, sc: &MachineConfig, dst: &Release, dc: &MachineConfig) -> Prediction {
    catalog().predict(src, sc, dst, dc)
}

#[test]
fn the_prediction_agrees_with_every_cell() {
    let catalog = catalog();
    let mut cells = 0;
    for name in catalog.machine_names() {
        let table = catalog.machine_matrix(&name);
        for c in &table.cells {
            let src = catalog.release(&c.src).unwrap();
            let dst = catalog.release(&c.dst).unwrap();
            let p = catalog.predict(src, &table.config, dst, &table.config);
            assert_eq!(
                p.works,
                c.outcome.is_ok(),
                "{name} {} -> {}: predicted {p}, real {:?}",
                c.src,
                c.dst,
                c.outcome
            );
            cells += 1;
        }
    }
    assert!(cells > 500);
}

#[test]
fn the_prediction_agrees_with_every_scenario_hop() {
    // Single hops of the scenarios, including different configs per side.
    let q72 = standard_config("pc-q35-7.2");
    let mut on = q72.clone();
    on.globals
        .push(parse_global("pci-device.x-pcie-err-unc-mask=on").unwrap());
    let hops = [
        ("8.0", q72.clone(), "8.0.1", on.clone()),
        ("8.0.1", on.clone(), "8.2", on.clone()),
        ("8.0.1", on.clone(), "8.2", q72.clone()),
        (
            "4.2",
            standard_config("xenfv"),
            "5.0",
            standard_config("xenfv-4.2"),
        ),
    ];
    for (s, sc, d, dc) in hops {
        let real = migrate(&r(s), &sc, &r(d), &dc);
        let p = predict(&r(s), &sc, &r(d), &dc);
        assert_eq!(
            p.works,
            real.is_ok(),
            "{s} -> {d}: predicted {p}, real {real:?}"
        );
    }
}

#[test]
fn fixes_in_the_seeds_terms() {
    let q72 = standard_config("pc-q35-7.2");
    for (src, dst) in [("8.0", "7.2"), ("7.2", "8.0")] {
        let p = predict(&r(src), &q72, &r(dst), &q72);
        assert!(!p.works);
        assert_eq!(p.device.as_deref(), Some("rp1"));
        assert!(
            p.cause.as_deref().unwrap().contains(
                "field 'parent_obj.parent_obj.parent_obj.config' must match: at index 0x10a"
            ),
            "{p}"
        );
        assert!(
            p.fixes.contains(
                &"add {pci-device, x-pcie-err-unc-mask, off} to hw_compat_7_2 in release 8.0"
                    .to_owned()
            ),
            "{src} -> {dst}: {p}"
        );
    }
    let p = predict(&r("8.0"), &q72, &r("8.0.1"), &q72);
    assert!(
        p.fixes.iter().any(|f| f
            .starts_with("start the destination with -global pci-device.x-pcie-err-unc-mask=on")),
        "{p}"
    );
    assert_eq!(
        p.property_differences
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>(),
        [
            // The machine's own host bridge is a conventional PCI function,
            // which declares the switch without effect: not listed.
            "rp1: pci-device.x-pcie-err-unc-mask is on on the source, off on the destination",
            // e1000e is a PCI Express device with the root port's AER
            // capability: the switch differs, and so does its config space.
            "net0: pci-device.x-pcie-err-unc-mask is on on the source, off on the destination"
        ]
    );

    // xen: the flag explains it, and the fix is the compat machine type.
    let p = predict(
        &r("4.2"),
        &standard_config("xenfv"),
        &r("5.0"),
        &standard_config("xenfv"),
    );
    assert!(!p.works);
    assert!(p.cause.as_deref().unwrap().contains("smb.smb_stat"), "{p}");
    assert!(
        p.fixes
            .iter()
            .any(|f| f.starts_with("on the destination use machine type xenfv-4.2")),
        "{p}"
    );

    // e1000e: a field the 7.2 destination does not read.
    let mut timadj = q72.clone();
    timadj
        .globals
        .push(parse_global("e1000e.migrate-timadj=on").unwrap());
    let p = predict(&r("8.0.1"), &timadj, &r("7.2"), &q72);
    assert_eq!(
        p.cause.as_deref(),
        Some(
            "device '0000:00:02.0/e1000e': the source sends field 'core.timadj' (int64, 8 \
             bytes) that the destination does not read"
        ),
        "{p}"
    );
    assert!(
        p.fixes
            .iter()
            .any(|f| f
                .contains("add {e1000e, migrate-timadj, off} to hw_compat_7_2 in release 8.0.1")),
        "{p}"
    );

    // case 4
    let p = predict(
        &r("5.2"),
        &standard_config("pc-q35-5.2"),
        &r("5.1"),
        &standard_config("pc-q35-5.2"),
    );
    assert!(p
        .cause
        .as_deref()
        .unwrap()
        .starts_with("the destination refuses: unsupported machine type 'pc-q35-5.2'"));

    // The same release both sides: nothing to fix.
    let p = predict(&r("8.0.1"), &q72, &r("8.0.1"), &q72);
    assert!(
        p.works && p.fixes.is_empty() && p.property_differences.is_empty(),
        "{p}"
    );
}

#[test]
fn cpu_hosts_are_explained_by_the_host() {
    let [(_, a), (_, b)] = hosts();
    let config = |cpu: &str, host: &[String]| compat_core::MachineConfig {
        cpu: Some(cpu.to_owned()),
        host_features: host.to_vec(),
        ..standard_config("pc-q35-8.0")
    };
    let p = predict(
        &r("8.0.1"),
        &config("host", &a),
        &r("8.0.1"),
        &config("host", &b),
    );
    assert!(!p.works);
    assert!(
        p.cause
            .as_deref()
            .unwrap()
            .contains("field 'cpuid_features' must match"),
        "{p}"
    );
    assert!(
        p.fixes[0].contains("a model with the features both hosts have"),
        "{p}"
    );
    let shared = intersection_cpu(&a, &b);
    assert!(
        predict(
            &r("8.0.1"),
            &config(&shared, &a),
            &r("8.0.1"),
            &config(&shared, &b)
        )
        .works
    );
}

#[test]
fn a_stream_format_difference_names_a_machine_type_that_has_the_sources() {
    // A Xen guest's device-state stream offered to a PC machine type: the
    // checker says why, and which machine type of the destination reads it.
    let xen = standard_config("xenfv-4.2");
    let pc = standard_config("pc-i440fx-4.2");
    let p = predict(&r("5.0"), &xen, &r("5.0"), &pc);
    assert!(!p.works);
    assert_eq!(
        p.cause.as_deref(),
        Some("Configuration section missing: the source sends none")
    );
    assert!(
        p.fixes.iter().any(|f| f
            == "on the destination use machine type xenfv-4.2 (device-state streams, as the \
                source's xenfv-4.2)"),
        "{p}"
    );
}

/// am53c974 between releases 7.2 and 10.0 (QEMU's ESP state versions 6 and
/// 7): the release-based checker and the pre-flight say what the dump
/// check and real QEMU say. 7.2 -> 10.0 fails where 10.0 reads
/// `esp.drq_state` past what 7.2 wrote (QEMU: "Missing section footer"),
/// the renamed `data_in_ready` -> `data_ready` and the `ti_cmd` 10.0 keeps
/// for older streams (`mig_ti_cmd`) being no difference; 10.0 -> 7.2
/// completes with 10.0's `lun` read as 7.2's `ti_cmd`: a silent misread.
#[test]
fn am53c974_between_7_2_and_10_0_as_the_dump_check_says() {
    use compat_core::migration::migrate_with_preflight;
    let config = MachineConfig {
        devices: vec![compat_core::parse_device("am53c974,id=scsi0").unwrap()],
        ..MachineConfig {
            machine: "pc-q35-7.2".to_owned(),
            ..MachineConfig::default()
        }
    };
    let (q72, q10) = (r("7.2"), r("10.0"));

    let up = predict(&q72, &config, &q10, &config);
    assert!(!up.works, "{up}");
    let cause = up.cause.as_deref().unwrap();
    assert!(
        cause.ends_with(
            "the destination reads field 'esp.drq_state' (bool, 1 bytes) that the source does \
             not send"
        ),
        "{up}"
    );
    let e = migrate_with_preflight(&q72, &config, &q10, &config)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "'esp.drq_state' (bool, 1 bytes) that the source does not send: a load would fail"
        ),
        "{e}"
    );
    let e = migrate(&q72, &config, &q10, &config)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Missing section footer"), "{e}");

    let down = predict(&q10, &config, &q72, &config);
    assert!(!down.works, "{down}");
    assert!(
        down.cause.as_deref().unwrap().ends_with(
            "the source sends field 'esp.lun' (uint8, 1 bytes), the destination reads \
             'esp.ti_cmd' (uint8, 1 bytes) there: a field the source also sends, so the load \
             completes with the state in the wrong field (a silent misread)"
        ),
        "{down}"
    );
    let e = migrate_with_preflight(&q10, &config, &q72, &config)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("in as many bytes: a load would complete and misread them"),
        "{e}"
    );
    assert!(e.contains("'esp.lun'"), "{e}");
    // Without the pre-flight, the load completes.
    migrate(&q10, &config, &q72, &config).unwrap();
}
