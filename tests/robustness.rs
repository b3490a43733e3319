//! Bad input never panics, never half-loads: random corruptions and cuts
//! of a good stream either load completely or fail leaving every device as
//! it was; the generic QEMU-stream reader survives arbitrary bytes.

use compat_core::stream::qemu::QemuStream;
use compat_core::stream::{self, Section, StreamOptions};
use compat_core::VMState;
use proptest::prelude::*;

#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "blk/queue", version = 1)]
struct Queue {
    avail: u16,
}

#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "blk", version = 2, minimum_version = 1)]
struct Blk {
    features: u64,
    nq: u16,
    #[vmstate(len = nq, max = 8)]
    last_avail: Vec<u16>,
    #[vmstate(must_match)]
    queue_size: u16,
    config: [u8; 16],
    #[vmstate(since = 2)]
    wce: bool,
    #[vmstate(subsection, needed = Blk::has_queue)]
    queue: Queue,
}

impl Blk {
    fn has_queue(&self) -> bool {
        self.queue.avail != 0
    }
}

fn source() -> Blk {
    Blk {
        features: 0x1234_5678,
        nq: 4,
        last_avail: vec![1, 2, 3, 4],
        queue_size: 256,
        config: [7; 16],
        wce: true,
        queue: Queue { avail: 9 },
    }
}

fn destination() -> Blk {
    Blk {
        queue_size: 256,
        ..Blk::default()
    }
}

fn opts() -> StreamOptions {
    StreamOptions::for_machine("pc-q35-5.1")
}

fn good_stream() -> Vec<u8> {
    let (mut a, mut b) = (source(), source());
    b.features = 1;
    stream::save(
        &mut [
            Section {
                idstr: "0000:00:04.0/blk".into(),
                instance_id: 0,
                state: &mut a,
            },
            Section {
                idstr: "0000:00:05.0/blk".into(),
                instance_id: 0,
                state: &mut b,
            },
        ],
        &opts(),
    )
    .unwrap()
}

/// Load into two fresh destinations: either both took the stream or
/// neither changed.
fn load_all_or_nothing(bytes: &[u8]) -> Result<(), String> {
    let (mut a, mut b) = (destination(), destination());
    let result = stream::load(
        bytes,
        &mut [
            Section {
                idstr: "0000:00:04.0/blk".into(),
                instance_id: 0,
                state: &mut a,
            },
            Section {
                idstr: "0000:00:05.0/blk".into(),
                instance_id: 0,
                state: &mut b,
            },
        ],
        &opts(),
    );
    match result {
        Ok(_) => {
            // Both took their sections: neither stayed as it was.
            assert_ne!(a, destination());
            assert_ne!(b, destination());
            Ok(())
        }
        Err(e) => {
            assert_eq!(a, destination(), "first device changed after: {e}");
            assert_eq!(b, destination(), "second device changed after: {e}");
            Err(e.to_string())
        }
    }
}

#[test]
fn the_good_stream_loads() {
    load_all_or_nothing(&good_stream()).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Flip bytes anywhere: no panic, no partial load.
    #[test]
    fn corrupted_streams(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = good_stream();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = load_all_or_nothing(&bytes);
        let _ = QemuStream::parse(&bytes);
    }

    /// Cut anywhere, append anything: no panic, no partial load.
    #[test]
    fn cut_and_extended_streams(cut in any::<prop::sample::Index>(), tail in prop::collection::vec(any::<u8>(), 0..16)) {
        let good = good_stream();
        let mut bytes = good[..cut.index(good.len())].to_vec();
        bytes.extend(tail);
        let _ = load_all_or_nothing(&bytes);
        let _ = QemuStream::parse(&bytes);
    }

    /// Arbitrary bytes after a valid header.
    #[test]
    fn arbitrary_bodies(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut bytes = b"QEVM\0\0\0\x03".to_vec();
        bytes.extend(body);
        prop_assert!(load_all_or_nothing(&bytes).is_err());
        let _ = QemuStream::parse(&bytes);
    }
}

