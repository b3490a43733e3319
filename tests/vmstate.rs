//! `#[derive(VMState)]` through the real byte stream: every field kind,
//! versioned fields both ways, subsections, must-match, and one test per
//! load error, each checking what the message names and that the
//! destination is exactly as before.

use compat_core::codec::{LoadError, LoadErrorKind};
use compat_core::stream::{self, Section, StreamOptions};
use compat_core::{Migratable, VMState};

#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "inner", version = 2, minimum_version = 1)]
struct Inner {
    x: u32,
    #[vmstate(since = 2)]
    y: u16,
}

/// One field of every kind.
#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "kinds", version = 1)]
struct Kinds {
    b: bool,
    u8_: u8,
    u16_: u16,
    u32_: u32,
    u64_: u64,
    i8_: i8,
    i16_: i16,
    i32_: i32,
    i64_: i64,
    arr: [u32; 4],
    sarr: [i16; 3],
    flags: [bool; 2],
    buf: [u8; 8],
    n: u16,
    #[vmstate(len = n, max = 16)]
    var: Vec<u64>,
    nb: u8,
    #[vmstate(len = nb, max = 32)]
    bytes: Vec<u8>,
    nested: Inner,
    #[vmstate(unused = 3)]
    _pad: (),
    #[vmstate(skip)]
    host_only: u32,
    #[vmstate(name = "renamed.field")]
    renamed: u8,
}

fn sample() -> Kinds {
    Kinds {
        b: true,
        u8_: 0xab,
        u16_: 0x1234,
        u32_: 0xdead_beef,
        u64_: u64::MAX - 1,
        i8_: -2,
        i16_: -300,
        i32_: i32::MIN,
        i64_: -5,
        arr: [1, 2, 3, 4],
        sarr: [-1, 0, 1],
        flags: [true, false],
        buf: *b"abcdefgh",
        n: 3,
        var: vec![10, 20, 30],
        nb: 2,
        bytes: vec![0xfe, 0xff],
        nested: Inner { x: 9, y: 8 },
        _pad: (),
        host_only: 77,
        renamed: 5,
    }
}

/// Save `src` as the only section of a stream of machine `pc-q35-7.2`.
fn save_one(src: &mut dyn Migratable, idstr: &str) -> Vec<u8> {
    stream::save(
        &mut [Section {
            idstr: idstr.into(),
            instance_id: 0,
            state: src,
        }],
        &StreamOptions::for_machine("pc-q35-7.2"),
    )
    .unwrap()
}

fn load_one(bytes: &[u8], dst: &mut dyn Migratable, idstr: &str) -> Result<(), LoadError> {
    stream::load(
        bytes,
        &mut [Section {
            idstr: idstr.into(),
            instance_id: 0,
            state: dst,
        }],
        &StreamOptions::for_machine("pc-q35-7.2"),
    )
    .map(|_| ())
}

#[test]
fn every_field_kind_round_trips_through_the_stream() {
    let mut src = sample();
    let bytes = save_one(&mut src, "kinds");
    let mut dst = Kinds {
        host_only: 1,
        ..Kinds::default()
    };
    load_one(&bytes, &mut dst, "kinds").unwrap();
    assert_eq!(
        dst,
        Kinds {
            host_only: 1,
            ..sample()
        },
        "everything but the skipped field arrives"
    );

    // The section body is exactly the fields, big-endian, in order.
    let header = 4 + 4 + 1 + 4 + 10 + 1 + 4 + 1 + 5 + 4 + 4;
    let body = &bytes[header..];
    let mut expected = vec![1, 0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef];
    expected.extend((u64::MAX - 1).to_be_bytes());
    expected.extend([0xfe, 0xfe, 0xd4]);
    expected.extend(i32::MIN.to_be_bytes());
    expected.extend((-5i64).to_be_bytes());
    for v in [1u32, 2, 3, 4] {
        expected.extend(v.to_be_bytes());
    }
    for v in [-1i16, 0, 1] {
        expected.extend(v.to_be_bytes());
    }
    expected.extend([1, 0]);
    expected.extend(b"abcdefgh");
    expected.extend(3u16.to_be_bytes());
    for v in [10u64, 20, 30] {
        expected.extend(v.to_be_bytes());
    }
    expected.extend([2, 0xfe, 0xff]);
    expected.extend(9u32.to_be_bytes());
    expected.extend(8u16.to_be_bytes());
    expected.extend([0, 0, 0, 5]);
    assert_eq!(&body[..expected.len()], &expected[..]);
    // Then the footer, EOF and the vmdesc trailer.
    assert_eq!(
        &body[expected.len()..expected.len() + 6],
        &[0x7e, 0, 0, 0, 0, 0]
    );
    assert_eq!(body[expected.len() + 6], 0x06);
}

