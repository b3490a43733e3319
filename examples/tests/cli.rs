//! The `compat` binary: each subcommand, and bad input giving a clear error
//! and a non-zero exit.

use std::process::Command;

fn compat(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_compat"))
        .args(args)
        .output()
        .expect("run compat");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("compat-cli-{}-{name}", std::process::id()))
}

#[test]
fn types_and_device_help() {
    let (ok, out, _) = compat(&["types"]);
    assert!(ok);
    assert!(
        out.contains("virtio-blk-device    parent virtio-device\n"),
        "{out}"
    );
    assert!(
        out.contains("virtio-device        parent device (abstract)\n"),
        "{out}"
    );
    let (ok, out, _) = compat(&["device-help", "virtio-blk-device"]);
    assert!(ok);
    assert!(out.starts_with("virtio-blk-device options:\n"));
    assert!(
        out.contains("  num-queues=<uint16>    - Number of request queues. (default: 65535)\n"),
        "{out}"
    );
    // `-device TYPE,help` on any command prints the same and starts
    // nothing, as QEMU does; an abstract type has no help, as in QEMU.
    let (ok, same, err) = compat(&[
        "explain",
        "-M",
        "q35",
        "-device",
        "virtio-blk-device,help",
        "x.y",
    ]);
    assert!(ok, "{err}");
    assert_eq!(same, out);
    for args in [
        &["device-help", "virtio-device"][..],
        &[
            "explain",
            "-M",
            "q35",
            "-device",
            "virtio-device,help",
            "x.y",
        ],
    ] {
        let (ok, out, err) = compat(args);
        assert!(!ok && out.is_empty(), "{args:?}");
        assert!(
            err.contains("device type 'virtio-device' is abstract"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn matrix_is_the_demo() {
    let (ok, out, err) = compat(&["matrix"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("== pc-q35-7.2  (-M pc-q35-7.2 -smp 4 "),
        "{out}"
    );
    assert!(out.contains("Bad config data: i=0x10a read: 40 device: 0 cmask: ff"));
    assert!(out.contains("  ok    8.0 -> 8.0.1 -> 8.2, remembering x-pcie-err-unc-mask=on\n"));
    let (ok, out, _) = compat(&["matrix", "-M", "xenfv"]);
    assert!(ok);
    assert!(out.starts_with("== xenfv  (-M xenfv -smp 4)\n"), "{out}");
    assert!(!out.contains("== pc-q35"));
    let (ok, out, _) = compat(&["matrix", "--json", "-M", "pc-q35-7.2"]);
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cells = json["machines"][0]["cells"].as_array().unwrap();
    let cell = cells
        .iter()
        .find(|c| c["src"] == "8.0" && c["dst"] == "7.2")
        .unwrap();
    assert_eq!(cell["ok"], false);
    assert!(cell["error"].as_str().unwrap().contains("i=0x10a"));
}

#[test]
fn machines_explain_and_check() {
    let (ok, out, _) = compat(&["machines", "--release", "5.0"]);
    assert!(ok);
    assert!(
        out.contains("xenfv                Xen Fully-virtualized PC (alias of xenfv-3.1)\n"),
        "{out}"
    );
    let (ok, out, err) = compat(&[
        "explain",
        "--release",
        "8.0.1",
        "-M",
        "pc-q35-7.2",
        "-device",
        "pcie-root-port,id=rp1",
        "rp1.x-pcie-err-unc-mask",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.ends_with(
            "in short: default on (pci-device) → off by hw_compat_7_2 applied by pc-q35-7.2\n"
        ),
        "{out}"
    );
    let (ok, out, _) = compat(&[
        "explain",
        "--release",
        "8.0.1",
        "-M",
        "pc-q35-7.2",
        "-global",
        "pcie-root-port.x-pcie-err-unc-mask=on",
        "-device",
        "pcie-root-port,id=rp1",
        "rp1.x-pcie-err-unc-mask",
    ]);
    assert!(ok);
    assert!(
        out.contains("→ on by -global pcie-root-port.x-pcie-err-unc-mask=on"),
        "{out}"
    );
    let (ok, out, err) = compat(&[
        "check",
        "--from",
        "7.2",
        "--to",
        "8.0",
        "-M",
        "pc-q35-7.2",
        "pcie-root-port,id=rp1",
    ]);
    // A direction that fails is the answer, not an error: exit 1, the
    // prediction on standard output, nothing on standard error.
    assert!(!ok, "check exits 1 when a direction fails");
    assert_eq!(err, "");
    assert!(
        out.starts_with("7.2 -> 8.0 on pc-q35-7.2: FAILS: device '0000:00:01.0/pcie-root-port'"),
        "{out}"
    );
    assert!(
        out.contains(
            "  fix: add {pci-device, x-pcie-err-unc-mask, off} to hw_compat_7_2 in release 8.0\n"
        ),
        "{out}"
    );
    assert!(out.contains("8.0 -> 7.2 on pc-q35-7.2: FAILS"), "{out}");
    let (ok, out, _) = compat(&[
        "check",
        "--from",
        "7.2",
        "--to",
        "8.0.1",
        "-M",
        "pc-q35-7.2",
        "-device",
        "pcie-root-port,id=rp1",
    ]);
    assert!(ok);
    // hw_compat_7_2 of 8.0.1 gives 7.2's behaviour: the switch 7.2 lacks is
    // off on pc-q35-7.2, which is no difference (the pre-flight's rule).
    assert_eq!(
        out,
        "7.2 -> 8.0.1 on pc-q35-7.2: works\n8.0.1 -> 7.2 on pc-q35-7.2: works\n"
    );
}

#[test]
fn save_load_and_dump() {
    let file = temp("saved.mig");
    let f = file.to_str().unwrap();
    let base = [
        "--release",
        "8.0",
        "-M",
        "pc-q35-7.2",
        "-device",
        "pcie-root-port,id=rp1",
        "-device",
        "e1000e,id=net0",
    ];
    let mut args = vec!["save"];
    args.extend(base);
    args.extend(["-o", f]);
    let (ok, out, err) = compat(&args);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("saved 2 device sections of pc-q35-7.2 ("),
        "{out}"
    );
    // The same release loads it; 7.2 refuses it with the real error.
    let (ok, out, err) = compat(&[
        "load",
        "--release",
        "8.0",
        "-M",
        "pc-q35-7.2",
        "-device",
        "pcie-root-port,id=rp1",
        "-device",
        "e1000e,id=net0",
        f,
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "loaded 2 device sections into pc-q35-7.2 (release 8.0)\n"
    );
    let (ok, out, err) = compat(&[
        "load",
        "--release",
        "7.2",
        "-M",
        "pc-q35-7.2",
        "-device",
        "pcie-root-port,id=rp1",
        "-device",
        "e1000e,id=net0",
        f,
    ]);
    assert!(!ok);
    assert_eq!(out, "");
    assert!(err.ends_with("field 'parent_obj.parent_obj.parent_obj.config': Bad config data: i=0x10a read: 40 device: 0 cmask: ff (at offset 0x14e)\n"), "{err}");
    // A destination without the e1000e: the section is unknown.
    let (ok, _, err) = compat(&[
        "load",
        "--release",
        "8.0",
        "-M",
        "pc-q35-7.2",
        "-device",
        "pcie-root-port,id=rp1",
        f,
    ]);
    assert!(!ok);
    assert!(
        err.contains("Unknown savevm section or instance '0000:00:02.0/e1000e' 0."),
        "{err}"
    );
    std::fs::remove_file(&file).ok();

    let dump = temp("dump.json");
    let (ok, _, err) = compat(&[
        "dump-vmstate",
        "--release",
        "8.0",
        "-M",
        "q35",
        dump.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&dump).unwrap()).unwrap();
    assert_eq!(json["vmschkmachine"]["Name"], "pc-q35-8.0");
    // e1000e's last field, as in QEMU's dump: the tested time adjustment.
    let fields = json["e1000e"]["Description"]["Fields"].as_array().unwrap();
    let last = fields.last().unwrap();
    assert_eq!(last["field"], "core.timadj");
    assert_eq!(last["field_exists"], true);
    assert_eq!(last["size"], 8);
    std::fs::remove_file(&dump).ok();
}

#[test]
fn bad_input_is_a_clear_error_and_a_failure() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["machines", "--release", "9.9"], "compat: unknown release '9.9'"),
        (vec!["explain", "--release", "8.0", "-M", "pc-q35-9.9", "x.y"], "compat: unsupported machine type 'pc-q35-9.9' in release 8.0; close names:"),
        (vec!["explain", "--release", "8.0", "-M", "q35", "-device", "pcie-root-port,id=rp1", "rp1"], "compat: expected DEVICE_ID.PROPERTY, got 'rp1'"),
        (vec!["explain", "--release", "8.0", "-M", "q35", "-device", "pcie-root-port,id=rp1", "rp2.chassis"], "compat: no device 'rp2' on machine pc-q35-8.0; devices are: mch[0], rp1"),
        (vec!["explain", "--release", "8.0", "-M", "q35", "-device", "pcie-root-port,id=rp1", "rp1.chasis"], "compat: Property 'pcie-root-port.chasis' not found; did you mean 'chassis'?"),
        (vec!["explain", "--release", "7.2", "-M", "q35", "-global", "pci-device.x-pcie-err-unc-mask=on", "-device", "pcie-root-port,id=rp1", "x.y"], "compat: can't apply global pci-device.x-pcie-err-unc-mask=on: Property 'mch.x-pcie-err-unc-mask' not found"),
        (vec!["explain", "--release", "8.0", "-M", "q35", "-global", "pci-device-rombar", "x.y"], "compat: -global: expected DRIVER.PROPERTY=VALUE, got 'pci-device-rombar'"),
        (vec!["explain", "--release", "8.0", "-M", "q35", "-device", "virtio-blk-device,num-queues=70000", "x.y"], "compat: -device virtio-blk-device,num-queues=70000: Property 'virtio-blk-device.num-queues' doesn't take value '70000': expects uint16 (0..=65535)"),
        (vec!["explain", "--release", "8.0", "-M", "q35", "-device", "virtio-blk", "x.y"], "compat: -device virtio-blk: 'virtio-blk' is not a valid device model name; did you mean 'virtio-blk-device'?"),
        (vec!["check", "--from", "8.0", "--to", "9.0", "-M", "q35"], "compat: unknown release '9.0'"),
        (vec!["load", "--release", "8.0", "-M", "q35", "/nonexistent.mig"], "compat: /nonexistent.mig: No such file or directory"),
        (vec!["dump-vmstate", "--release", "8.0", "-M", "pc-q53-8.0", "/tmp/x.json"], "compat: unsupported machine type 'pc-q53-8.0' in release 8.0; close names: pc-q35-8.0"),
        (vec!["matrix", "-M", "pc-q35-9.9"], "compat: no release knows machine type 'pc-q35-9.9'"),
        (vec!["device-help", "virtio-blk"], "compat: 'virtio-blk' is not a valid device model name; did you mean 'virtio-blk-device'?"),
        (vec!["save", "--release", "8.0", "-M", "q35", "-cpu", "host,+stibp", "-o", "/tmp/never.mig"], "compat: -device x86-cpu,id=cpu0,model=host,stibp=on: realize failed"),
    ];
    for (args, want) in cases {
        let (ok, out, err) = compat(&args);
        assert!(!ok, "{args:?}");
        assert_eq!(out, "", "{args:?}");
        assert!(err.starts_with(want), "{args:?}: {err}");
    }
    let (ok, _, err) = compat(&["frobnicate"]);
    assert!(!ok);
    assert!(
        err.contains("unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
}

/// A stream of one root port, written by the library, in a temp file.
fn our_stream(name: &str) -> std::path::PathBuf {
    use compat_core::stream::{self, Section, StreamOptions};
    use compat_core::Device;
    use compat_examples::devices::PcieRootPort;
    let mut port = PcieRootPort::new_default();
    port.build_config();
    let bytes = stream::save(
        &mut [Section {
            idstr: "0000:00:03.0/pcie-root-port".into(),
            instance_id: 0,
            state: &mut port,
        }],
        &StreamOptions::for_machine("pc-q35-8.0"),
    )
    .unwrap();
    let path = std::env::temp_dir().join(format!("compat-cli-{}-{name}.mig", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn analyze_prints_sections_and_json() {
    let path = our_stream("analyze");
    let (ok, out, err) = compat(&["analyze", path.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("machine type: pc-q35-8.0\n"), "{out}");
    assert!(
        out.contains("      0  0000:00:03.0/pcie-root-port                     0       1  3 fields, 0 subsections\n"),
        "{out}"
    );
    let (ok, out, _) = compat(&["analyze", "--json", path.to_str().unwrap()]);
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json["0000:00:03.0/pcie-root-port (0)"]["parent_obj.parent_obj.parent_obj.exp.aer_log"]
            ["log_max"],
        "0x0008"
    );
    std::fs::remove_file(&path).ok();
}

#[test]
fn analyze_refuses_bad_streams_precisely() {
    let path = our_stream("bad");
    let bytes = std::fs::read(&path).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "empty",
            vec![],
            "the stream is truncated: 4 bytes wanted, 0 left (at offset 0x0)",
        ),
        (
            "magic",
            b"QEVN\0\0\0\x03".to_vec(),
            "Not a migration stream, magic: 5145564e != 5145564d (at offset 0x0)",
        ),
        (
            "truncated",
            bytes[..60].to_vec(),
            "the stream is truncated: 4 bytes wanted, 0 left (at offset 0x3c)",
        ),
        (
            "no-trailer",
            bytes[..200].to_vec(),
            "no description of section '0000:00:03.0/pcie-root-port' instance 0 in the vmdesc \
             trailer, so its fields cannot be decoded (at offset 0x17)",
        ),
        (
            "garbage",
            [&bytes[..], b"xx"].concat(),
            "2 bytes of trailing garbage after the end of the stream",
        ),
    ];
    for (name, content, want) in cases {
        let file =
            std::env::temp_dir().join(format!("compat-cli-{}-{name}.mig", std::process::id()));
        std::fs::write(&file, content).unwrap();
        let (ok, out, err) = compat(&["analyze", file.to_str().unwrap()]);
        assert!(!ok, "{name}");
        assert_eq!(out, "");
        assert!(err.starts_with("compat: "), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        std::fs::remove_file(&file).ok();
    }
    let (ok, _, err) = compat(&["analyze", "/nonexistent/file.mig"]);
    assert!(!ok);
    assert_eq!(
        err,
        "compat: /nonexistent/file.mig: No such file or directory (os error 2)\n"
    );
    // An endless file is refused at its header, not read until memory
    // runs out; a stream over the size limit is refused by size.
    let (ok, _, err) = compat(&["analyze", "/dev/zero"]);
    assert!(!ok);
    assert_eq!(
        err,
        "compat: /dev/zero: Not a migration stream, magic: 0 != 5145564d (at offset 0x0)\n"
    );
    let (ok, _, err) = compat(&["analyze", path.to_str().unwrap(), "--max-bytes", "100"]);
    assert!(!ok);
    assert!(
        err.ends_with(": larger than the limit of 100 bytes\n"),
        "{err}"
    );
    // A path with control characters is printed escaped.
    let (ok, _, err) = compat(&["analyze", "/nonexistent/a\u{1b}[2J\nb"]);
    assert!(!ok);
    assert_eq!(
        err,
        "compat: /nonexistent/a\\u{1b}[2J\\nb: No such file or directory (os error 2)\n"
    );
    std::fs::remove_file(&path).ok();
}

#[test]
fn a_closed_stdout_ends_quietly() {
    use std::process::Stdio;
    // `compat matrix --json | head -c 0`: the reader is gone before the
    // (large) output is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_compat"))
        .args(["matrix", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run compat");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for compat");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_non_utf8_argument_is_a_one_line_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let out = Command::new(env!("CARGO_BIN_EXE_compat"))
        .arg("device-help")
        .arg(std::ffi::OsStr::from_bytes(b"virtio\xff"))
        .output()
        .expect("run compat");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "compat: argument 2 is not valid UTF-8: virtio\u{fffd}\n"
    );
}

#[test]
fn unused_globals_warn_on_stderr_as_qemu_does() {
    let (ok, out, err) = compat(&[
        "explain",
        "--release",
        "8.0.1",
        "-M",
        "pc-q35-7.2",
        "-global",
        "PIIX4_PM.smm-enabled=off",
        "-device",
        "pcie-root-port,id=rp1",
        "rp1.chassis",
    ]);
    // piix4-pm is on board only on i440fx machines and cannot be plugged
    // in, so the global matches nothing on q35 (QEMU stays silent for
    // hotpluggable types such as e1000e).
    assert!(ok, "{err}");
    assert!(
        out.starts_with("rp1 (pcie-root-port): chassis = 0"),
        "{out}"
    );
    assert_eq!(
        err,
        "compat: warning: global PIIX4_PM.smm-enabled=off not used\n"
    );
}

#[test]
fn every_result_has_json() {
    let json = |args: &[&str]| -> serde_json::Value {
        let (ok, out, err) = compat(args);
        assert!(ok, "{args:?}: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    };
    let types = json(&["types", "--json"]);
    assert!(types
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "virtio-device" && t["abstract"] == true));
    let help = json(&["device-help", "--json", "virtio-blk-device"]);
    assert_eq!(help["parent"], "virtio-device");
    assert!(help["properties"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "num-queues" && p["type"] == "uint16" && p["default"] == "65535"));
    let machines = json(&["machines", "--json", "--release", "5.0"]);
    assert!(machines
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["name"] == "xenfv-3.1" && m["alias"] == "xenfv"));
    let explained = json(&[
        "explain",
        "--json",
        "--release",
        "8.0.1",
        "-M",
        "pc-q35-7.2",
        "-device",
        "pcie-root-port,id=rp1",
        "rp1.x-pcie-err-unc-mask",
    ]);
    assert_eq!(explained["value"], "off");
    assert_eq!(explained["steps"][1]["kind"], "compat");
    assert_eq!(
        explained["steps"][1]["source"],
        "hw_compat_7_2 applied by pc-q35-7.2"
    );

    let file = temp("json.mig");
    let f = file.to_str().unwrap();
    let machine = [
        "--release",
        "8.0",
        "-M",
        "pc-q35-7.2",
        "-device",
        "e1000e,id=net0",
    ];
    let saved = json(&[&["save", "--json"], &machine[..], &["-o", f]].concat());
    assert_eq!(saved["sections"], 1);
    assert_eq!(saved["machine"], "pc-q35-7.2");
    let loaded = json(&[&["load", "--json"], &machine[..], &[f]].concat());
    assert_eq!(loaded["sections"], 1);
    assert_eq!(loaded["release"], "8.0");
    let dump = temp("json-dump.json");
    let dumped = json(&[
        "dump-vmstate",
        "--json",
        "--release",
        "8.0",
        "-M",
        "q35",
        dump.to_str().unwrap(),
    ]);
    assert_eq!(dumped["release"], "8.0");
    std::fs::remove_file(&file).ok();
    std::fs::remove_file(&dump).ok();
}

#[test]
fn exit_status_says_yes_no_or_cannot_answer() {
    let status = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_compat"))
            .args(args)
            .output()
            .expect("run compat")
            .status
            .code()
    };
    let check = |to: &str| {
        status(&[
            "check",
            "--from",
            "7.2",
            "--to",
            to,
            "-M",
            "pc-q35-7.2",
            "-device",
            "pcie-root-port,id=rp1",
        ])
    };
    assert_eq!(check("8.0.1"), Some(0), "both directions migrate");
    assert_eq!(check("8.0"), Some(1), "a direction does not migrate");
    assert_eq!(check("8.O"), Some(2), "no such release: no answer");
    assert_eq!(status(&["check", "--from", "7.2"]), Some(2), "usage");
    // The same answer as JSON, with the same exit code.
    let out = Command::new(env!("CARGO_BIN_EXE_compat"))
        .args([
            "check",
            "--json",
            "--from",
            "8.0",
            "--to",
            "7.2",
            "-M",
            "pc-q35-7.2",
            "-device",
            "pcie-root-port,id=rp1",
        ])
        .output()
        .expect("run compat");
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["works"], false);
    let back = &json["directions"][0];
    assert_eq!((&back["src"], &back["dst"]), (&"8.0".into(), &"7.2".into()));
    assert_eq!(back["device"], "rp1");
    assert_eq!(
        back["fixes"][0],
        "add {pci-device, x-pcie-err-unc-mask, off} to hw_compat_7_2 in release 8.0"
    );
    assert_eq!(
        back["property_differences"][0]["property"],
        "x-pcie-err-unc-mask"
    );

    let file = temp("status.mig");
    let f = file.to_str().unwrap();
    let dev = ["-M", "pc-q35-7.2", "-device", "pcie-root-port,id=rp1"];
    assert_eq!(
        status(&[&["save", "--release", "8.0"], &dev[..], &["-o", f]].concat()),
        Some(0)
    );
    assert_eq!(
        status(&[&["load", "--release", "7.2"], &dev[..], &[f]].concat()),
        Some(1)
    );
    assert_eq!(
        status(
            &[
                &["load", "--release", "7.2"],
                &dev[..],
                &["/nonexistent.mig"]
            ]
            .concat()
        ),
        Some(2)
    );
    std::fs::remove_file(&file).ok();
}

#[test]
fn lock_writes_what_the_release_promises() {
    let file = temp("8.0.lock.json");
    let f = file.to_str().unwrap();
    let (ok, out, err) = compat(&["lock", "--release", "8.0", "-o", f]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("wrote the lock of release 8.0 (16 machine types, 9 device types, "),
        "{out}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let lock = compat_core::migration::lock::Lock::from_json(&text).unwrap();
    let live =
        compat_core::migration::lock::Lock::of(&compat_examples::releases::release("8.0").unwrap());
    assert_eq!(lock, live);
    std::fs::remove_file(&file).ok();
    let (ok, _, err) = compat(&["lock", "--release", "8.0", "-o", "/nonexistent/dir/x.json"]);
    assert!(!ok);
    assert!(
        err.starts_with("compat: /nonexistent/dir/x.json: "),
        "{err}"
    );
}

#[test]
fn verify_against_a_lock_exits_1_on_a_finding() {
    let lock = temp("7.2.lock.json");
    let l = lock.to_str().unwrap();
    let (ok, _, err) = compat(&["lock", "--release", "7.2", "-o", l]);
    assert!(ok, "{err}");
    let status = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_compat"))
            .args(args)
            .output()
            .expect("run compat")
    };
    // 8.0 forgot the entry: exit 1, the fix on standard output.
    let out = status(&["verify", "--release", "8.0", "--against", l]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("8.0 against release 7.2 ("), "{text}");
    assert!(
        text.contains(
            "    fix: add {pci-device, x-pcie-err-unc-mask, off} to hw_compat_7_2 in release 8.0\n"
        ),
        "{text}"
    );
    // 8.0.1 has it: exit 0.
    let out = status(&["verify", "--release", "8.0.1", "--against", l]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("8.0.1 against release 7.2 ("), "{text}");
    // The release against itself comes last: it loads what it saves.
    assert!(
        text.ends_with("\n8.0.1 against itself: no finding\n"),
        "{text}"
    );
    // JSON.
    let out = status(&["verify", "--json", "--release", "8.0", "--against", l]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // One finding per device type the forgotten entry changes: e1000e and
    // the root port (both carry QEMU's AER capability).
    assert_eq!(json["findings"], 2);
    assert_eq!(json["reports"][0]["locked_release"], "7.2");
    assert_eq!(json["reports"][1]["lock"], serde_json::Value::Null);
    assert_eq!(json["reports"][1]["findings"], serde_json::json!([]));
    assert_eq!(
        json["reports"][0]["findings"][0]["item"],
        "x-pcie-err-unc-mask"
    );
    // A lock that is not one: no answer, exit 2.
    let bad = temp("bad.lock.json");
    std::fs::write(&bad, "{\"schema\": 7}").unwrap();
    let out = status(&[
        "verify",
        "--release",
        "8.0",
        "--against",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("lock schema 7 is not the schema 2 this code reads"));
    std::fs::remove_file(&lock).ok();
    std::fs::remove_file(&bad).ok();
}

#[test]
fn preflight_names_every_difference_and_exits_one() {
    let args = |from, to| {
        vec![
            "preflight",
            "--from",
            from,
            "--to",
            to,
            "-M",
            "pc-q35-7.2",
            "-device",
            "pcie-root-port,id=rp1,chassis=1",
        ]
    };
    let (ok, out, err) = compat(&args("8.0", "8.0.1"));
    assert!(!ok, "{err}");
    assert_eq!(
        out,
        "8.0 -> 8.0.1 on pc-q35-7.2: the destination refuses before any state moves \
         (2 differences):\n  - device 'rp1': property 'x-pcie-err-unc-mask': source on, \
         destination off (accept it with -global pcie-root-port.x-pcie-err-unc-mask=on)\n  - \
         device 'rp1': must-match field 'parent_obj.parent_obj.parent_obj.config': source 0x40 \
         at index 0x10a, destination 0x00\n"
    );
    let (ok, out, _) = compat(&args("8.0.1", "8.2"));
    assert!(ok);
    assert_eq!(
        out,
        "8.0.1 -> 8.2 on pc-q35-7.2: the destination accepts the source's configuration\n"
    );
    let mut json = args("8.0", "8.0.1");
    json.push("--json");
    let (ok, out, _) = compat(&json);
    assert!(!ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["accepted"], false);
    assert_eq!(
        v["differences"][0]["fix"],
        "-global pcie-root-port.x-pcie-err-unc-mask=on"
    );
}

#[test]
fn a_chain_carries_the_sticky_mitigation_and_fails_without_it() {
    let args = [
        "migrate",
        "--chain",
        "8.0,8.0.1,8.2",
        "-M",
        "pc-q35-7.2",
        "-device",
        "pcie-root-port,id=rp1,chassis=1",
    ];
    let (ok, out, err) = compat(&args);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "8.0 -> 8.0.1 on pc-q35-7.2: works; adopted rp1.x-pcie-err-unc-mask=on (first set by \
         release 8.0)\n8.0.1 -> 8.2 on pc-q35-7.2: works; adopted rp1.x-pcie-err-unc-mask=on \
         (first set by release 8.0)\n"
    );
    let mut refused = args.to_vec();
    refused.push("--no-sticky");
    let (ok, out, _) = compat(&refused);
    assert!(!ok);
    assert!(
        out.starts_with(
            "8.0 -> 8.0.1 on pc-q35-7.2: fails: the destination refuses the incoming \
             configuration before any device state (2 differences): device 'rp1': property \
             'x-pcie-err-unc-mask': source on, destination off"
        ),
        "{out}"
    );
    let (ok, _, err) = compat(&["migrate", "--chain", "8.0", "-M", "pc-q35-7.2"]);
    assert!(!ok);
    assert_eq!(
        err,
        "compat: --chain needs two releases or more, as R1,R2[,R3...]\n"
    );
}

#[test]
fn preflight_prints_the_documents_cpu_lines() {
    let (ok, out, _) = compat(&[
        "preflight",
        "--from",
        "8.2",
        "--to",
        "8.2",
        "-M",
        "pc-q35-8.2",
        "--cpu",
        "host",
        "--host",
        "pcid,stibp",
        "--dest-host",
        "taa-no",
    ]);
    assert!(!ok);
    assert!(
        out.ends_with(
            "the hosts' CPU features differ; to migrate both ways start the source with -cpu \
             host,pcid=off,stibp=off and the destination with -cpu host,taa-no=off\n"
        ),
        "{out}"
    );
    let (ok, out, _) = compat(&[
        "preflight",
        "--from",
        "8.2",
        "--to",
        "8.2",
        "-M",
        "pc-q35-8.2",
        "--cpu",
        "host,pcid=off,stibp=off",
        "--host",
        "pcid,stibp",
        "--dest-host",
        "taa-no",
        "--dest-cpu",
        "host,taa-no=off",
    ]);
    assert!(ok, "{out}");
    assert!(
        out.starts_with("8.2 -> 8.2 on pc-q35-8.2: the destination accepts"),
        "{out}"
    );
}
