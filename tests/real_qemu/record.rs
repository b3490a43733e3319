//! `record-real-qemu`: record what real QEMU does, as the fixtures the tests
//! compare compat with. Run by `scripts/real-qemu/record.sh` after
//! `install.sh`; writes into `tests/fixtures/real-qemu/`.
//!
//! `options`: every case of `option-cases.jsonl` run on QEMU 10.0, the
//! outcome in `options-10.0.json`; every case of `option-cases-7.2.jsonl`
//! run on QEMU 7.2, in `options-7.2.json`.
//!
//! `config`: the config space of a `pcie-root-port` and an `e1000e` as QEMU 7.2 and 10.0
//! build it (from a stream of a paused guest) and the bits they compare on
//! load, found by loading that stream back with bytes flipped: each refusal
//! names the first byte compared and its masks. Written to
//! `examples/src/devices/recorded/`, where the example root port reads it;
//! with the register files (EEPROM, PHY, MAC) of an `e1000e` at reset.

use std::path::{Path, PathBuf};

use compat_tests::real_qemu::{OptionCase, RealQemu, Version};
use serde_json::{json, Value};

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "all".to_owned());
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/real-qemu"));
    let installed = |v: Version| {
        RealQemu::installed(v).unwrap_or_else(|| {
            fail(&format!(
                "QEMU {} is not installed: run scripts/real-qemu/install.sh",
                v.full()
            ))
        })
    };
    let q10 = installed(Version::V10_0);
    if matches!(what.as_str(), "options" | "all") {
        record_options(&q10, "option-cases.jsonl", "options-10.0.json", &dir);
        let q72 = installed(Version::V7_2);
        record_options(&q72, "option-cases-7.2.jsonl", "options-7.2.json", &dir);
    }
    if matches!(what.as_str(), "config" | "all") {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/src/devices/recorded");
        let q72 = installed(Version::V7_2);
        let mask_on = ["-global", "pcie-root-port.x-pcie-err-unc-mask=on"];
        let port = (ROOT_PORT, ROOT_PORT_SECTION, "pcie-root-port");
        let nic = ("e1000e,romfile=", "0000:00:01.0/e1000e", "e1000e");
        record_config(&q72, port, &[], "7.2", &out);
        record_config(&q10, port, &[], "10.0", &out);
        record_config(&q10, port, &mask_on, "10.0-unc-mask", &out);
        // Without ACS, as hw_compat_3_1 starts a root port on 3.1 machine
        // types.
        let no_acs = ["-global", "pcie-root-port.disable-acs=on"];
        record_config(&q72, port, &no_acs, "7.2-no-acs", &out);
        record_config(&q10, port, &no_acs, "10.0-no-acs", &out);
        record_config(&q72, nic, &[], "7.2", &out);
        record_config(&q10, nic, &[], "10.0", &out);
        // Off the root bus: behind a root port, and on i440fx's PCI bus.
        let behind = (
            "e1000e,romfile=,bus=rp1",
            "0000:00:03.0:00.0/e1000e",
            "e1000e",
        );
        let port_first = ["-device", ROOT_PORT];
        record_config(&q72, behind, &port_first, "7.2-behind-root-port", &out);
        record_config(&q10, behind, &port_first, "10.0-behind-root-port", &out);
        let on_pci = ("e1000e,romfile=", "0000:00:02.0/e1000e", "e1000e");
        let i440fx = ["-M", "pc-i440fx-7.2"];
        record_config(&q72, on_pci, &i440fx, "7.2-i440fx", &out);
        record_config(&q10, on_pci, &i440fx, "10.0-i440fx", &out);
        record_registers(&q72, "7.2", &out);
        record_registers(&q10, "10.0", &out);
    }
}

/// The root port every recording uses: chassis 1, slot 0, at 03.0.
const ROOT_PORT: &str = "pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x3";
const ROOT_PORT_SECTION: &str = "0000:00:03.0/pcie-root-port";

