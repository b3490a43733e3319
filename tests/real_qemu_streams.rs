//! Both directions against real QEMU, for the devices the example releases
//! model after QEMU 7.2.22 and 10.0.2 (`am53c974`): streams real QEMU writes
//! load into compat's releases `7.2` and `10.0` as they load into the real
//! QEMU of the same version — completed, or refused at the same section —
//! and save again byte for byte; streams compat writes load into real QEMU.

use std::path::{Path, PathBuf};

use compat_core::migration::ModelledLoad;
use compat_core::stream::qemu::QemuStream;
use compat_core::{parse_device, MachineConfig, Release};
use compat_tests::real_qemu::{RealQemu, Version};

const MACHINE: &str = "pc-q35-7.2";
const SECTION: &str = "0000:00:01.0/pciespscsi";

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("compat-streams-{}-{name}", std::process::id()))
}

fn args() -> Vec<String> {
    ["-M", MACHINE, "-device", "am53c974"]
        .map(str::to_owned)
        .to_vec()
}

fn release(name: &str) -> Release {
    compat_examples::releases::release(name).unwrap()
}

fn config() -> MachineConfig {
    MachineConfig {
        machine: MACHINE.to_owned(),
        devices: vec![parse_device("am53c974").unwrap()],
        ..MachineConfig::default()
    }
}

/// compat's release `name` loading `bytes` (the parts it does not model
/// skipped): `Ok` with its own save of the machine, or the error text.
fn compat_load(name: &str, bytes: &[u8]) -> Result<(ModelledLoad, Vec<u8>), String> {
    let r = release(name);
    let mut m = r.instantiate_config(&config()).unwrap();
    let done = m.load_modelled(bytes).map_err(|e| e.to_string())?;
    Ok((done, m.save().unwrap()))
}

/// Real QEMU `qemu` started with `args` loading `file`: `Ok` when the
/// migration completed, else QEMU's error lines.
fn qemu_load(qemu: &RealQemu, args: &[String], file: &Path) -> Result<(), String> {
    let outcome = qemu.load(args, file);
    match outcome.completed {
        true => Ok(()),
        false => Err(outcome.errors.join(" | ")),
    }
}

/// Real QEMU 7.2 and 10.0 for a test of `what`, or `None` after saying it
/// is skipped.
fn both(what: &str) -> Option<(RealQemu, RealQemu)> {
    Some((
        RealQemu::for_test(Version::V7_2, what)?,
        RealQemu::for_test(Version::V10_0, what)?,
    ))
}

#[test]
fn am53c974_streams_both_ways_as_real_qemu() {
    let Some((q72, q10)) = both("am53c974 against real QEMU") else {
        return;
    };
    let versions = [(&q72, "7.2"), (&q10, "10.0")];
    // Real streams: each QEMU saves a paused guest with the adapter.
    let mut real = Vec::new();
    for (qemu, name) in versions {
        let file = temp(&format!("qemu-{name}.mig"));
        qemu.save(&args(), &file).unwrap();
        real.push((name, file.clone(), std::fs::read(&file).unwrap()));
    }
    for (source, file, bytes) in &real {
        for (qemu, dest) in versions {
            // What the real destination does with it...
            let theirs = qemu_load(qemu, &args(), file);
            // ...compat's release of that version does.
            let ours = compat_load(dest, bytes);
            match (&theirs, &ours) {
                (Ok(()), Ok((done, saved))) => {
                    assert_eq!(done.loaded, [format!("{SECTION} (0)")]);
                    // Same version: saved again, byte for byte.
                    if source == &dest {
                        let (a, b) = (
                            QemuStream::parse(bytes).unwrap(),
                            QemuStream::parse(saved).unwrap(),
                        );
                        assert_eq!(
                            b.section_data(saved, SECTION, 0),
                            a.section_data(bytes, SECTION, 0),
                            "{source} -> {dest}: saved again"
                        );
                    }
                }
                (Err(q), Err(c)) => {
                    assert!(
                        q.contains(&format!("Missing section footer for {SECTION}")),
                        "{q}"
                    );
                    assert!(
                        c.contains(&format!("Missing section footer for {SECTION}")),
                        "{c}"
                    );
                }
                _ => panic!(
                    "QEMU {source} -> {dest}: real {theirs:?}, compat {:?}",
                    ours.map(|(d, _)| d)
                ),
            }
        }
        std::fs::remove_file(file).ok();
    }
    // The measured outcomes, for the record: 7.2 -> 10.0 fails, 10.0 ->
    // 7.2 completes (silently reading lun as ti_cmd).
    assert!(compat_load("10.0", &real[0].2).is_err());
    assert!(compat_load("7.2", &real[1].2).is_ok());

    // Streams compat writes load into real QEMU, with the outcomes above.
    for (_, source) in versions {
        let r = release(source);
        let mut m = r.instantiate_config(&config()).unwrap();
        let file = temp(&format!("compat-{source}.mig"));
        std::fs::write(&file, m.save().unwrap()).unwrap();
        for (qemu, dest) in versions {
            let theirs = qemu_load(qemu, &args(), &file);
            assert_eq!(
                theirs.is_ok(),
                !(source == "7.2" && dest == "10.0"),
                "compat {source} -> QEMU {dest}: {theirs:?}"
            );
        }
        std::fs::remove_file(&file).ok();
    }
}

