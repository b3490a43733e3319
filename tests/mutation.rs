//! Hostile input against both stream readers — the transactional loader
//! and the reader of whole QEMU streams — measured as it runs: every
//! truncation point of a small stream and over 100,000 mutations of streams
//! from several example machines (one stream with a pre-flight section) and
//! of real QEMU streams. No input may panic, half-load a machine (a failed
//! load leaves every device exactly as before: its state saves to the same
//! bytes), allocate more than
//! [`PEAK_BOUND`] above what the input itself takes, or take longer than
//! [`TIME_BOUND`]. The counts are printed (`cargo test --test mutation --
//! --nocapture`).
//!
//! A counting allocator is this binary's global allocator, so every byte
//! the readers allocate is seen; the tests take one lock so that their
//! measurements do not overlap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use compat_core::codec::LoadErrorKind;
use compat_core::stream::qemu::QemuStream;
use compat_core::stream::{self, Section, StreamOptions};
use compat_core::VMState;
use compat_examples::catalog::standard_config;
use compat_examples::releases;

/// The most any one input may make a reader allocate beyond the bytes of
/// the input: the element budget (65,536 elements of no bytes) decoded as
/// fields is a few MiB.
const PEAK_BOUND: usize = 48 << 20;

/// The longest any one input may take, in this (unoptimized) test build.
const TIME_BOUND: Duration = Duration::from_secs(2);

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// `f`'s result, the most it allocated at once beyond what was allocated
/// before, and how long it took.
fn measured<R>(f: impl FnOnce() -> R) -> (R, usize, Duration) {
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    (r, PEAK.load(Relaxed).saturating_sub(base), took)
}

/// A small deterministic generator (splitmix64): the same mutations every
/// run, so a failure names an input that can be made again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What the sweep saw.
#[derive(Default, Debug)]
struct Tally {
    inputs: usize,
    loaded: usize,
    refused: usize,
    parsed: usize,
    parse_refused: usize,
    peak: usize,
    slowest: Duration,
}

impl Tally {
    fn see(&mut self, what: &str, input: &[u8], peak: usize, took: Duration) {
        assert!(
            peak <= PEAK_BOUND,
            "{what}: {peak} bytes allocated at once for an input of {} bytes",
            input.len()
        );
        assert!(took <= TIME_BOUND, "{what}: took {took:?}");
        self.peak = self.peak.max(peak);
        self.slowest = self.slowest.max(took);
    }
}

/// Where a stream's sections are: the byte range of each section record
/// with its footer, the offset of its version field, and where EOF is.
struct Map {
    sections: Vec<(usize, usize, usize)>,
    eof: usize,
}

fn map_of(bytes: &[u8]) -> Map {
    // A device-state stream (Xen's) has no trailer to read its sections
    // through: it gets the byte-level mutations only.
    let Ok(doc) = QemuStream::parse(bytes) else {
        return Map {
            sections: Vec::new(),
            eof: bytes.len() - 1,
        };
    };
    let trailer = doc.vmdesc.as_ref().map_or(0, |v| v.raw.len() + 5);
    let eof = bytes.len() - trailer - 1;
    let mut starts: Vec<(usize, usize)> = doc
        .records
        .iter()
        .filter_map(|r| match r {
            compat_core::stream::qemu::Record::Section(s) => {
                let h = s.header.as_ref()?;
                // kind, section id, name length, name, instance, version
                Some((s.offset - 14 - h.idstr.len(), s.offset - 4))
            }
            _ => None,
        })
        .collect();
    starts.sort_unstable();
    let sections = starts
        .iter()
        .enumerate()
        .map(|(i, &(start, version))| {
            let end = starts.get(i + 1).map_or(eof, |n| n.0);
            (start, end, version)
        })
        .collect();
    Map { sections, eof }
}