/// `Bad config data: i=0x.. read: .. device: .. cmask: .. wmask: .. w1cmask:..`
/// of QEMU's `get_pci_config_device`: the byte and its three masks.
fn bad_config(line: &str) -> Option<(usize, u8, u8, u8)> {
    let rest = line.split("Bad config data: i=0x").nth(1)?;
    let hex = |key: &str| -> Option<u8> {
        let v = rest.split(key).nth(1)?.trim_start();
        u8::from_str_radix(v.split_whitespace().next()?, 16).ok()
    };
    let i = usize::from_str_radix(rest.split_whitespace().next()?, 16).ok()?;
    Some((i, hex("cmask:")?, hex("wmask:")?, hex("w1cmask:")?))
}

/// Record the config space and compared bits of the PCI Express device
/// `(option, section, file name)` on `qemu` with the options `extra`, as
/// `FILE-NAME.txt`.
fn record_config(
    qemu: &RealQemu,
    (device, section, file_name): (&str, &str, &str),
    extra: &[&str],
    name: &str,
    out: &Path,
) {
    // `extra` before the device: a `-device` it names as its bus, or a
    // `-M` of another machine type (the last `-M` is QEMU's).
    let mut args: Vec<String> = vec!["-M".to_owned(), "pc-q35-7.2".to_owned()];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args.extend(["-device".to_owned(), device.to_owned()]);
    let tmp = std::env::temp_dir().join(format!("record-config-{}", std::process::id()));
    qemu.save(&args, &tmp).unwrap_or_else(|e| fail(&e));
    let bytes = std::fs::read(&tmp).unwrap_or_else(|e| fail(&e.to_string()));
    let doc = compat_core::stream::qemu::QemuStream::parse(&bytes)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let data = doc
        .section_data(&bytes, section, 0)
        .unwrap_or_else(|| fail(&format!("no section {section}")));
    // The section starts with PCIDevice's version_id (4 bytes), then the
    // 4096 bytes of config space.
    let start = data.as_ptr() as usize - bytes.as_ptr() as usize + 4;
    let config = bytes[start..start + 4096].to_vec();
    let mut checked = Vec::new();
    let mut from = 0;
    while from < 4096 {
        let mut flipped = bytes.clone();
        for b in &mut flipped[start + from..start + 4096] {
            *b ^= 0xff;
        }
        std::fs::write(&tmp, &flipped).unwrap_or_else(|e| fail(&e.to_string()));
        let outcome = qemu.load(&args, &tmp);
        if outcome.completed {
            break;
        }
        let Some((i, cmask, wmask, w1cmask)) = outcome.errors.iter().find_map(|l| bad_config(l))
        else {
            fail(&format!(
                "QEMU refused without naming a config byte: {:?}",
                outcome.errors
            ));
        };
        checked.push((i, cmask & !wmask & !w1cmask));
        from = i + 1;
    }
    std::fs::remove_file(&tmp).ok();
    let mut text = format!(
        "# The config space of {device} on QEMU {} -M pc-q35-7.2 {}, paused at\n\
         # start, and the bits it compares on load (cmask & ~wmask & ~w1cmask), recorded by\n\
         # scripts/real-qemu/record.sh config. Lines: `config HEX` (4096 bytes), then\n\
         # `check OFFSET BITS` in hex for every byte compared.\nconfig ",
        qemu.version.full(),
        extra.join(" ")
    );
    for b in &config {
        text.push_str(&format!("{b:02x}"));
    }
    text.push('\n');
    for (i, bits) in &checked {
        text.push_str(&format!("check {i:03x} {bits:02x}\n"));
    }
    std::fs::create_dir_all(out).unwrap_or_else(|e| fail(&e.to_string()));
    let file = out.join(format!("{file_name}-{name}.txt"));
    std::fs::write(&file, text).unwrap_or_else(|e| fail(&e.to_string()));
    eprintln!("{}: {} bytes compared", file.display(), checked.len());
}