#[test]
fn the_description_matches_the_declaration() {
    let d = Kinds::DESCRIPTION;
    assert_eq!(
        (d.name, d.version_id, d.minimum_version_id),
        ("kinds", 1, 1)
    );
    let names: Vec<&str> = d.fields.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        [
            "b",
            "u8_",
            "u16_",
            "u32_",
            "u64_",
            "i8_",
            "i16_",
            "i32_",
            "i64_",
            "arr",
            "sarr",
            "flags",
            "buf",
            "n",
            "var",
            "nb",
            "bytes",
            "nested",
            "unused",
            "renamed.field"
        ]
    );
    assert_eq!(Inner::DESCRIPTION.fields[1].version_id, 2);
    let json = serde_json::to_string(&sample().layout().to_json()).unwrap();
    assert!(
        json.starts_with(
            r#"{"vmsd_name":"kinds","version":1,"fields":[{"name":"b","type":"bool","size":1}"#
        ),
        "{json}"
    );
    assert!(
        json.contains(r#"{"name":"arr","array_len":4,"type":"uint32","size":4}"#),
        "{json}"
    );
    assert!(
        json.contains(r#"{"name":"buf","type":"buffer","size":8}"#),
        "{json}"
    );
    assert!(
        json.contains(r#"{"name":"var","array_len":3,"type":"uint64","size":8}"#),
        "{json}"
    );
    assert!(json.contains(r#"{"name":"nested","type":"struct","struct":{"vmsd_name":"inner","version":2,"fields":[{"name":"x","type":"uint32","size":4},{"name":"y","type":"uint16","size":2}]},"size":6}"#), "{json}");
    assert!(
        json.contains(r#"{"name":"unused","type":"unused_buffer","size":3}"#),
        "{json}"
    );
}

// Two releases of one device: v1, then v2 adding a field.
#[derive(Clone, Debug, PartialEq, VMState)]
#[vmstate(name = "dev", version = 1)]
struct DevV1 {
    a: u32,
}

#[derive(Clone, Debug, PartialEq, VMState)]
#[vmstate(name = "dev", version = 2, minimum_version = 1)]
struct DevV2 {
    a: u32,
    #[vmstate(since = 2)]
    b: u16,
}

#[derive(Clone, Debug, PartialEq, VMState)]
#[vmstate(name = "dev", version = 3, minimum_version = 2)]
struct DevV3 {
    a: u32,
    #[vmstate(since = 2)]
    b: u16,
    #[vmstate(since = 3)]
    c: u8,
}

#[test]
fn versioned_fields_both_ways() {
    // Old source → new destination: the new field keeps the destination's value.
    let bytes = save_one(&mut DevV1 { a: 7 }, "dev");
    let mut v2 = DevV2 { a: 0, b: 99 };
    load_one(&bytes, &mut v2, "dev").unwrap();
    assert_eq!(v2, DevV2 { a: 7, b: 99 });

    // Same version both sides: everything arrives.
    let bytes = save_one(&mut DevV2 { a: 1, b: 2 }, "dev");
    let mut v2 = DevV2 { a: 0, b: 0 };
    load_one(&bytes, &mut v2, "dev").unwrap();
    assert_eq!(v2, DevV2 { a: 1, b: 2 });

    // v2 → v3 (minimum 2): c keeps its value.
    let mut v3 = DevV3 { a: 0, b: 0, c: 5 };
    load_one(&bytes, &mut v3, "dev").unwrap();
    assert_eq!(v3, DevV3 { a: 1, b: 2, c: 5 });

    // New source → old destination: refused, naming both versions.
    let mut v1 = DevV1 { a: 42 };
    let err = load_one(&bytes, &mut v1, "dev").unwrap_err();
    assert_eq!(
        err.kind,
        LoadErrorKind::TooNew {
            vmsd: "dev".into(),
            incoming: 2,
            ours: 1
        }
    );
    assert_eq!(
        err.to_string(),
        "error while loading state for instance 0x0 of device 'dev' (stream version 2): \
         dev: incoming version_id 2 is too new for local version_id 1 (at offset 0x28)"
    );
    assert_eq!(v1, DevV1 { a: 42 }, "the destination is untouched");

    // Below the destination's minimum: refused.
    let bytes = save_one(&mut DevV1 { a: 7 }, "dev");
    let mut v3 = DevV3 { a: 1, b: 1, c: 1 };
    let err = load_one(&bytes, &mut v3, "dev").unwrap_err();
    assert_eq!(
        err.to_string(),
        "error while loading state for instance 0x0 of device 'dev' (stream version 1): \
         dev: incoming version_id 1 is too old for local minimum version_id 2 (at offset 0x28)"
    );
    assert_eq!(v3, DevV3 { a: 1, b: 1, c: 1 });
}

// Subsections: a property-gated one with a nested subsection of its own.
#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "nic/timadj/extra", version = 1)]
struct Extra {
    e: u8,
}

#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "nic/timadj", version = 1)]
struct Timadj {
    timadj: u32,
    #[vmstate(subsection, needed = Timadj::extra_needed)]
    extra: Extra,
}

impl Timadj {
    fn extra_needed(&self) -> bool {
        self.extra.e != 0
    }
}

#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "nic", version = 1)]
struct Nic {
    ctrl: u32,
    #[vmstate(subsection, needed = Nic::timadj_needed)]
    timadj: Timadj,
    #[vmstate(skip)]
    migrate_timadj: bool,
}

impl Nic {
    fn timadj_needed(&self) -> bool {
        self.migrate_timadj
    }
}

/// The same device as a release that never had the subsection.
#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "nic", version = 1)]
struct OldNic {
    ctrl: u32,
}

#[test]
fn subsections_present_absent_and_nested() {
    let nic = |migrate, timadj, e| Nic {
        ctrl: 1,
        timadj: Timadj {
            timadj,
            extra: Extra { e },
        },
        migrate_timadj: migrate,
    };
    // Absent: nothing after the fields; the destination keeps its own.
    let bytes = save_one(&mut nic(false, 5, 0), "nic");
    let mut dst = nic(false, 77, 0);
    dst.ctrl = 0;
    load_one(&bytes, &mut dst, "nic").unwrap();
    assert_eq!(dst, nic(false, 77, 0));
    let mut old = OldNic { ctrl: 0 };
    load_one(&bytes, &mut old, "nic").unwrap();
    assert_eq!(
        old.ctrl, 1,
        "without the subsection an old destination loads"
    );

    // Present, with the nested subsection.
    let bytes = save_one(&mut nic(true, 5, 3), "nic");
    let mut dst = nic(true, 0, 0);
    load_one(&bytes, &mut dst, "nic").unwrap();
    assert_eq!(dst, nic(true, 5, 3));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("nic/timadj") && text.contains("nic/timadj/extra"));

    // A destination that does not know the subsection refuses: that is how
    // a newer source fails safely on an older destination.
    let mut old = OldNic { ctrl: 9 };
    let err = load_one(&bytes, &mut old, "nic").unwrap_err();
    assert_eq!(
        err.to_string(),
        "error while loading state for instance 0x0 of device 'nic' (stream version 1): \
         VM subsection 'nic/timadj' in 'nic' does not exist (at offset 0x2c)"
    );
    assert_eq!(old.ctrl, 9);
}

#[derive(Clone, Debug, PartialEq, VMState)]
#[vmstate(name = "cfg", version = 1)]
struct Config {
    #[vmstate(must_match)]
    queues: u16,
    #[vmstate(must_match, mask = Config::cmask)]
    config: [u8; 8],
    #[vmstate(skip)]
    cmask: [u8; 8],
}

impl Config {
    fn cmask(&self) -> &[u8] {
        &self.cmask
    }
}

#[test]
fn must_match_success_and_failure() {
    let cfg = |queues, byte6| Config {
        queues,
        config: [1, 2, 3, 4, 5, 6, byte6, 8],
        cmask: [0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff],
    };
    let bytes = save_one(&mut cfg(4, 7), "cfg");
    let mut same = cfg(4, 7);
    load_one(&bytes, &mut same, "cfg").unwrap();

    // Bits outside the mask may differ, and then arrive.
    let mut src = cfg(4, 7);
    src.config[2] = 0x33;
    let bytes = save_one(&mut src, "cfg");
    let mut dst = cfg(4, 7);
    load_one(&bytes, &mut dst, "cfg").unwrap();
    assert_eq!(dst.config[2], 0x33);

    let bytes = save_one(&mut cfg(4, 7), "cfg");
    let mut other_queues = cfg(1, 7);
    let err = load_one(&bytes, &mut other_queues, "cfg").unwrap_err();
    assert_eq!(
        err.to_string(),
        "error while loading state for instance 0x0 of device 'cfg' (stream version 1): \
         field 'queues': must match the destination's value: incoming 0x4, destination 0x1 \
         (at offset 0x28)"
    );
    assert_eq!(other_queues, cfg(1, 7));

    let mut other_config = cfg(4, 0x40);
    let err = load_one(&bytes, &mut other_config, "cfg").unwrap_err();
    assert_eq!(
        err.kind,
        LoadErrorKind::BadConfigData {
            index: 6,
            read: 7,
            device: 0x40,
            mask: 0xff
        }
    );
    assert_eq!(err.path, ["config"]);
    assert_eq!(err.offset, 0x28 + 2 + 6);
    assert_eq!(other_config, cfg(4, 0x40));
}

/// Two devices, so a failure in the second shows the first untouched too.
fn two_devices_load(bytes: &[u8], a: &mut Kinds, b: &mut DevV2) -> Result<(), LoadError> {
    stream::load(
        bytes,
        &mut [
            Section {
                idstr: "kinds".into(),
                instance_id: 0,
                state: a,
            },
            Section {
                idstr: "dev".into(),
                instance_id: 0,
                state: b,
            },
        ],
        &StreamOptions::for_machine("pc-q35-7.2"),
    )
    .map(|_| ())
}

fn two_devices_stream() -> Vec<u8> {
    two_devices_stream_with(StreamOptions::for_machine("pc-q35-7.2"))
}

fn two_devices_stream_without_vmdesc() -> Vec<u8> {
    two_devices_stream_with(StreamOptions {
        vmdesc: false,
        ..StreamOptions::for_machine("pc-q35-7.2")
    })
}

fn two_devices_stream_with(opts: StreamOptions) -> Vec<u8> {
    stream::save(
        &mut [
            Section {
                idstr: "kinds".into(),
                instance_id: 0,
                state: &mut sample(),
            },
            Section {
                idstr: "dev".into(),
                instance_id: 0,
                state: &mut DevV2 { a: 3, b: 4 },
            },
        ],
        &opts,
    )
    .unwrap()
}

/// Load `bytes` into fresh destinations, expect an error, and check that
/// neither destination changed.
fn fails(bytes: &[u8]) -> LoadError {
    let mut a = Kinds::default();
    let mut b = DevV2 { a: 100, b: 200 };
    let err = two_devices_load(bytes, &mut a, &mut b).unwrap_err();
    assert_eq!(a, Kinds::default(), "first device untouched after: {err}");
    assert_eq!(
        b,
        DevV2 { a: 100, b: 200 },
        "second device untouched after: {err}"
    );
    err
}

#[test]
fn a_good_two_device_stream_loads_both() {
    let mut a = Kinds::default();
    let mut b = DevV2 { a: 0, b: 0 };
    two_devices_load(&two_devices_stream(), &mut a, &mut b).unwrap();
    assert_eq!(
        a,
        Kinds {
            host_only: 0,
            ..sample()
        }
    );
    assert_eq!(b, DevV2 { a: 3, b: 4 });
}

#[test]
fn truncation_anywhere_is_an_error_and_loads_nothing() {
    let bytes = two_devices_stream();
    // The stream is complete at EOF; the vmdesc trailer after it is optional.
    let eof = two_devices_stream_without_vmdesc().len() - 1;
    assert_eq!(&bytes[..=eof], &two_devices_stream_without_vmdesc()[..]);
    assert_eq!(bytes[eof], 0x00);
    let mut a = Kinds::default();
    let mut b = DevV2 { a: 0, b: 0 };
    two_devices_load(&bytes[..=eof], &mut a, &mut b).unwrap();
    // Every other proper prefix fails: no partial load, no panic.
    for cut in (0..bytes.len()).filter(|&c| c != eof + 1) {
        fails(&bytes[..cut]);
    }
    // Cut inside the second device's field `a`.
    let header: &[u8] = &[0x04, 0, 0, 0, 1, 3, b'd', b'e', b'v'];
    let dev_body = bytes
        .windows(header.len())
        .position(|w| w == header)
        .unwrap()
        + header.len()
        + 8;
    let err = fails(&bytes[..dev_body + 2]);
    assert_eq!(
        err.to_string(),
        "error while loading state for instance 0x0 of device 'dev' (stream version 2): \
         field 'a': the stream is truncated: 4 bytes wanted, 2 left (at offset 0xa6)"
    );
    assert_eq!(err.offset, dev_body);
}

#[test]
fn trailing_garbage() {
    let mut bytes = two_devices_stream();
    bytes.extend_from_slice(b"junk");
    let err = fails(&bytes);
    assert_eq!(err.kind, LoadErrorKind::TrailingGarbage { len: 4 });
    assert_eq!(err.offset, bytes.len() - 4);
}

#[test]
fn unknown_and_missing_sections() {
    // A stream with a section no destination device claims.
    let bytes = save_one(&mut DevV1 { a: 1 }, "0000:00:03.0:00.0/virtio-blk");
    let err = fails(&bytes);
    assert_eq!(
        err.to_string(),
        "Unknown savevm section or instance '0000:00:03.0:00.0/virtio-blk' 0. Make sure that \
         your current VM setup matches your saved VM setup, including any hotplugged devices \
         (at offset 0x17)"
    );
    // A stream missing one destination device.
    let bytes = save_one(&mut sample(), "kinds");
    let err = fails(&bytes);
    assert_eq!(
        err.kind,
        LoadErrorKind::MissingSection {
            idstr: "dev".into(),
            instance_id: 0
        }
    );
    assert!(err
        .to_string()
        .starts_with("no section for device 'dev' instance 0"));
}

#[test]
fn header_configuration_and_footer_errors() {
    let good = two_devices_stream();
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(
        fails(&bad).to_string(),
        "Not a migration stream, magic: 5845564d != 5145564d (at offset 0x0)"
    );
    let mut bad = good.clone();
    bad[7] = 2;
    assert_eq!(
        fails(&bad).to_string(),
        "SaveVM v2 format is obsolete and no longer supported (at offset 0x4)"
    );
    // Another machine type: QEMU's refusal (the seeds' case 4 on the wire).
    let mut other = stream::save(
        &mut [Section {
            idstr: "dev".into(),
            instance_id: 0,
            state: &mut DevV2 { a: 1, b: 1 },
        }],
        &StreamOptions::for_machine("pc-q35-8.0"),
    )
    .unwrap();
    assert_eq!(
        fails(&other).to_string(),
        "Machine type received is 'pc-q35-8.0' and local is 'pc-q35-7.2' (at offset 0x17)"
    );
    // A stream without the configuration section.
    other = stream::save(
        &mut [Section {
            idstr: "dev".into(),
            instance_id: 0,
            state: &mut DevV2 { a: 1, b: 1 },
        }],
        &StreamOptions::default(),
    )
    .unwrap();
    assert_eq!(
        fails(&other).to_string(),
        "Configuration section missing, 4 != 7 (at offset 0x8)"
    );
    // A device that reads fewer bytes than were written: the footer catches it.
    let bytes = save_one(&mut DevV2 { a: 1, b: 2 }, "dev");
    let mut v1_named_v2 = DevV1 { a: 0 };
    let bytes_v1 = {
        let mut b = bytes.clone();
        // Claim version 1 in the section header so the v1 destination reads
        // only `a` and meets `b`'s bytes where the footer should be.
        let at = 0x28 - 4;
        b[at..at + 4].copy_from_slice(&1u32.to_be_bytes());
        b
    };
    let err = load_one(&bytes_v1, &mut v1_named_v2, "dev").unwrap_err();
    assert_eq!(
        err.to_string(),
        "error while loading state for instance 0x0 of device 'dev' (stream version 1): \
         Missing section footer for dev (at offset 0x2c)"
    );
    assert_eq!(v1_named_v2, DevV1 { a: 0 });
}

#[test]
fn a_length_beyond_the_declared_maximum_is_refused_before_allocating() {
    let mut src = sample();
    let mut bytes = save_one(&mut src, "kinds");
    // Patch the length field `n` (after 63 bytes of fields) to 0xffff.
    let body = 0x2a;
    let n_at = body + 1 + 1 + 2 + 4 + 8 + 1 + 2 + 4 + 8 + 16 + 6 + 2 + 8;
    assert_eq!(&bytes[n_at..n_at + 2], &3u16.to_be_bytes());
    bytes[n_at..n_at + 2].copy_from_slice(&0xffffu16.to_be_bytes());
    let mut dst = Kinds::default();
    let err = load_one(&bytes, &mut dst, "kinds").unwrap_err();
    assert_eq!(
        err.kind,
        LoadErrorKind::LengthTooLarge {
            len: 0xffff,
            max: 16
        }
    );
    assert_eq!(err.path, ["var"]);
    assert_eq!(dst, Kinds::default());
}

#[test]
fn duplicate_section() {
    let mut a = DevV2 { a: 1, b: 1 };
    let mut b = DevV2 { a: 2, b: 2 };
    let bytes = stream::save(
        &mut [
            Section {
                idstr: "dev".into(),
                instance_id: 0,
                state: &mut a,
            },
            Section {
                idstr: "dev".into(),
                instance_id: 0,
                state: &mut b,
            },
        ],
        &StreamOptions::for_machine("pc-q35-7.2"),
    )
    .unwrap();
    let mut dst = DevV2 { a: 0, b: 0 };
    let err = load_one(&bytes, &mut dst, "dev").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("section 'dev' instance 0 appears twice"),
        "{err}"
    );
    assert_eq!(dst, DevV2 { a: 0, b: 0 });
}

#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "hooked", version = 1, pre_save = Hooked::pre_save, post_load = Hooked::post_load)]
struct Hooked {
    saved: u32,
    #[vmstate(skip)]
    live: u32,
}

impl Hooked {
    fn pre_save(&mut self) -> Result<(), String> {
        self.saved = self.live;
        Ok(())
    }

    fn post_load(&mut self, _version: u32) -> Result<(), String> {
        if self.saved > 100 {
            return Err(format!("{} is out of range", self.saved));
        }
        self.live = self.saved;
        Ok(())
    }
}

#[test]
fn hooks_run_and_can_refuse() {
    let bytes = save_one(&mut Hooked { saved: 0, live: 42 }, "hooked");
    let mut dst = Hooked::default();
    load_one(&bytes, &mut dst, "hooked").unwrap();
    assert_eq!(
        dst,
        Hooked {
            saved: 42,
            live: 42
        }
    );
    let bytes = save_one(
        &mut Hooked {
            saved: 0,
            live: 420,
        },
        "hooked",
    );
    let mut dst = Hooked::default();
    let err = load_one(&bytes, &mut dst, "hooked").unwrap_err();
    assert!(
        err.to_string()
            .ends_with("post_load hook failed: 420 is out of range (at offset 0x2f)"),
        "{err}"
    );
    assert_eq!(dst, Hooked::default());
}

#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "flags", version = 1)]
struct MustMatchArrays {
    #[vmstate(must_match)]
    bits: [bool; 3],
    #[vmstate(must_match)]
    words: [u16; 2],
    #[vmstate(must_match)]
    on: bool,
}

#[test]
fn must_match_arrays_and_bools() {
    let v = MustMatchArrays {
        bits: [true, false, true],
        words: [1, 2],
        on: true,
    };
    let bytes = save_one(&mut v.clone(), "flags");
    load_one(&bytes, &mut v.clone(), "flags").unwrap();
    let mut other = MustMatchArrays {
        bits: [true, true, true],
        ..v.clone()
    };
    let err = load_one(&bytes, &mut other, "flags").unwrap_err();
    assert_eq!(err.path, ["bits[1]"]);
    let values = VMState::layout(&v).must_match_values();
    let summary: Vec<(String, Vec<u8>)> = values.into_iter().map(|m| (m.path, m.bytes)).collect();
    assert_eq!(
        summary,
        [
            ("bits".to_owned(), vec![1, 0, 1]),
            ("words".to_owned(), vec![0, 1, 0, 2]),
            ("on".to_owned(), vec![1])
        ]
    );
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "slot", version = 1)]
struct Slot {
    v: u16,
}

/// Arrays of nullable elements: which slots are empty is the
/// destination's to say, as in QEMU.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "slots", version = 1)]
struct Slots {
    ar: [Option<Box<Slot>>; 3],
    n: [Option<u8>; 2],
}

#[test]
fn arrays_of_nullable_elements_disagreeing_on_empty_slots() {
    let slot = |v| Some(Box::new(Slot { v }));
    let mut src = Slots {
        ar: [slot(1), slot(2), None],
        n: [Some(4), None],
    };
    let bytes = save_one(&mut src, "slots");
    // The same shape loads.
    let mut same = Slots {
        ar: [slot(0), slot(0), None],
        n: [Some(0), None],
    };
    load_one(&bytes, &mut same, "slots").unwrap();
    assert_eq!(same, src);
    // A destination whose slot 1 is empty expects the null marker where the
    // source sent an element: a precise error, and nothing changes.
    let mut other = Slots {
        ar: [slot(9), None, None],
        n: [Some(9), None],
    };
    let before = other.clone();
    let err = load_one(&bytes, &mut other, "slots").unwrap_err();
    assert_eq!(err.path, ["ar[1]"]);
    assert_eq!(err.kind, LoadErrorKind::NullMarker { found: 0x00 });
    assert_eq!(
        err.to_string(),
        "error while loading state for instance 0x0 of device 'slots' (stream version 1): \
         field 'ar[1]': the destination's slot is empty, so the null marker 0x30 was \
         expected; found 0x00 (the two sides disagree on which elements exist) (at offset 0x2c)"
    );
    assert_eq!(other, before);
    // The layout says where the empty slots are.
    let layout = VMState::layout(&src).to_json().to_string();
    assert!(
        layout.contains(r#"{"name":"ar","array_len":2,"type":"struct","#),
        "{layout}"
    );
    assert!(
        layout.contains(r#"{"name":"ar","type":"nullptr","size":1}"#),
        "{layout}"
    );
    assert!(
        layout.contains(
            r#"{"name":"n","type":"uint8","size":1},{"name":"n","type":"nullptr","size":1}"#
        ),
        "{layout}"
    );
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "entry", version = 1)]
struct Entry {
    v: u16,
}

/// A list and a map bounded by `max`.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "bounded", version = 1)]
struct Bounded {
    #[vmstate(qtailq, max = 2)]
    list: std::collections::VecDeque<Entry>,
    #[vmstate(gtree, max = 2)]
    map: std::collections::BTreeMap<u64, Entry>,
}

#[test]
fn lists_and_maps_are_bounded_and_all_or_nothing() {
    use std::collections::{BTreeMap, VecDeque};
    let entry = |v| Entry { v };
    let mut dst = Bounded {
        list: VecDeque::from([entry(1)]),
        map: BTreeMap::from([(1, entry(1))]),
    };
    let before = dst.clone();
    let load = |bytes: &[u8], dst: &mut Bounded| load_one(bytes, dst, "b");

    // Three list elements where two are allowed: refused when the third's
    // marker is read, before it is.
    let mut three = Bounded {
        list: VecDeque::from([entry(1), entry(2), entry(3)]),
        ..Default::default()
    };
    let err = load(&save_one(&mut three, "b"), &mut dst).unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::LengthTooLarge { len: 3, max: 2 });
    assert_eq!(err.path, ["list"]);
    assert_eq!(dst, before);

    // A map announcing three nodes: refused at its count.
    let mut big = Bounded {
        map: BTreeMap::from([(1, entry(1)), (2, entry(2)), (3, entry(3))]),
        ..Default::default()
    };
    let bytes = save_one(&mut big, "b");
    let err = load(&bytes, &mut dst).unwrap_err();
    assert_eq!(err.kind, LoadErrorKind::LengthTooLarge { len: 3, max: 2 });
    assert_eq!(err.path, ["map"]);
    assert_eq!(dst, before);

    // A bad marker, and a map whose count says more than it holds.
    let mut ok = Bounded {
        list: VecDeque::from([entry(7)]),
        map: BTreeMap::from([(5, entry(8))]),
    };
    let bytes = save_one(&mut ok, "b");
    // The header (8), the configuration section (1 + 4 + "pc-q35-7.2"),
    // the section header (1 + 4 + 1 + "b" + 4 + 4): then the list.
    let list_marker = 8 + 15 + 15;
    assert_eq!(bytes[list_marker], 0x01);
    let mut bad = bytes.clone();
    bad[list_marker] = 0x02;
    let err = load(&bad, &mut dst).unwrap_err();
    assert_eq!(
        err.kind,
        LoadErrorKind::BadMarker {
            expected: "0x01 (an element follows) or 0x00 (the end of the list)",
            found: 0x02
        }
    );
    assert_eq!(dst, before);
    let count = list_marker + 1 + 2 + 1; // marker, element, end of list
    let mut short = bytes.clone();
    short[count + 3] = 2; // two nodes announced, one there
    let err = load(&short, &mut dst).unwrap_err();
    assert!(
        matches!(err.kind, LoadErrorKind::BadMarker { found: 0x00, .. }),
        "{err}"
    );
    assert_eq!(dst, before);

    // The good stream loads, order and keys kept.
    load(&bytes, &mut dst).unwrap();
    assert_eq!(dst, ok);
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "pair", version = 1)]
struct Pair {
    x: u8,
    y: u16,
}

/// Arrays of structs, 2-D arrays and a boxed struct (QEMU's
/// `VMSTATE_STRUCT_ARRAY`, `VMSTATE_UINT16_2DARRAY`,
/// `VMSTATE_STRUCT_POINTER`).
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "shapes", version = 1)]
struct Shapes {
    pairs: [Pair; 2],
    grid: [[u16; 3]; 2],
    bytes: [[u8; 2]; 2],
    boxed: Box<Pair>,
}