/// The mutations of `good`: `count` random ones of every kind, and the
/// structural ones its sections allow.
fn mutations(good: &[u8], count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    let map = map_of(good);
    let mut out = Vec::new();
    for i in 0..count {
        let mut b = good.to_vec();
        match i % 8 {
            // Bit flips, one to four.
            0 | 1 => {
                for _ in 0..=rng.below(4) {
                    let at = rng.below(b.len());
                    b[at] ^= 1 << rng.below(8);
                }
            }
            // A byte inserted.
            2 => {
                let at = rng.below(b.len() + 1);
                b.insert(at, rng.next() as u8);
            }
            // A run of bytes deleted.
            3 => {
                let at = rng.below(b.len());
                let n = 1 + rng.below(8).min(b.len() - at - 1);
                b.drain(at..at + n);
            }
            // A length or count set to 0xFFFFFFFF (or 0, or 0x7FFFFFFF).
            4 => {
                let at = rng.below(b.len() - 3);
                let v: u32 = [u32::MAX, 0, 0x7fff_ffff, 0x0100_0000][rng.below(4)];
                b[at..at + 4].copy_from_slice(&v.to_be_bytes());
            }
            // A random byte anywhere.
            5 => {
                let at = rng.below(b.len());
                b[at] = rng.next() as u8;
            }
            // A section duplicated, swapped with the next, or renamed.
            6 if !map.sections.is_empty() => {
                let s = rng.below(map.sections.len());
                let (start, end, _) = map.sections[s];
                match rng.below(3) {
                    0 => {
                        let copy = b[start..end].to_vec();
                        b.splice(end..end, copy);
                    }
                    1 if s + 1 < map.sections.len() => {
                        let (_, next_end, _) = map.sections[s + 1];
                        let mut swapped = b[end..next_end].to_vec();
                        swapped.extend_from_slice(&b[start..end]);
                        b.splice(start..next_end, swapped);
                    }
                    _ => {
                        let name_len = b[start + 5] as usize;
                        if name_len > 0 {
                            let at = start + 6 + rng.below(name_len);
                            b[at] = b"xyz\x1b\n'"[rng.below(6)];
                        }
                    }
                }
            }
            // A version bumped, or the trailer's length made huge.
            _ => {
                if rng.below(2) == 0 && !map.sections.is_empty() {
                    let (_, _, version) = map.sections[rng.below(map.sections.len())];
                    let v = u32::from_be_bytes(b[version..version + 4].try_into().unwrap());
                    let bumped = v.wrapping_add(1 + rng.below(2) as u32);
                    b[version..version + 4].copy_from_slice(&bumped.to_be_bytes());
                } else if map.eof + 6 <= b.len() {
                    let at = map.eof + 2;
                    let v: u32 = [u32::MAX, 0x7fff_ffff, 0, 1][rng.below(4)];
                    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
                }
            }
        }
        out.push(b);
    }
    out
}

/// The machine a mutated stream comes from: the standard configuration of
/// machine type `machine_type` with a CPU, without the e1000e. Its section
/// (136 KB, most of it 32,768 MAC registers) is plain integers a mutation
/// inside loads as it is, and tens of thousands of copies of it would cost
/// gigabytes; the loader's handling of what surrounds a section is the same
/// for every device.
fn mutated_config(machine_type: &str) -> compat_core::MachineConfig {
    let mut config = standard_config(machine_type);
    config.devices.retain(|d| d.driver != "e1000e");
    config.cpu = Some("base".into());
    config
}

/// Streams of several example machines: (release, machine type).
const MACHINES: [(&str, &str); 5] = [
    ("8.2", "pc-q35-8.2"),
    ("8.2", "pc-q35-7.2"),
    ("8.0", "pc-i440fx-8.0"),
    ("5.2", "pc-q35-5.1"),
    ("8.2", "xenfv-4.2"),
];

/// Load `input` into `machine`: a refusal must leave it saving `snapshot`
/// again; an accepted input is undone by loading `good`.
fn attempt(
    machine: &mut compat_core::Machine<'_>,
    good: &[u8],
    snapshot: &[u8],
    input: &[u8],
    what: &str,
    tally: &mut Tally,
) {
    tally.inputs += 1;
    let (result, peak, took) = measured(|| machine.load(input));
    tally.see(what, input, peak, took);
    match result {
        Ok(_) => {
            tally.loaded += 1;
            machine.load(good).expect("the good stream loads again");
        }
        Err(e) => {
            tally.refused += 1;
            let after = machine.save().expect("saves");
            assert!(
                after == snapshot,
                "{what}: a refused load changed the machine ({e})"
            );
            let text = e.to_string();
            assert!(
                !text.chars().any(|c| c.is_control()),
                "{what}: control characters reach the message: {text:?}"
            );
        }
    }
    let (parsed, peak, took) = measured(|| QemuStream::parse(input));
    tally.see(what, input, peak, took);
    match parsed {
        Ok(_) => tally.parsed += 1,
        Err(e) => {
            tally.parse_refused += 1;
            let text = e.to_string();
            assert!(
                !text.chars().any(|c| c.is_control()),
                "{what}: control characters reach the message: {text:?}"
            );
        }
    }
}

