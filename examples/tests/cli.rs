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