/// A root port at 03.0 on pc-q35-7.2, with `extra` options.
fn root_port_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "-M",
        MACHINE,
        "-device",
        "pcie-root-port,id=rp1,chassis=1,addr=0x3",
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args
}

/// compat's `release` on pc-q35-7.2 with `-device device` and `globals`.
fn machine_with<'r>(
    release: &'r Release,
    device: &str,
    globals: &[&str],
) -> compat_core::Machine<'r> {
    release
        .instantiate_config(&MachineConfig {
            machine: MACHINE.to_owned(),
            devices: vec![parse_device(device).unwrap()],
            globals: globals
                .iter()
                .map(|g| compat_core::parse_global(g).unwrap())
                .collect(),
            ..MachineConfig::default()
        })
        .unwrap()
}

/// compat's release with a root port at 03.0 and `globals`.
fn root_port_machine<'r>(release: &'r Release, globals: &[&str]) -> compat_core::Machine<'r> {
    machine_with(release, "pcie-root-port,id=rp1,chassis=1,addr=0x3", globals)
}

/// The root port's config space as compat builds it, byte for byte where
/// QEMU compares: compat's streams load into real QEMU 7.2 and 10.0 both
/// ways; the AER mask undone on one side is refused by real QEMU 7.2 at the
/// same byte compat's 7.2 refuses; bytes QEMU compares that a stream
/// changes (the class code, the capability pointer) are refused by both.
#[test]
fn root_port_streams_both_ways_as_real_qemu() {
    let Some((q72, q10)) = both("the root port against real QEMU") else {
        return;
    };
    let (r72, r10) = (release("7.2"), release("10.0"));
    let load = |qemu: &RealQemu, bytes: &[u8], extra: &[&str]| {
        let file = temp("root-port.mig");
        std::fs::write(&file, bytes).unwrap();
        let outcome = qemu_load(qemu, &root_port_args(extra), &file);
        std::fs::remove_file(&file).ok();
        outcome
    };
    // compat's streams, mask off on both (hw_compat_7_2), into both QEMUs.
    for r in [&r72, &r10] {
        let bytes = root_port_machine(r, &[]).save().unwrap();
        for qemu in [&q72, &q10] {
            load(qemu, &bytes, &[]).unwrap_or_else(|e| {
                panic!("compat {} -> QEMU {}: {e}", r.name(), qemu.version.name())
            });
        }
    }
    // 10.0 with the mask on (undoing hw_compat_7_2) -> 7.2: refused by real
    // QEMU 7.2 and by compat's 7.2, at the same byte.
    let mask_on = "pcie-root-port.x-pcie-err-unc-mask=on";
    let bytes = root_port_machine(&r10, &[mask_on]).save().unwrap();
    let theirs = load(&q72, &bytes, &[]).unwrap_err();
    assert!(
        theirs.contains("Bad config data: i=0x10a read: 40 device: 0 cmask: ff wmask: 0 w1cmask:0"),
        "{theirs}"
    );
    let ours = root_port_machine(&r72, &[]).load(&bytes).unwrap_err();
    assert_eq!(
        ours.to_string().split(" (at offset").next().unwrap(),
        "error while loading state for instance 0x0 of device '0000:00:03.0/pcie-root-port' \
         (stream version 1): field 'parent_obj.parent_obj.parent_obj.config': \
         Bad config data: i=0x10a read: 40 device: 0 cmask: ff"
    );
    // The other way, the mask on at the destination only: both accept.
    let bytes = root_port_machine(&r72, &[]).save().unwrap();
    load(&q10, &bytes, &["-global", mask_on]).unwrap();
    root_port_machine(&r10, &[mask_on]).load(&bytes).unwrap();

    // A real stream with a compared byte changed: refused by both.
    let file = temp("qemu-root-port.mig");
    q72.save(&root_port_args(&[]), &file).unwrap();
    let real = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).ok();
    let doc = QemuStream::parse(&real).unwrap();
    let data = doc
        .section_data(&real, "0000:00:03.0/pcie-root-port", 0)
        .unwrap();
    // After PCIDevice's version_id: the config space.
    let config = data.as_ptr() as usize - real.as_ptr() as usize + 4;
    for (offset, what) in [(0x0b, "the class code"), (0x34, "the capability pointer")] {
        let mut changed = real.clone();
        changed[config + offset] ^= 0x01;
        let theirs = load(&q72, &changed, &[]).unwrap_err();
        assert!(
            theirs.contains(&format!("Bad config data: i=0x{offset:x} ")),
            "{what}: {theirs}"
        );
        let mut m = root_port_machine(&r72, &[]);
        let ours = m.load_modelled(&changed).unwrap_err();
        assert!(
            ours.to_string()
                .contains(&format!("Bad config data: i=0x{offset:x} ")),
            "{what}: {ours}"
        );
    }
}