#[test]
fn mutated_example_streams_never_panic_half_load_or_blow_up() {
    // The machines hold states of both kinds a load handles: checked
    // before they are written (the CPU) and loaded with an undo copy
    // (virtio-blk's variable array, the root port's check mask, PIIX4_PM's
    // existence tests).
    const {
        use compat_examples::devices::{PcieRootPort, Piix4Pm, VirtioBlk, X86Cpu};
        assert!(X86Cpu::CHECK_IN_PLACE);
        assert!(!VirtioBlk::CHECK_IN_PLACE && !PcieRootPort::CHECK_IN_PLACE);
        assert!(!Piix4Pm::CHECK_IN_PLACE);
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut tally = Tally::default();
    let mut truncations = 0;
    for (seed, (rel, machine_type)) in MACHINES.into_iter().enumerate() {
        let release = releases::release(rel).unwrap();
        let config = mutated_config(machine_type);
        let mut machine = release.instantiate_config(&config).unwrap();
        let good = machine.save().unwrap();
        let snapshot = good.clone();
        let what = |kind: &str, i: usize| format!("{rel}/{machine_type}: {kind} #{i}");
        if seed == 0 {
            // Every truncation point of this stream.
            for cut in 0..good.len() {
                attempt(
                    &mut machine,
                    &good,
                    &snapshot,
                    &good[..cut],
                    &what("cut", cut),
                    &mut tally,
                );
                truncations += 1;
            }
        }
        for (i, input) in mutations(&good, 21_000, seed as u64 + 1).iter().enumerate() {
            attempt(
                &mut machine,
                &good,
                &snapshot,
                input,
                &what("mutation", i),
                &mut tally,
            );
        }
    }
    // A stream that carries a pre-flight: its section is checked first.
    let release = releases::release("8.2").unwrap();
    let mut machine = release
        .instantiate_config(&mutated_config("pc-q35-8.2"))
        .unwrap();
    let good = machine.save_with_preflight().unwrap();
    let snapshot = machine.save().unwrap();
    for (i, input) in mutations(&good, 10_000, 99).iter().enumerate() {
        let what = format!("8.2/pc-q35-8.2 with a pre-flight: mutation #{i}");
        attempt(&mut machine, &good, &snapshot, input, &what, &mut tally);
    }
    println!(
        "example streams: {} inputs ({truncations} truncations), {} loaded, {} refused with \
         every device unchanged; whole-stream reader: {} read, {} refused; peak allocation \
         {} KiB, slowest input {:?}",
        tally.inputs,
        tally.loaded,
        tally.refused,
        tally.parsed,
        tally.parse_refused,
        tally.peak >> 10,
        tally.slowest
    );
    assert!(tally.inputs >= 100_000);
    assert!(
        tally.refused > tally.inputs / 2,
        "most mutations break a stream"
    );
}

#[test]
fn mutated_real_qemu_streams_never_panic_or_blow_up() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(shared) = compat_tests::shared("mutating real QEMU streams") else {
        return;
    };
    let mut tally = Tally::default();
    for (seed, name) in ["base_72to72.mig", "base_10to10.mig", "uncmask_10to72.mig"]
        .into_iter()
        .enumerate()
    {
        let good = std::fs::read(shared.join("qemu-fixtures/mig").join(name)).unwrap();
        for (i, input) in mutations(&good, 400, 100 + seed as u64).iter().enumerate() {
            tally.inputs += 1;
            let (parsed, peak, took) = measured(|| QemuStream::parse(input));
            tally.see(&format!("{name}: mutation #{i}"), input, peak, took);
            match parsed {
                Ok(doc) => {
                    tally.parsed += 1;
                    assert_eq!(
                        doc.to_bytes(),
                        *input,
                        "{name} #{i}: re-emitted differently"
                    );
                }
                Err(_) => tally.parse_refused += 1,
            }
        }
    }
    println!(
        "real QEMU streams: {} inputs, {} read (each re-emitted byte for byte), {} refused; \
         peak allocation {} KiB, slowest input {:?}",
        tally.inputs,
        tally.parsed,
        tally.parse_refused,
        tally.peak >> 10,
        tally.slowest
    );
}