#[test]
fn a_huge_announced_length_is_refused_by_its_bound() {
    // A vmdesc announcing a 4 GiB field, and a RAM block list announcing
    // exabytes: both are refused by bounds, not by running out of memory.
    let mut bytes = b"QEVM\0\0\0\x03".to_vec();
    bytes.extend([
        0x04, 0, 0, 0, 0, 3, b'd', b'e', b'v', 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
    bytes.push(0x00);
    let json = br#"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "x", "type": "buffer", "size": 4294967295, "array_len": 4294967295}]}]}"#;
    bytes.push(0x06);
    bytes.extend((json.len() as u32).to_be_bytes());
    bytes.extend(json);
    let err = QemuStream::parse(&bytes).unwrap_err();
    assert!(err.to_string().contains("array_len 4294967295"), "{err}");

    let mut bytes = b"QEVM\0\0\0\x03".to_vec();
    bytes.extend([
        0x01, 0, 0, 0, 0, 3, b'r', b'a', b'm', 0, 0, 0, 0, 0, 0, 0, 4,
    ]);
    bytes.extend((!0xfffu64 | 0x04).to_be_bytes());
    bytes.extend([3, b'p', b'c', b'0']);
    bytes.extend(u64::MAX.to_be_bytes());
    let err = QemuStream::parse(&bytes).unwrap_err();
    assert_eq!(
        err.kind,
        compat_core::codec::LoadErrorKind::Unsupported(
            "RAM block lengths that exceed the announced total".into()
        ),
        "{err}"
    );
}

#[test]
fn struct_sizes_a_trailer_claims_do_not_overflow() {
    // A nested struct whose fields claim 2^63 bytes twice: summing them
    // must not overflow (a panic in debug builds), and the section is
    // refused as truncated.
    let mut bytes = b"QEVM\0\0\0\x03".to_vec();
    bytes.extend([
        0x04, 0, 0, 0, 0, 3, b'd', b'e', b'v', 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
    bytes.push(0x00);
    let json = br#"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "s", "type": "struct", "size": 0, "struct": {"vmsd_name": "s", "version": 1, "fields": [{"name": "a", "type": "buffer", "size": 9223372036854775808, "array_len": 2}, {"name": "b", "type": "buffer", "size": 9223372036854775808}]}}]}]}"#;
    bytes.push(0x06);
    bytes.extend((json.len() as u32).to_be_bytes());
    bytes.extend(json);
    let err = QemuStream::parse(&bytes).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

/// A stream with a RAM section whose one page is `page`, then `trailer`.
fn ram_stream(page: &[u8; 4096], trailer: Option<&str>) -> Vec<u8> {
    let mut b = b"QEVM\0\0\0\x03".to_vec();
    b.extend([
        0x01, 0, 0, 0, 0, 3, b'r', b'a', b'm', 0, 0, 0, 0, 0, 0, 0, 4,
    ]);
    // MEM_SIZE: one block of 4096 bytes.
    b.extend((0x1000u64 | 0x04).to_be_bytes());
    b.extend([6, b'p', b'c', b'.', b'r', b'a', b'm']);
    b.extend(4096u64.to_be_bytes());
    // End of this part.
    b.extend(0x10u64.to_be_bytes());
    // The page, in an END part.
    b.extend([0x03, 0, 0, 0, 0]);
    b.extend(0x08u64.to_be_bytes());
    b.extend([6, b'p', b'c', b'.', b'r', b'a', b'm']);
    b.extend(page);
    b.extend(0x10u64.to_be_bytes());
    b.push(0x00);
    if let Some(json) = trailer {
        b.push(0x06);
        b.extend((json.len() as u32).to_be_bytes());
        b.extend(json.as_bytes());
    }
    b
}

#[test]
fn guest_ram_that_looks_like_a_trailer_is_ram() {
    // The page holds what a trailer looks like: EOF, 0x06, a length and
    // JSON of that length.
    let fake = br#"{"devices": []}"#;
    let mut page = [0u8; 4096];
    page[100] = 0x00;
    page[101] = 0x06;
    page[102..106].copy_from_slice(&(fake.len() as u32).to_be_bytes());
    page[106..106 + fake.len()].copy_from_slice(fake);
    for trailer in [Some(r#"{"page_size": 4096, "devices": []}"#), None] {
        let bytes = ram_stream(&page, trailer);
        let doc = QemuStream::parse(&bytes).unwrap();
        assert_eq!(doc.vmdesc.is_some(), trailer.is_some());
        assert_eq!(doc.to_bytes(), bytes);
    }
}

#[test]
fn a_malformed_trailer_is_blamed_on_the_trailer() {
    let good = good_stream();
    let doc = QemuStream::parse(&good).unwrap();
    let json_at = good.len() - doc.vmdesc.unwrap().raw.len();
    let mut bad = good.clone();
    bad[json_at + 1] = b'!';
    let err = QemuStream::parse(&bad).unwrap_err();
    assert!(
        matches!(err.kind, compat_core::codec::LoadErrorKind::BadVmdesc(_)),
        "{err}"
    );
    assert_eq!(err.offset, json_at);
    assert!(
        err.to_string().starts_with(&format!(
            "bad vmdesc trailer: the trailer at offset 0x{:x} is not JSON",
            json_at - 5
        )),
        "{err}"
    );
    // A trailer of JSON that is not QEMU's shape, too.
    let json = r#"{"page_size": 4096}"#;
    let mut other = good[..json_at - 5].to_vec();
    other.push(0x06);
    other.extend((json.len() as u32).to_be_bytes());
    other.extend(json.as_bytes());
    let err = QemuStream::parse(&other).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "bad vmdesc trailer: the trailer has no \"devices\" list (at offset 0x{:x})",
            json_at - 5
        )
    );
}

#[test]
fn a_second_configuration_section_is_refused() {
    let good = good_stream();
    // Header, then the configuration section: type, length, name.
    let name_len = u32::from_be_bytes(good[9..13].try_into().unwrap()) as usize;
    let config = good[8..13 + name_len].to_vec();
    let mut twice = good[..13 + name_len].to_vec();
    twice.extend(&config);
    twice.extend(&good[13 + name_len..]);
    let err = load_all_or_nothing(&twice).unwrap_err();
    assert_eq!(
        err,
        format!(
            "a second configuration section (machine type 'pc-q35-5.1'): a stream describes \
             one machine (at offset 0x{:x})",
            13 + name_len
        )
    );
    let err = QemuStream::parse(&twice).unwrap_err();
    assert_eq!(err.offset, 13 + name_len);
}

#[test]
fn names_from_a_stream_are_escaped_in_errors() {
    // A section named to print a fake line and clear the terminal.
    let mut b = b"QEVM\0\0\0\x03".to_vec();
    b.extend([0x07, 0, 0, 0, 10]);
    b.extend(b"pc-q35-5.1");
    let name = b"x'\n\x1b[2Jok: loaded";
    b.extend([0x04, 0, 0, 0, 0, name.len() as u8]);
    b.extend(name);
    b.extend([0, 0, 0, 0, 0, 0, 0, 1]);
    let err = load_all_or_nothing(&b).unwrap_err();
    assert!(!err.chars().any(char::is_control), "{err:?}");
    assert!(
        err.starts_with(r"Unknown savevm section or instance 'x\'\n\u{1b}[2Jok: loaded' 0."),
        "{err}"
    );
}

#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "checked/inner", version = 2, minimum_version = 1)]
struct CheckedInner {
    a: u16,
    #[vmstate(since = 2)]
    b: u32,
}

/// A state whose every field checks in place: the load is checked whole
/// before it writes.
#[derive(Clone, Debug, PartialEq, Default, VMState)]
#[vmstate(name = "checked", version = 3, minimum_version = 1)]
struct Checked {
    x: u32,
    y: u8,
    on: bool,
    #[vmstate(must_match)]
    id: u16,
    #[vmstate(must_match)]
    config: [u8; 4],
    regs: [u32; 3],
    grid: [[u16; 2]; 2],
    inner: CheckedInner,
    cells: [CheckedInner; 2],
    #[vmstate(unused = 2)]
    _gap: (),
    #[vmstate(since = 3)]
    late: i64,
}

fn checked_source() -> Checked {
    Checked {
        x: 1,
        y: 2,
        on: true,
        id: 0x1234,
        config: [1, 2, 3, 4],
        regs: [5, 6, 7],
        grid: [[8, 9], [10, 11]],
        inner: CheckedInner { a: 12, b: 13 },
        cells: [CheckedInner { a: 14, b: 15 }, CheckedInner { a: 16, b: 17 }],
        _gap: (),
        late: -18,
    }
}

#[test]
fn a_state_of_checkable_fields_checks_in_place() {
    const { assert!(Checked::CHECK_IN_PLACE && !Blk::CHECK_IN_PLACE) };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The check of a section fails exactly where its load fails, and
    /// passes exactly when it passes, reading as far: what lets a stream be
    /// checked whole before any device is written.
    #[test]
    fn a_check_agrees_with_the_load(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        version in 0u32..5,
    ) {
        let mut src = checked_source();
        let mut w = compat_core::codec::StreamWriter::new();
        src.save_state(&mut w).unwrap();
        let mut bytes = w.into_bytes();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let keep = cut.index(bytes.len() + 1).max(bytes.len() / 2);
        bytes.truncate(keep);
        let dst = Checked { id: 0x1234, config: [1, 2, 3, 4], ..Checked::default() };
        let mut checked = compat_core::codec::StreamReader::new(&bytes);
        let check = dst.check_state(&mut checked, version);
        let mut loaded = compat_core::codec::StreamReader::new(&bytes);
        let load = dst.clone().load_state(&mut loaded, version);
        prop_assert_eq!(&check, &load);
        if check.is_ok() {
            prop_assert_eq!(checked.offset(), loaded.offset());
        }
    }
}

/// The sections of a stream of a checked and a copied state.
fn checked_and_copied<'a>(c: &'a mut Checked, b: &'a mut Blk) -> [Section<'a>; 2] {
    [
        Section {
            idstr: "c".into(),
            instance_id: 0,
            state: c,
        },
        Section {
            idstr: "b".into(),
            instance_id: 0,
            state: b,
        },
    ]
}

#[test]
fn checked_and_copied_sections_are_all_or_nothing_together() {
    let (mut c, mut b) = (checked_source(), source());
    let opts = opts();
    let good = stream::save(&mut checked_and_copied(&mut c, &mut b), &opts).unwrap();
    let fresh_c = || Checked {
        id: 0x1234,
        config: [1, 2, 3, 4],
        ..Checked::default()
    };
    let (mut loaded, mut refused) = (0, 0);
    for at in 0..good.len() {
        for value in [0x00, 0xff, good[at] ^ 1] {
            let mut bytes = good.clone();
            bytes[at] = value;
            let (mut c, mut b) = (fresh_c(), destination());
            let result = stream::load(&bytes, &mut checked_and_copied(&mut c, &mut b), &opts);
            match result {
                Ok(_) => loaded += 1,
                Err(e) => {
                    refused += 1;
                    assert_eq!(c, fresh_c(), "byte {at} = {value:#x}: {e}");
                    assert_eq!(b, destination(), "byte {at} = {value:#x}: {e}");
                }
            }
        }
    }
    assert!(
        loaded > 0 && refused > 0,
        "{loaded} loaded, {refused} refused"
    );
}