/// An e1000e on pc-q35-7.2 (at 01.0), with `extra` options.
fn e1000e_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["-M", MACHINE, "-device", "e1000e,romfile="]
        .map(str::to_owned)
        .to_vec();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args
}

/// e1000e's whole section (about 136 KB) both ways: real QEMU's streams
/// load into compat's releases and save again byte for byte; compat's load
/// into real QEMU; `migrate-timadj=on` on one side only (undoing
/// `hw_compat_7_2`) is refused by real QEMU and compat alike.
#[test]
fn e1000e_streams_both_ways_as_real_qemu() {
    let Some((q72, q10)) = both("e1000e against real QEMU") else {
        return;
    };
    let section = "0000:00:01.0/e1000e";
    fn machine<'r>(r: &'r Release, globals: &[&str]) -> compat_core::Machine<'r> {
        machine_with(r, "e1000e", globals)
    }
    let file = temp("e1000e.mig");
    for (qemu, name) in [(&q72, "7.2"), (&q10, "10.0")] {
        // QEMU's stream into compat's release of the same version.
        qemu.save(&e1000e_args(&[]), &file).unwrap();
        let real = std::fs::read(&file).unwrap();
        let r = release(name);
        let mut m = machine(&r, &[]);
        let done = m
            .load_modelled(&real)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(done.loaded, [format!("{section} (0)")]);
        let saved = m.save().unwrap();
        let (a, b) = (
            QemuStream::parse(&real).unwrap(),
            QemuStream::parse(&saved).unwrap(),
        );
        let data = a.section_data(&real, section, 0).unwrap();
        assert!(data.len() > 130_000, "{}", data.len());
        assert_eq!(b.section_data(&saved, section, 0), Some(data), "{name}");
        // compat's stream into real QEMU of both versions.
        std::fs::write(&file, machine(&r, &[]).save().unwrap()).unwrap();
        for q in [&q72, &q10] {
            qemu_load(q, &e1000e_args(&[]), &file)
                .unwrap_or_else(|e| panic!("compat {name} -> QEMU {}: {e}", q.version.name()));
        }
    }
    // The time adjustment sent on pc-q35-7.2 (hw_compat_7_2 undone) is a
    // field the other side does not read: real QEMU 7.2 and compat's 7.2
    // both miss the section's footer.
    let timadj = "e1000e.migrate-timadj=on";
    let bytes = machine(&release("10.0"), &[timadj]).save().unwrap();
    std::fs::write(&file, &bytes).unwrap();
    let theirs = qemu_load(&q72, &e1000e_args(&[]), &file).unwrap_err();
    assert!(
        theirs.contains(&format!("Missing section footer for {section}")),
        "{theirs}"
    );
    let ours = machine(&release("7.2"), &[]).load(&bytes).unwrap_err();
    assert!(
        ours.to_string()
            .contains(&format!("Missing section footer for {section}")),
        "{ours}"
    );
    // e1000e has the root port's AER capability: the mask on a 10.0
    // source alone is refused by real QEMU 7.2 and compat's 7.2 alike.
    let bytes = machine(&release("10.0"), &["e1000e.x-pcie-err-unc-mask=on"])
        .save()
        .unwrap();
    std::fs::write(&file, &bytes).unwrap();
    let theirs = qemu_load(&q72, &e1000e_args(&[]), &file).unwrap_err();
    assert!(
        theirs.contains("Bad config data: i=0x10a read: 40 device: 0"),
        "{theirs}"
    );
    let ours = machine(&release("7.2"), &[]).load(&bytes).unwrap_err();
    assert!(
        ours.to_string()
            .contains("Bad config data: i=0x10a read: 40 device: 0"),
        "{ours}"
    );
    // And a real 7.2 stream into a 10.0 that expects the adjustment.
    q72.save(&e1000e_args(&[]), &file).unwrap();
    let real = std::fs::read(&file).unwrap();
    let theirs = qemu_load(&q10, &e1000e_args(&["-global", timadj]), &file).unwrap_err();
    assert!(
        theirs.contains(&format!("Missing section footer for {section}")),
        "{theirs}"
    );
    let ours = machine(&release("10.0"), &[timadj])
        .load_modelled(&real)
        .unwrap_err();
    assert!(
        ours.to_string()
            .contains(&format!("Missing section footer for {section}")),
        "{ours}"
    );
    std::fs::remove_file(&file).ok();
}

/// The data of section `section` (instance 0) of stream `bytes`.
fn section_bytes(bytes: &[u8], section: &str) -> Vec<u8> {
    let doc = QemuStream::parse(bytes).unwrap();
    doc.section_data(bytes, section, 0)
        .unwrap_or_else(|| panic!("no section {section}"))
        .to_vec()
}

/// The section of `section` in the stream `real` that real QEMU wrote and
/// in compat's `ours`: byte for byte the same, else the first byte that
/// differs is named with `what`.
fn assert_same_section(real: &[u8], ours: &[u8], section: &str, what: &str) {
    assert_same_bytes(
        &section_bytes(real, section),
        &section_bytes(ours, section),
        what,
    );
}