#[test]
fn struct_arrays_2d_arrays_and_boxed_structs() {
    let pair = |x, y| Pair { x, y };
    let mut src = Shapes {
        pairs: [pair(1, 0x0203), pair(4, 0x0506)],
        grid: [[1, 2, 3], [4, 5, 6]],
        bytes: [[7, 8], [9, 10]],
        boxed: Box::new(pair(11, 0x0c0d)),
    };
    let mut w = compat_core::codec::StreamWriter::new();
    src.save_state(&mut w).unwrap();
    #[rustfmt::skip]
    let want = [
        1, 2, 3, 4, 5, 6,                    // pairs, one after another
        0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6,  // grid, row by row
        7, 8, 9, 10,                         // bytes, row by row
        11, 12, 13,                          // boxed, inline
    ];
    assert_eq!(w.into_bytes(), want);
    let bytes = save_one(&mut src, "shapes");
    let mut dst = Shapes::default();
    load_one(&bytes, &mut dst, "shapes").unwrap();
    assert_eq!(dst, src);
    // An error in an element names it.
    let cut = &bytes[..bytes.len() - 40];
    let err = load_one(cut, &mut Shapes::default(), "shapes").unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    let layout = VMState::layout(&src).to_json().to_string();
    assert!(
        layout.contains(
            r#"{"name":"pairs","array_len":2,"type":"struct","struct":{"vmsd_name":"pair""#
        ),
        "{layout}"
    );
    assert!(
        layout.contains(r#"{"name":"grid","array_len":6,"type":"uint16","size":2}"#),
        "{layout}"
    );
    assert!(
        layout.contains(r#"{"name":"boxed","type":"struct","struct":{"vmsd_name":"pair""#),
        "{layout}"
    );
}

/// Slots the stream decides (QEMU's `VMS_ARRAY_OF_POINTER_AUTO_ALLOC`):
/// every slot marked, present elements allocated on load.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "alloc", version = 1)]
struct Allocated {
    #[vmstate(alloc)]
    ar: [Option<Box<Slot>>; 3],
    #[vmstate(alloc)]
    n: [Option<u16>; 2],
}

#[test]
fn marked_slots_are_allocated_as_the_stream_says() {
    let slot = |v| Some(Box::new(Slot { v }));
    let mut src = Allocated {
        ar: [slot(0x0102), None, slot(0x0304)],
        n: [None, Some(0x0506)],
    };
    let mut w = compat_core::codec::StreamWriter::new();
    src.save_state(&mut w).unwrap();
    assert_eq!(
        w.into_bytes(),
        [0x31, 1, 2, 0x30, 0x31, 3, 4, 0x30, 0x31, 5, 6]
    );
    let bytes = save_one(&mut src, "alloc");
    // A destination with other slots filled: the stream decides.
    let mut dst = Allocated {
        ar: [None, slot(9), None],
        n: [Some(1), None],
    };
    load_one(&bytes, &mut dst, "alloc").unwrap();
    assert_eq!(dst, src);
    // Any other marker is a precise error, and nothing changes.
    let mut bad = bytes.clone();
    let first = 8 + 15 + (1 + 4 + 1 + 5 + 4 + 4);
    assert_eq!(bad[first], 0x31);
    bad[first] = 0x32;
    let before = dst.clone();
    let err = load_one(&bad, &mut dst, "alloc").unwrap_err();
    assert_eq!(err.path, ["ar[0]"]);
    assert_eq!(
        err.kind,
        LoadErrorKind::BadMarker {
            expected: "0x31 (an element follows) or 0x30 (an empty slot)",
            found: 0x32
        }
    );
    assert_eq!(dst, before);
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "opt", version = 1)]
struct WithOptional {
    a: u8,
    #[vmstate(exists = WithOptional::b_exists)]
    b: u8,
}

impl WithOptional {
    fn b_exists(&self, _version: u32) -> bool {
        self.a > 0
    }
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "compress", version = 1)]
struct Compress {
    plain: [Pair; 3],
    optional: [WithOptional; 2],
    one: [Pair; 1],
}

