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
            assert_ne!(a, destination());
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
fn a_huge_announced_length_allocates_nothing() {
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
    assert!(
        err.to_string().contains("truncated") || err.to_string().contains("unsupported"),
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