fn assert_same_bytes(a: &[u8], b: &[u8], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    let first = a.iter().zip(b).position(|(x, y)| x != y);
    assert_eq!(first, None, "{what}: first byte that differs");
}

/// A machine of `machine` with `-device device` saved, paused at start, by
/// real QEMU `qemu` and by compat's release `name`: `(QEMU's, compat's)`.
fn fresh_streams(qemu: &RealQemu, name: &str, machine: &str, device: &str) -> (Vec<u8>, Vec<u8>) {
    // Tests run at once: each save its own file.
    static SAVES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = temp(&format!("fresh-{n}.mig"));
    qemu.save(
        &["-M", machine, "-device", device].map(str::to_owned),
        &file,
    )
    .unwrap_or_else(|e| {
        panic!(
            "QEMU {} -M {machine} -device {device}: {e}",
            qemu.version.name()
        )
    });
    let real = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).ok();
    let ours = release(name)
        .instantiate_config(&MachineConfig {
            machine: machine.to_owned(),
            devices: vec![parse_device(device).unwrap()],
            ..MachineConfig::default()
        })
        .unwrap()
        .save()
        .unwrap();
    (real, ours)
}

/// A fresh root port is the section real QEMU writes, byte for byte: the
/// config space with the link speed and width, the physical slot, the AER
/// log size the properties give, on 7.2 and 10.0 (and 10.0's own machine
/// type: the AER mask and extended tags on).
#[test]
fn a_fresh_root_port_is_the_section_real_qemu_writes() {
    let Some((q72, q10)) = both("the root port's state at reset") else {
        return;
    };
    let common = [
        "",
        ",x-speed=2_5,x-width=1",
        ",x-speed=2_5,x-width=4,slot=5",
        ",x-speed=5,x-width=1",
        ",x-speed=8,x-width=12,aer_log_max=3",
    ];
    let cases = common
        .iter()
        .map(|p| (&q72, "7.2", MACHINE, *p))
        .chain(common.iter().map(|p| (&q10, "10.0", MACHINE, *p)))
        .chain([
            (&q10, "10.0", MACHINE, ",x-speed=64,x-width=16"),
            (&q10, "10.0", "pc-q35-10.0", ""),
            (&q10, "10.0", "pc-q35-10.0", ",x-speed=32,x-width=2"),
        ]);
    for (qemu, name, machine, props) in cases {
        let device = format!("pcie-root-port,id=rp1,chassis=1,addr=0x3{props}");
        let (real, ours) = fresh_streams(qemu, name, machine, &device);
        let what = format!("{name} -M {machine} {device}");
        assert_same_section(&real, &ours, "0000:00:03.0/pcie-root-port", &what);
    }
}

/// Put `errors` in the AER log of the root port `rp1` of `m` (release
/// 7.2's or 10.0's type).
fn set_aer_log(m: &mut compat_core::Machine<'_>, errors: &[compat_examples::devices::AerError]) {
    use compat_examples::devices::{qemu10, v7_2};
    let port = m
        .devices
        .iter_mut()
        .find(|d| d.id.as_deref() == Some("rp1"))
        .expect("the root port");
    let log = if let Some(p) = port.object.downcast_mut::<v7_2::PcieRootPort>() {
        &mut p.aer_log
    } else if let Some(p) = port.object.downcast_mut::<qemu10::PcieRootPort>() {
        &mut p.aer_log
    } else {
        panic!("not a root port of release 7.2 or 10.0");
    };
    log.log = errors.to_vec();
    log.log_num = errors.len() as u16;
}

/// The root port's AER log holds as many errors as `log_num` says
/// (QEMU's `VMSTATE_STRUCT_VARRAY_POINTER_UINT16`): compat's stream with
/// two logged errors loads into real QEMU 7.2 and 10.0, which save the same
/// section again; compat reads QEMU's stream back to the same log.
#[test]
fn a_root_port_with_logged_errors_round_trips_through_real_qemu() {
    use compat_examples::devices::AerError;
    let Some((q72, q10)) = both("the AER log against real QEMU") else {
        return;
    };
    let section = "0000:00:03.0/pcie-root-port";
    let (out, back) = (temp("aer-out.mig"), temp("aer-back.mig"));
    for (qemu, name) in [(&q72, "7.2"), (&q10, "10.0")] {
        let r = release(name);
        let mut m = root_port_machine(&r, &[]);
        let errors = [
            AerError {
                status: 0x10,
                source_id: 0x18,
                flags: 1,
                header: [1, 2, 3, 4],
                prefix: [0; 4],
            },
            AerError {
                status: 0x4000,
                source_id: 0x18,
                flags: 3,
                header: [5, 6, 7, 8],
                prefix: [9, 10, 11, 12],
            },
        ];
        set_aer_log(&mut m, &errors);
        let ours = m.save().unwrap();
        std::fs::write(&out, &ours).unwrap();
        qemu.relay(&root_port_args(&[]), &out, &back)
            .unwrap_or_else(|e| panic!("QEMU {name}: {e}"));
        let theirs = std::fs::read(&back).unwrap();
        assert_same_section(&theirs, &ours, section, &format!("QEMU {name}'s save"));
        let mut again = root_port_machine(&r, &[]);
        again.load_modelled(&theirs).unwrap();
        assert_eq!(again.save().unwrap(), ours, "{name}");
    }
    std::fs::remove_file(&out).ok();
    std::fs::remove_file(&back).ok();
}