#[test]
fn arrays_are_described_as_qemu_compresses_them() {
    let o = |a| WithOptional { a, b: 7 };
    let src = Compress {
        optional: [o(0), o(1)],
        ..Default::default()
    };
    let layout = VMState::layout(&src);
    let described: Vec<(&str, Option<usize>)> = layout
        .fields
        .iter()
        .map(|f| (f.name.as_ref(), f.array_len))
        .collect();
    // Plain structs by their first element and a count; structs with an
    // `exists` test element by element (their sizes differ); a single
    // element without a count, as QEMU writes them.
    assert_eq!(
        described,
        [
            ("plain", Some(3)),
            ("optional", None),
            ("optional", None),
            ("one", None)
        ]
    );
    assert_eq!(layout.fields[1].size, 1);
    assert_eq!(layout.fields[2].size, 2);
}

#[test]
fn a_fixed_layout_is_described_once_and_copied_for_each_device() {
    const {
        assert!(Inner::FIXED_LAYOUT && DevV3::FIXED_LAYOUT);
        // A variable array's layout follows its length.
        assert!(!Kinds::FIXED_LAYOUT);
    }
    let (mut a, mut b, mut k) = (
        DevV3 { a: 1, b: 2, c: 3 },
        DevV3 { a: 4, b: 5, c: 6 },
        sample(),
    );
    let bytes = stream::save(
        &mut [
            Section {
                idstr: "d0".into(),
                instance_id: 0,
                state: &mut a,
            },
            Section {
                idstr: "k".into(),
                instance_id: 7,
                state: &mut k,
            },
            Section {
                idstr: "d1".into(),
                instance_id: 1,
                state: &mut b,
            },
        ],
        &StreamOptions::for_machine("pc-q35-7.2"),
    )
    .unwrap();
    let doc = compat_core::stream::qemu::QemuStream::parse(&bytes).unwrap();
    // The copied description, as QEMU writes it, by hand.
    let text = String::from_utf8_lossy(&doc.vmdesc.as_ref().unwrap().raw).into_owned();
    let d1 = r#"{"name": "d1", "instance_id": 1, "vmsd_name": "dev", "version": 3, "fields": [{"name": "a", "type": "uint32", "size": 4}, {"name": "b", "type": "uint16", "size": 2}, {"name": "c", "type": "uint8", "size": 1}]}"#;
    assert!(text.ends_with(&format!("{d1}]}}")), "{text}");
    let devices = doc.vmdesc.unwrap().json["devices"].clone();
    let layouts = [
        ("d0", 0, VMState::layout(&a)),
        ("k", 7, VMState::layout(&k)),
        ("d1", 1, VMState::layout(&b)),
    ];
    for (i, (name, instance, layout)) in layouts.into_iter().enumerate() {
        let mut want = serde_json::json!({"name": name, "instance_id": instance});
        for (key, value) in layout.to_json().as_object().unwrap() {
            want[key] = value.clone();
        }
        assert_eq!(devices[i], want, "device {i}");
    }
}

