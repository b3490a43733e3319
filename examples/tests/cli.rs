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

#[test]
fn types_lists_the_example_types() {
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
}

#[test]
fn device_help_prints_the_table() {
    let (ok, out, _) = compat(&["device-help", "virtio-blk-device"]);
    assert!(ok);
    assert!(out.starts_with("virtio-blk-device options:\n"));
    assert!(out.contains("  num-queues=<uint16>    - Number of request queues. (default: 65535)\n"));
}

#[test]
fn device_applies_options_in_order() {
    let (ok, out, _) = compat(&["device", "virtio-blk-device,num-queues=0x8,event_idx=off"]);
    assert!(ok);
    assert!(
        out.contains("  num-queues       = 8        (-device)\n"),
        "{out}"
    );
    assert!(
        out.contains("  event_idx        = off      (-device)\n"),
        "{out}"
    );
    assert!(
        out.contains("  queue-size       = 256      (default of virtio-blk-device)\n"),
        "{out}"
    );
}

#[test]
fn bad_input_is_a_clear_error_and_a_failure() {
    let cases: [(&[&str], &str); 5] = [
        (&["device-help", "virtio-blk"], "compat: 'virtio-blk' is not a valid device model name; did you mean 'virtio-blk-device'?\n"),
        (&["device", "virtio-device"], "compat: device type 'virtio-device' is abstract and cannot be instantiated\n"),
        (&["device", "virtio-blk-device,num-queues=70000"], "compat: Property 'virtio-blk-device.num-queues' doesn't take value '70000': expects uint16 (0..=65535)\n"),
        (&["device", "virtio-blk-device,serial"], "compat: -device: expected KEY=VALUE, got 'serial' (at offset 18 of 'virtio-blk-device,serial')\n"),
        (&["device", ""], "compat: -device: expected DRIVER or KEY=VALUE, got an empty parameter\n"),
    ];
    for (args, want) in cases {
        let (ok, out, err) = compat(args);
        assert!(!ok, "{args:?}");
        assert_eq!(out, "");
        assert_eq!(err, want);
    }
    let (ok, _, err) = compat(&["frobnicate"]);
    assert!(!ok);
    assert!(
        err.contains("unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
}

#[test]
fn demo_runs() {
    let (ok, out, _) = compat(&["demo"]);
    assert!(ok);
    assert!(out.contains(
        "error: Property 'virtio-blk-device.num_queues' not found; did you mean 'num-queues'?"
    ));
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
    std::fs::remove_file(&path).ok();
}