/// A fresh am53c974 is the section real QEMU writes, byte for byte but for
/// the empty FIFOs' buffers (ESP state version 6 on 7.2, 7 on 10.0), on
/// both machine types.
#[test]
fn a_fresh_am53c974_is_the_section_real_qemu_writes() {
    let Some((q72, q10)) = both("am53c974's state at reset") else {
        return;
    };
    for (qemu, name, machine) in [
        (&q72, "7.2", MACHINE),
        (&q10, "10.0", MACHINE),
        (&q10, "10.0", "pc-q35-10.0"),
    ] {
        let (real, ours) = fresh_streams(qemu, name, machine, "am53c974");
        // QEMU allocates the two FIFOs' buffers without clearing them: at
        // reset they hold whatever the heap held (pointers, text). Both
        // FIFOs are empty (`num` 0), so no load reads those bytes; they are
        // the only ones let differ. The ESP state ends with the data FIFO
        // (16 bytes, head, num), the command FIFO (32 bytes, head, num) and
        // two one-byte fields, in both versions.
        let (mut a, mut b) = (section_bytes(&real, SECTION), section_bytes(&ours, SECTION));
        assert_eq!(a.len(), b.len(), "{name} -M {machine}");
        let cmdfifo = a.len() - 2 - 8 - 32;
        let fifo = cmdfifo - 8 - 16;
        for data in [fifo..fifo + 16, cmdfifo..cmdfifo + 32] {
            assert!(b[data.clone()].iter().all(|&x| x == 0));
            a[data.clone()].fill(0);
            b[data].fill(0);
        }
        assert_same_bytes(&a, &b, &format!("{name} -M {machine}"));
    }
}

/// A fresh e1000e is what real QEMU builds, byte for byte over its whole
/// section: the config space, the EEPROM, the PHY and the MAC registers at
/// reset, with what the properties put there — the MAC address (EEPROM,
/// its checksum, receive address 0, the device serial number), the
/// subsystem ids, `init-vet` — on 7.2 and 10.0.
#[test]
fn a_fresh_e1000e_is_the_section_real_qemu_writes() {
    let Some((q72, q10)) = both("e1000e's state at reset") else {
        return;
    };
    let section = "0000:00:01.0/e1000e";
    let cases = [
        "",
        ",mac=02:11:22:33:44:55,subsys=0x1234,subsys_ven=0x5678",
        ",init-vet=off,mac=52-54-00-ab-cd-ef",
    ];
    for (qemu, name) in [(&q72, "7.2"), (&q10, "10.0")] {
        for props in cases {
            let device = format!("e1000e,romfile={props}");
            let (real, ours) = fresh_streams(qemu, name, MACHINE, &device);
            assert_same_section(&real, &ours, section, &format!("{name} {device}"));
            // And the trailer describes the fields as QEMU's does: the two
            // parts both named `parent_obj` as `parent_obj[0]` and
            // `parent_obj[1]`, the skipped bytes `unused[0]`, `unused[1]`,
            // the timers as `timer`s, the MAC address as six `uint8`s — so
            // the section reads alike but for the PCI function, whose
            // config QEMU numbers `config[1]` after a 256-byte alternative
            // it declares for conventional functions.
            let fields = |bytes: &[u8]| -> serde_json::Map<String, serde_json::Value> {
                let v = QemuStream::parse(bytes).unwrap().analyze();
                let (_, dev) = v
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| k.starts_with(section))
                    .expect("the e1000e section");
                let mut dev = dev.as_object().unwrap().clone();
                dev.remove("parent_obj[0]").expect("the PCI function");
                dev
            };
            assert_eq!(fields(&ours), fields(&real), "{name} {device}");
        }
    }
}

/// What QEMU 10.0 changes with `x-pcie-err-unc-mask=on`, as compat sets
/// it, is what the recording with the property on holds, byte for byte
/// and bit for compared bit.
#[test]
fn the_unc_mask_as_qemu_10_sets_it() {
    use compat_examples::devices::{PciDeviceState, ROOT_PORT_10_0, ROOT_PORT_10_0_UNC_MASK};
    let mut ours = PciDeviceState::from_recorded(&ROOT_PORT_10_0);
    ours.set_unc_mask_10_0();
    assert!(ours.config == ROOT_PORT_10_0_UNC_MASK.config);
    assert!(ours.check == ROOT_PORT_10_0_UNC_MASK.check);
}