/// A stream of one device section `dev` with a trailer `json`.
fn described_stream(body: &[u8], json: &str) -> Vec<u8> {
    let mut bytes = b"QEVM\0\0\0\x03".to_vec();
    bytes.extend([
        0x04, 0, 0, 0, 0, 3, b'd', b'e', b'v', 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
    bytes.extend(body);
    bytes.push(0x00);
    bytes.push(0x06);
    bytes.extend((json.len() as u32).to_be_bytes());
    bytes.extend(json.as_bytes());
    bytes
}

#[test]
fn elements_of_no_bytes_are_bounded_by_the_budget() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // 2^24 fields of no bytes: once a 1.5 GiB allocation.
    let flat = described_stream(
        &[],
        r#"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "z", "array_len": 16777216, "type": "uint8", "size": 0}]}]}"#,
    );
    // Arrays of structs of arrays of no bytes: once past 9 GB.
    let nested = described_stream(
        &[],
        r#"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "s", "array_len": 16777216, "type": "struct", "struct": {"vmsd_name": "s", "version": 1, "fields": [{"name": "z", "array_len": 16777216, "type": "uint8", "size": 0}]}, "size": 0}]}]}"#,
    );
    for (what, bytes) in [("flat", flat), ("nested", nested)] {
        let (result, peak, _) = measured(|| QemuStream::parse(&bytes));
        let err = result.unwrap_err();
        assert!(
            matches!(err.kind, LoadErrorKind::TooManyElements { .. }),
            "{what}: {err}"
        );
        assert!(
            peak < 16 << 20,
            "{what}: {peak} bytes for {} bytes",
            bytes.len()
        );
    }
    // A budget of its own: what fits, reads.
    let small = described_stream(
        &[],
        r#"{"page_size": 4096, "devices": [{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, "fields": [{"name": "z", "array_len": 100, "type": "uint8", "size": 0}]}]}"#,
    );
    assert!(QemuStream::parse_with_budget(&small, 100).is_ok());
    let err = QemuStream::parse_with_budget(&small, 99).unwrap_err();
    assert_eq!(err.path, ["z"]);
    assert_eq!(
        err.to_string(),
        "error while loading state for instance 0x0 of device 'dev' (stream version 1): \
         field 'z': 100 more elements exceed what is left of this load's element budget (by \
         default one element per byte of the stream, plus 65536) (at offset 0x19)"
    );
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "wide", version = 1)]
struct Wide {
    n: u32,
    #[vmstate(len = n, max = 16777216)]
    values: Vec<u64>,
}

#[test]
fn a_variable_array_is_checked_against_the_bytes_before_it_is_allocated() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut bytes = b"QEVM\0\0\0\x03".to_vec();
    bytes.extend([
        0x04, 0, 0, 0, 0, 4, b'w', b'i', b'd', b'e', 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
    bytes.extend(16_777_216u32.to_be_bytes());
    bytes.extend([1, 2, 3]);
    let mut wide = Wide::default();
    let (result, peak, _) = measured(|| {
        stream::load(
            &bytes,
            &mut [Section {
                idstr: "wide".into(),
                instance_id: 0,
                state: &mut wide,
            }],
            &StreamOptions::default(),
        )
    });
    let err = result.unwrap_err();
    assert_eq!(
        err.kind,
        LoadErrorKind::Truncated {
            wanted: 8 << 24,
            available: 3
        }
    );
    assert_eq!(err.path, ["values"]);
    assert!(
        peak < 1 << 20,
        "{peak} bytes allocated for a 33-byte stream"
    );
    assert_eq!(wide, Wide::default());
}