/// The register files of an `e1000e` at reset on `qemu` (`-M pc-q35-7.2`,
/// the default MAC address, `init-vet` on): every element of the EEPROM,
/// the PHY and the MAC register file that is not zero, read from a paused
/// guest's stream through its description, as `e1000e-registers-NAME.txt`.
fn record_registers(qemu: &RealQemu, name: &str, out: &Path) {
    let args: Vec<String> = ["-M", "pc-q35-7.2", "-device", "e1000e,romfile="]
        .map(str::to_owned)
        .to_vec();
    let tmp = std::env::temp_dir().join(format!("record-registers-{}", std::process::id()));
    qemu.save(&args, &tmp).unwrap_or_else(|e| fail(&e));
    let bytes = std::fs::read(&tmp).unwrap_or_else(|e| fail(&e.to_string()));
    std::fs::remove_file(&tmp).ok();
    let doc = compat_core::stream::qemu::QemuStream::parse(&bytes)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let analyzed = doc.analyze();
    let section = analyzed
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.contains("/e1000e ")))
        .map(|(_, v)| v)
        .unwrap_or_else(|| fail("no e1000e section"));
    let mut text = format!(
        "# The register files of e1000e on QEMU {} -M pc-q35-7.2 at reset (MAC address\n\
         # 52:54:00:12:34:56, init-vet on), recorded by scripts/real-qemu/record.sh config.\n\
         # Lines: `FIELD INDEX VALUE` in hex, for every element that is not zero.\n",
        qemu.version.full()
    );
    for field in ["core.eeprom", "core.phy", "core.mac"] {
        let elements = section[field]
            .as_array()
            .unwrap_or_else(|| fail(&format!("no array {field}")));
        for (i, e) in elements.iter().enumerate() {
            let hex = e.as_str().and_then(|t| t.strip_prefix("0x"));
            let value = hex
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .unwrap_or_else(|| fail(&format!("{field}[{i}] is not a number: {e}")));
            if value != 0 {
                text.push_str(&format!("{field} {i:x} {value:x}\n"));
            }
        }
    }
    let file = out.join(format!("e1000e-registers-{name}.txt"));
    std::fs::write(&file, text).unwrap_or_else(|e| fail(&e.to_string()));
    eprintln!("{}", file.display());
}

fn fail(message: &str) -> ! {
    eprintln!("record-real-qemu: {message}");
    std::process::exit(1);
}

/// Run every option case of `cases` on `qemu`; write what it did to `out`.
fn record_options(qemu: &RealQemu, cases: &str, out: &str, dir: &Path) {
    let text =
        std::fs::read_to_string(dir.join(cases)).unwrap_or_else(|e| fail(&format!("{cases}: {e}")));
    let cases = OptionCase::parse_all(&text).unwrap_or_else(|e| fail(&e));
    let mut results = Vec::new();
    for case in &cases {
        let commands: Vec<Value> = case
            .reads
            .iter()
            .map(|(id, property)| {
                json!({"execute": "qom-get", "arguments": {
                    "path": format!("/machine/peripheral/{id}"), "property": property}})
            })
            .collect();
        let outcome = qemu.run(&case.command_line(), &commands);
        let reads: serde_json::Map<String, Value> = case
            .reads
            .iter()
            .zip(&outcome.replies)
            .map(|((id, property), reply)| {
                let value = match reply.get("return") {
                    Some(v) => v.clone(),
                    None => json!({"error": reply["error"]["desc"]}),
                };
                (format!("{id}.{property}"), value)
            })
            .collect();
        results.push(json!({
            "case": case.items,
            "started": outcome.started,
            "exit": outcome.exit,
            "stderr": outcome.stderr,
            "stdout": outcome.stdout,
            "reads": reads,
        }));
    }
    let out = dir.join(out);
    let mut text = serde_json::to_string_pretty(&json!({
        "qemu": qemu.version.full(),
        "cases": results,
    }))
    .expect("JSON");
    text.push('\n');
    std::fs::write(&out, text).unwrap_or_else(|e| fail(&format!("{}: {e}", out.display())));
    eprintln!("{}: {} cases", out.display(), cases.len());
}