/// On release 10.0's own machine type (`pc-q35-10.0`: the AER mask and
/// extended tags on), compat's streams load into real QEMU 10.0.
#[test]
fn streams_of_pc_q35_10_0_load_into_real_qemu_10() {
    let Some(q10) = RealQemu::for_test(Version::V10_0, "pc-q35-10.0 streams into QEMU 10.0") else {
        return;
    };
    let r = release("10.0");
    for device in [
        "pcie-root-port,id=rp1,chassis=1,addr=0x3",
        "e1000e",
        "am53c974",
    ] {
        let mut m = r
            .instantiate_config(&MachineConfig {
                machine: "pc-q35-10.0".into(),
                devices: vec![parse_device(device).unwrap()],
                ..MachineConfig::default()
            })
            .unwrap();
        let file = temp("q35-10.0.mig");
        std::fs::write(&file, m.save().unwrap()).unwrap();
        let qemu_device = match device {
            "e1000e" => "e1000e,romfile=",
            d => d,
        };
        let args = ["-M", "pc-q35-10.0", "-device", qemu_device].map(str::to_owned);
        qemu_load(&q10, &args, &file).unwrap_or_else(|e| panic!("{device}: {e}"));
        std::fs::remove_file(&file).ok();
    }
}

/// A stream real QEMU saved, held against the destination's own
/// `-dump-vmstate`: the check names what the real load then does — for
/// am53c974, 7.2 -> 10.0 breaks at `esp.drq_state` (QEMU: "Missing section
/// footer") and 10.0 -> 7.2 fails either way the destination's tested
/// `ti_cmd` goes, the real load completing with the misread; e1000e
/// migrates both ways — and never says "works" where the real load fails.
#[test]
fn a_stream_checked_against_the_destinations_dump_as_real_qemu_loads_it() {
    use compat_core::migration::dump_check::{compare_stream, DumpVerdict, VmStateDump};
    let Some((q72, q10)) = both("streams against real dumps") else {
        return;
    };
    let versions = [(&q72, "7.2"), (&q10, "10.0")];
    let dumps: Vec<VmStateDump> = versions
        .iter()
        .map(|(q, _)| VmStateDump::parse(&q.dump_vmstate(MACHINE).unwrap()).unwrap())
        .collect();
    for (device, section) in [
        ("am53c974", SECTION),
        ("e1000e,romfile=", "0000:00:01.0/e1000e"),
    ] {
        let args: Vec<String> = ["-M", MACHINE, "-device", device]
            .map(str::to_owned)
            .to_vec();
        for (source, from) in versions {
            let file = temp(&format!("checked-{from}.mig"));
            source.save(&args, &file).unwrap();
            let stream = QemuStream::parse(&std::fs::read(&file).unwrap()).unwrap();
            for ((dest, to), dump) in versions.iter().zip(&dumps) {
                let c = compare_stream(&stream, dump);
                let verdict = c
                    .devices
                    .iter()
                    .find(|d| d.type_name.starts_with(section))
                    .map(|d| &d.verdict);
                let real = qemu_load(dest, &args, &file);
                let what = format!("{device} {from} -> {to}: {c}; real: {real:?}");
                match (device, from, *to) {
                    ("am53c974", "7.2", "10.0") => {
                        let Some(DumpVerdict::Breaks { at, reason }) = verdict else {
                            panic!("{what}")
                        };
                        assert_eq!(at, "esp.drq_state", "{what}");
                        assert!(reason.contains("Missing section footer"), "{what}");
                        assert!(
                            real.as_ref()
                                .is_err_and(|e| e.contains("Missing section footer")),
                            "{what}"
                        );
                    }
                    ("am53c974", "10.0", "7.2") => {
                        // 7.2's `ti_cmd` is tested and 10.0 sends nothing
                        // of that name: read, the bytes land one field
                        // early; not read, one byte is left over. Wrong
                        // either way.
                        let Some(DumpVerdict::Depends { fields, with, .. }) = verdict else {
                            panic!("{what}")
                        };
                        assert_eq!(fields, &["esp.ti_cmd (destination)"], "{what}");
                        assert!(
                            matches!(&**with, DumpVerdict::Misreads { misread }
                                if misread.contains(&("esp.lun".into(), "esp.ti_cmd".into()))),
                            "{what}"
                        );
                        assert!(verdict.is_some_and(DumpVerdict::fails), "{what}");
                        // The load completes: nothing in QEMU notices.
                        assert!(real.is_ok(), "{what}");
                    }
                    _ => {
                        assert!(!verdict.is_some_and(DumpVerdict::fails), "{what}");
                        assert!(!c.fails(), "{what}");
                        assert!(real.is_ok(), "{what}");
                    }
                }
                // Sections a dump has no type for are said, not compared.
                assert!(c.undescribed.iter().any(|s| s == "cpu_common"), "{what}");
            }
            std::fs::remove_file(&file).ok();
        }
    }
}

/// A stream saved with `suppress-vmdesc=on` has no trailer: reading it
/// refuses the first device section it cannot describe, on both versions,
/// so no check is made of sections nobody described.
#[test]
fn a_stream_without_its_trailer_is_refused_at_its_first_device_section() {
    let Some((q72, q10)) = both("streams saved with suppress-vmdesc") else {
        return;
    };
    for qemu in [&q72, &q10] {
        let file = temp(&format!("no-vmdesc-{}.mig", qemu.version.name()));
        qemu.save(
            &["-M", "pc-q35-7.2,suppress-vmdesc=on"].map(str::to_owned),
            &file,
        )
        .unwrap();
        let err = QemuStream::parse(&std::fs::read(&file).unwrap()).unwrap_err();
        std::fs::remove_file(&file).ok();
        assert!(
            err.to_string()
                .contains("no description of section 'timer' instance 0 in the vmdesc trailer"),
            "{}: {err}",
            qemu.version.name()
        );
    }
}