/// A variable array of structs (QEMU's `VMSTATE_STRUCT_VARRAY_*`): as many
/// elements as the earlier length field says, one after another, and
/// nothing else on the wire; a length past `max` is refused before anything
/// is allocated, and the destination is left as it was.
#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "log", version = 1)]
struct Log {
    n: u16,
    #[vmstate(len = n, max = 4)]
    entries: Vec<Inner>,
    after: u8,
}

#[test]
fn a_variable_array_of_structs_round_trips_and_is_bounded() {
    let mut src = Log {
        n: 2,
        entries: vec![Inner { x: 1, y: 2 }, Inner { x: 3, y: 4 }],
        after: 0xee,
    };
    let bytes = save_one(&mut src, "log");
    let mut dst = Log::default();
    load_one(&bytes, &mut dst, "log").unwrap();
    assert_eq!(dst, src);
    // On the wire: the length, each element's six bytes, the last field.
    let wire = [
        &[0u8, 2][..],
        &[0, 0, 0, 1, 0, 2],
        &[0, 0, 0, 3, 0, 4],
        &[0xee],
    ]
    .concat();
    let at = bytes
        .windows(wire.len())
        .position(|w| w == wire)
        .expect("the section's fields as QEMU lays them out");
    // A length past the maximum, refused naming the field; one within it
    // but longer than what was sent, which reads into the section's end.
    for (n, expect) in [(5u16, "entries"), (4, "Missing section footer for log")] {
        let mut bad = bytes.clone();
        bad[at..at + 2].copy_from_slice(&n.to_be_bytes());
        let before = Log {
            n: 1,
            entries: vec![Inner { x: 7, y: 7 }],
            after: 1,
        };
        let mut dst = before.clone();
        let err = load_one(&bad, &mut dst, "log").unwrap_err();
        assert!(err.to_string().contains(expect), "{err}");
        assert_eq!(dst, before, "{err}");
    }
}
