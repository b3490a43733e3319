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

/// Real QEMU `qemu` loading `file`: `Ok` when the migration completed, else
/// QEMU's error lines.
fn qemu_load(qemu: &RealQemu, file: &Path) -> Result<(), String> {
    let outcome = qemu.load(&args(), file);
    match outcome.completed {
        true => Ok(()),
        false => Err(outcome.errors.join(" | ")),
    }
}

#[test]
fn am53c974_streams_both_ways_as_real_qemu() {
    let (Some(q72), Some(q10)) = (
        RealQemu::for_test(Version::V7_2, "am53c974 against QEMU 7.2"),
        RealQemu::for_test(Version::V10_0, "am53c974 against QEMU 10.0"),
    ) else {
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
            let theirs = qemu_load(qemu, file);
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
            let theirs = qemu_load(qemu, &file);
            assert_eq!(
                theirs.is_ok(),
                !(source == "7.2" && dest == "10.0"),
                "compat {source} -> QEMU {dest}: {theirs:?}"
            );
        }
        std::fs::remove_file(&file).ok();
    }
}