/// A QOM subclass without a VMState of its own has its parent's — what
/// compat's subtypes do: real QEMU 7.2 and 10.0 list `dc390` among the
/// types implementing `am53c974`, and their `-dump-vmstate` gives it
/// `am53c974`'s description, section name `pciespscsi`.
#[test]
fn a_qemu_subclass_has_its_parents_description() {
    use compat_core::migration::dump_check::VmStateDump;
    let Some((q72, q10)) = both("a QOM subclass's description") else {
        return;
    };
    for qemu in [&q72, &q10] {
        let outcome = qemu.run(
            &["-M".to_owned(), "none".to_owned()],
            &[serde_json::json!({"execute": "qom-list-types",
                                  "arguments": {"implements": "am53c974"}})],
        );
        let names: Vec<&str> = outcome.replies[0]["return"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert!(names.contains(&"dc390"), "{names:?}");
        let d = VmStateDump::parse(&qemu.dump_vmstate(MACHINE).unwrap()).unwrap();
        let (parent, child) = (&d.types["am53c974"], &d.types["dc390"]);
        assert_eq!(parent.description.name, "pciespscsi");
        assert_eq!(child.description, parent.description);
    }
}

/// A root port on `pc-q35-3.1`, whose step starts it with 2.5 GT/s x1 and
/// no ACS capability (QEMU's `hw_compat_3_1`): streams of each real QEMU
/// load into compat's release of each version (and save again byte for
/// byte within one version), and compat's streams load into each real QEMU.
/// Without the ACS entry both real QEMUs refused compat's streams (`Bad
/// config data: i=0x102`) and compat refused theirs.
#[test]
fn a_root_port_on_pc_q35_3_1_migrates_both_ways_with_real_qemu() {
    let Some((q72, q10)) = both("a root port on pc-q35-3.1 against real QEMU") else {
        return;
    };
    const OLD: &str = "pc-q35-3.1";
    const PORT: &str = "pcie-root-port,id=rp1,chassis=1,addr=0x3";
    const PORT_SECTION: &str = "0000:00:03.0/pcie-root-port";
    let args: Vec<String> = ["-M", OLD, "-device", PORT].map(str::to_owned).to_vec();
    let config = MachineConfig {
        machine: OLD.to_owned(),
        devices: vec![parse_device(PORT).unwrap()],
        ..MachineConfig::default()
    };
    let versions = [(&q72, "7.2"), (&q10, "10.0")];
    for (qemu, source) in versions {
        let file = temp(&format!("qemu-{source}-q35-3.1.mig"));
        qemu.save(&args, &file).unwrap();
        let bytes = std::fs::read(&file).unwrap();
        for (_, dest) in versions {
            let r = release(dest);
            let mut m = r.instantiate_config(&config).unwrap();
            let done = m
                .load_modelled(&bytes)
                .unwrap_or_else(|e| panic!("QEMU {source} -> compat {dest}: {e}"));
            assert!(
                done.loaded.contains(&format!("{PORT_SECTION} (0)")),
                "{done:?}"
            );
            if source == dest {
                let saved = m.save().unwrap();
                assert_same_section(&bytes, &saved, PORT_SECTION, &format!("{source} again"));
            }
        }
        std::fs::remove_file(&file).ok();
    }
    for (_, source) in versions {
        let r = release(source);
        let mut m = r.instantiate_config(&config).unwrap();
        let file = temp(&format!("compat-{source}-q35-3.1.mig"));
        std::fs::write(&file, m.save().unwrap()).unwrap();
        for (qemu, dest) in versions {
            let theirs = qemu_load(qemu, &args, &file);
            assert!(theirs.is_ok(), "compat {source} -> QEMU {dest}: {theirs:?}");
        }
        std::fs::remove_file(&file).ok();
    }
}

/// e1000e off the root complex's own bus — behind a root port, and on
/// `pc-i440fx-7.2`'s conventional bus — is a plain PCI Express endpoint
/// (its capability's type at config 0xe2), where on `pcie.0` it is an
/// integrated one: compat's fresh section is the one real QEMU writes on
/// each bus, on 7.2 and 10.0; behind a root port, streams go both ways
/// with real QEMU. (Both real QEMUs refused compat's streams with `Bad
/// config data: i=0xe2` before the card saw its bus.)
#[test]
fn e1000e_off_the_root_bus_is_the_endpoint_real_qemu_builds() {
    let Some((q72, q10)) = both("e1000e off the root bus against real QEMU") else {
        return;
    };
    let behind = [
        "-M",
        MACHINE,
        "-device",
        "pcie-root-port,id=rp1,chassis=1,addr=0x3",
        "-device",
        "e1000e,romfile=,bus=rp1",
    ];
    let on_i440fx = ["-M", "pc-i440fx-7.2", "-device", "e1000e,romfile="];
    let cases: [(&[&str], &str); 2] = [
        (&behind, "0000:00:03.0:00.0/e1000e"),
        (&on_i440fx, "0000:00:02.0/e1000e"),
    ];
    for (qemu, name) in [(&q72, "7.2"), (&q10, "10.0")] {
        for (args, section) in cases {
            let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
            let file = temp(&format!("e1000e-off-root-{name}.mig"));
            qemu.save(&args, &file).unwrap();
            let real = std::fs::read(&file).unwrap();
            let config = MachineConfig {
                machine: args[1].clone(),
                devices: args
                    .chunks(2)
                    .skip(1)
                    .map(|d| parse_device(&d[1]).unwrap())
                    .collect(),
                ..MachineConfig::default()
            };
            let r = release(name);
            let mut m = r.instantiate_config(&config).unwrap();
            let ours = m.save().unwrap();
            assert_same_section(&real, &ours, section, &format!("{name} {args:?}"));
            // Behind a root port, whole streams both ways (i440fx's PIIX4_PM
            // is not QEMU's section yet).
            if args[1] == MACHINE {
                let done = m
                    .load_modelled(&real)
                    .unwrap_or_else(|e| panic!("QEMU {name} -> compat: {e}"));
                assert!(done.loaded.contains(&format!("{section} (0)")), "{done:?}");
                std::fs::write(&file, &ours).unwrap();
                let theirs = qemu_load(qemu, &args, &file);
                assert!(theirs.is_ok(), "compat {name} -> QEMU {name}: {theirs:?}");
            }
            std::fs::remove_file(&file).ok();
        }
    }
}

/// A stream with a device the destination's command line does not declare,
/// of a type the release models: real QEMU refuses it (`Unknown savevm
/// section`), and so does compat's load of the modelled part, in QEMU's
/// words, rather than skip it as a part it does not model.
#[test]
fn a_modelled_device_the_command_line_lacks_is_refused_as_qemu_refuses_it() {
    let Some((q72, _)) = both("an undeclared device against real QEMU") else {
        return;
    };
    let file = temp("undeclared.mig");
    q72.save(&e1000e_args(&[]), &file).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let bare: Vec<String> = ["-M", MACHINE].map(str::to_owned).to_vec();
    let theirs = qemu_load(&q72, &bare, &file).unwrap_err();
    std::fs::remove_file(&file).ok();
    let r = release("7.2");
    let mut m = r
        .instantiate_config(&MachineConfig {
            machine: MACHINE.to_owned(),
            ..MachineConfig::default()
        })
        .unwrap();
    let ours = m.load_modelled(&bytes).unwrap_err().to_string();
    let said = "Unknown savevm section or instance '0000:00:01.0/e1000e' 0";
    assert!(theirs.contains(said), "{theirs}");
    assert!(ours.contains(said), "{ours}");
}

/// `addr=1` behind a root port, whose bus has slot 0 only: QEMU 10.0 warns
/// and places the card at slot 1 (QEMU 7.2 silently), and so does compat,
/// in 10.0's words; the card's section, named by that place, is the one
/// real QEMU writes, on both versions.
#[test]
fn a_slot_the_root_port_lacks_is_a_warning_and_a_place_as_in_qemu() {
    let Some((q72, q10)) = both("a slot behind a root port against real QEMU") else {
        return;
    };
    let args: Vec<String> = [
        "-M",
        MACHINE,
        "-device",
        "pcie-root-port,id=rp1,chassis=1,addr=0x3",
        "-device",
        "e1000e,romfile=,bus=rp1,addr=1",
    ]
    .map(str::to_owned)
    .to_vec();
    let said = "PCI: slot 1 is not valid for e1000e, parent device only allows plugging into \
                slot 0.";
    let theirs = q10.run(&args, &[]);
    assert!(
        theirs.stderr.iter().any(|l| l.ends_with(said)),
        "{:?}",
        theirs.stderr
    );
    let silent = q72.run(&args, &[]);
    assert!(silent.started, "{:?}", silent.stderr);
    assert!(
        !silent.stderr.iter().any(|l| l.contains("is not valid")),
        "{:?}",
        silent.stderr
    );
    let section = "0000:00:03.0:01.0/e1000e";
    for (qemu, name) in [(&q72, "7.2"), (&q10, "10.0")] {
        let file = temp(&format!("slot-1-{name}.mig"));
        qemu.save(&args, &file).unwrap();
        let real = std::fs::read(&file).unwrap();
        std::fs::remove_file(&file).ok();
        let r = release(name);
        let mut m = r
            .instantiate_config(&MachineConfig {
                machine: MACHINE.to_owned(),
                devices: vec![
                    parse_device(&args[3]).unwrap(),
                    parse_device(&args[5]).unwrap(),
                ],
                ..MachineConfig::default()
            })
            .unwrap();
        assert!(
            m.warnings.iter().any(|w| w.ends_with(said)),
            "{:?}",
            m.warnings
        );
        let ours = m.save().unwrap();
        assert_same_section(&real, &ours, section, name);
    }
}
