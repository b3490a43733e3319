//! What the benchmarks of this crate measure, shared by the bench targets,
//! their tests and the `ratios` command.
//!
//! Two kinds of device state are saved and loaded, each by compat and, as
//! baselines, by two serde formats (bincode with fixed-size integers, and
//! postcard):
//!
//! * the **scalar** workload: many small devices, each a handful of
//!   integers and flags of mixed sizes ([`ScalarDevice`]);
//! * the **buffer** workload: a few devices, each holding 64 KiB of bytes
//!   and 4,096 32-bit registers ([`BufferDevice`]).
//!
//! Each is measured two ways: the device state alone, every device written
//! one after another into one buffer; and the whole migration stream as a
//! machine writes it — header, machine name, one section per device with
//! its end marker, and the JSON description of every device at the end.
//!
//! [`resolution`] holds the third workload: building a machine of many
//! devices, each with an `id=`, under 1,000 `-global` options.

use compat_core::codec::{LoadError, SaveError, StreamReader, StreamWriter};
use compat_core::stream::{self, LoadReport, Section, StreamOptions};
use compat_core::VMState;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub mod resolution;

/// The machine type named in every stream the benchmarks write.
pub const MACHINE: &str = "bench-machine";

/// Device counts of the scalar workload: each four times the one before,
/// so that a linear cost shows as four times the time.
pub const SCALAR_SIZES: [usize; 3] = [1_000, 4_000, 16_000];

/// Device counts of the buffer workload: the headline count, 64, and four
/// times it to show the slope. Both states (5 MiB and 20 MiB) are larger
/// than a core's L2 cache, so the slope is not a cache-size step (16
/// devices, 1.3 MiB, would fit and make even a plain copy look
/// superlinear).
pub const BUFFER_SIZES: [usize; 2] = [64, 256];

/// Bytes of memory in one buffer device.
pub const BUFFER_BYTES: usize = 64 * 1024;

/// 32-bit registers in one buffer device.
pub const BUFFER_WORDS: usize = 4_096;

/// A small device: fifteen scalar fields of mixed sizes and signedness,
/// as a typical register block looks.
#[derive(Debug, Clone, PartialEq, Eq, VMState, Serialize, Deserialize)]
#[vmstate(name = "bench-scalar", version = 1)]
pub struct ScalarDevice {
    /// Control register.
    pub ctrl: u32,
    /// Status register.
    pub status: u32,
    /// Interrupt mask.
    pub irq_mask: u16,
    /// Interrupt level.
    pub irq_level: u8,
    /// Whether the device is enabled.
    pub enabled: bool,
    /// A free-running counter.
    pub counter: u64,
    /// A signed clock offset.
    pub clock_offset: i64,
    /// A signed adjustment.
    pub adjust: i32,
    /// Ring head index.
    pub head: u16,
    /// Ring tail index.
    pub tail: u16,
    /// Timer deadline.
    pub deadline: u64,
    /// Mode selector.
    pub mode: u8,
    /// Whether an interrupt is pending.
    pub pending: bool,
    /// Base address.
    pub base: u32,
    /// Signed limit.
    pub limit: i32,
}

/// A step of a 64-bit mixing function (splitmix64): different,
/// unpredictable-looking values for each device from its index.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl ScalarDevice {
    /// Device number `index`, with values that differ from device to
    /// device and use the whole width of most fields.
    pub fn new(index: usize) -> Self {
        let a = mix(index as u64);
        let b = mix(a);
        let c = mix(b);
        ScalarDevice {
            ctrl: a as u32,
            status: (a >> 32) as u32,
            irq_mask: b as u16,
            irq_level: (b >> 16) as u8,
            enabled: b & (1 << 24) != 0,
            counter: c,
            clock_offset: b as i64,
            adjust: (c >> 7) as i32,
            head: (c >> 13) as u16,
            tail: (c >> 29) as u16,
            deadline: a ^ c,
            mode: (a >> 5) as u8,
            pending: c & 1 != 0,
            base: (b >> 3) as u32,
            limit: -((a >> 40) as i32),
        }
    }
}

/// A device with a large state: 64 KiB of memory and 4,096 registers.
#[derive(Clone, PartialEq, Eq, VMState, Serialize, Deserialize)]
#[vmstate(name = "bench-buffer", version = 1)]
pub struct BufferDevice {
    /// The memory, written as it is.
    #[serde(with = "byte_array")]
    pub memory: [u8; BUFFER_BYTES],
    /// The registers.
    #[serde(with = "word_array")]
    pub registers: [u32; BUFFER_WORDS],
}

impl std::fmt::Debug for BufferDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferDevice")
            .field("memory", &format_args!("[{} bytes]", self.memory.len()))
            .field(
                "registers",
                &format_args!("[{} words]", self.registers.len()),
            )
            .finish()
    }
}

impl BufferDevice {
    /// Device number `index`, its memory and registers filled with values
    /// that differ from device to device.
    pub fn new(index: usize) -> Self {
        let mut device = BufferDevice {
            memory: [0; BUFFER_BYTES],
            registers: [0; BUFFER_WORDS],
        };
        let mut x = index as u64;
        for chunk in device.memory.chunks_exact_mut(8) {
            x = mix(x);
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        for r in &mut device.registers {
            x = mix(x);
            *r = x as u32;
        }
        device
    }
}

/// A fixed byte array as serde's byte string: one length, then the bytes
/// as they are (what `serde_bytes` does), so the serde formats copy the
/// buffer in one go as compat does.
mod byte_array {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        struct Bytes<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for Bytes<N> {
            type Value = [u8; N];
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{N} bytes")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<[u8; N], E> {
                v.try_into().map_err(|_| E::invalid_length(v.len(), &self))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
                let mut out = [0u8; N];
                for (i, b) in out.iter_mut().enumerate() {
                    *b = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::invalid_length(i, &self))?;
                }
                Ok(out)
            }
        }
        d.deserialize_bytes(Bytes::<N>)
    }
}

/// A fixed array of `u32` as a serde tuple: its elements, no length (serde
/// itself stops at 32 elements).
mod word_array {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::ser::SerializeTuple;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(v: &[u32; N], s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(N)?;
        for x in v {
            t.serialize_element(x)?;
        }
        t.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u32; N], D::Error> {
        struct Words<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for Words<N> {
            type Value = [u32; N];
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{N} 32-bit words")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u32; N], A::Error> {
                let mut out = [0u32; N];
                for (i, w) in out.iter_mut().enumerate() {
                    *w = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::invalid_length(i, &self))?;
                }
                Ok(out)
            }
        }
        d.deserialize_tuple(N, Words::<N>)
    }
}

/// `n` scalar devices, numbered from 0.
pub fn scalar_devices(n: usize) -> Vec<ScalarDevice> {
    (0..n).map(ScalarDevice::new).collect()
}

/// `n` buffer devices, numbered from 0.
pub fn buffer_devices(n: usize) -> Vec<BufferDevice> {
    (0..n).map(BufferDevice::new).collect()
}

/// One stream section per device, each with its own name
/// (`bench-scalar.0`, `bench-scalar.1`, …) and its number as instance id.
pub fn sections<T: VMState>(devices: &mut [T]) -> Vec<Section<'_>> {
    devices
        .iter_mut()
        .enumerate()
        .map(|(i, d)| Section {
            idstr: format!("{}.{i}", T::DESCRIPTION.name).into(),
            instance_id: i as u32,
            state: d,
        })
        .collect()
}

/// The options of every whole stream here: a machine name, an end marker
/// after each section, the JSON description of the devices at the end.
pub fn stream_options() -> StreamOptions {
    StreamOptions::for_machine(MACHINE)
}

/// The state of every device, one after another, as compat writes it
/// (no stream framing), into a buffer sized first from the layout — as
/// bincode's `encode_to_vec` sizes its own.
pub fn save_states<T: VMState>(devices: &mut [T]) -> Result<Vec<u8>, SaveError> {
    let mut w = StreamWriter::new();
    let each = devices.first().map_or(0, |d| d.layout().written_size());
    w.reserve(each * devices.len());
    for d in devices {
        d.save_state(&mut w)?;
    }
    Ok(w.into_bytes())
}

/// Load what [`save_states`] wrote back into `devices`, in place. Every
/// byte must be used.
pub fn load_states<T: VMState>(devices: &mut [T], bytes: &[u8]) -> Result<(), LoadError> {
    let mut r = StreamReader::new(bytes);
    for d in devices {
        d.load_state(&mut r, T::DESCRIPTION.version_id)?;
    }
    match r.remaining() {
        0 => Ok(()),
        len => Err(r.error(compat_core::codec::LoadErrorKind::TrailingGarbage { len })),
    }
}

/// The whole migration stream of `sections` ([`stream_options`]).
pub fn save_stream(sections: &mut [Section<'_>]) -> Result<Vec<u8>, SaveError> {
    stream::save(sections, &stream_options())
}

/// Save the whole stream into `out`, reusing its memory.
pub fn save_stream_into(sections: &mut [Section<'_>], out: &mut Vec<u8>) -> Result<(), SaveError> {
    stream::save_into(sections, &stream_options(), out)
}

/// Load a whole stream into `sections`; nothing changes unless all of it
/// loads.
pub fn load_stream(bytes: &[u8], sections: &mut [Section<'_>]) -> Result<LoadReport, LoadError> {
    stream::load(bytes, sections, &stream_options())
}

/// bincode 2's standard configuration with fixed-size integers: every
/// integer as many bytes as its type, the layout closest to compat's.
pub fn bincode_config() -> impl bincode::config::Config {
    bincode::config::standard().with_fixed_int_encoding()
}

/// `value` in bincode, into a new vector.
pub fn bincode_encode<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode_config()).expect("bincode encodes")
}

/// `value` in bincode, into `buf` (reused from one call to the next);
/// the number of bytes written.
pub fn bincode_encode_into<T: Serialize>(value: &T, buf: &mut [u8]) -> usize {
    bincode::serde::encode_into_slice(value, buf, bincode_config()).expect("bincode encodes")
}

/// A value back from bincode.
pub fn bincode_decode<T: DeserializeOwned>(bytes: &[u8]) -> T {
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, bincode_config()).expect("bincode decodes");
    debug_assert_eq!(used, bytes.len());
    value
}

/// `value` in postcard, into a new vector.
pub fn postcard_encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("postcard encodes")
}

/// A value back from postcard.
pub fn postcard_decode<T: DeserializeOwned>(bytes: &[u8]) -> T {
    postcard::from_bytes(bytes).expect("postcard decodes")
}

/// Copy `src` into `dst` starting 64 bytes in: the bound a save or a load
/// of the same bytes is compared with. The offset keeps source and
/// destination from being a multiple of 4 KiB apart, which makes the copy
/// itself many times slower on some processors (4K aliasing).
pub fn copy_offset(src: &[u8], dst: &mut Vec<u8>) {
    dst.resize(src.len() + 64, 0);
    dst[64..].copy_from_slice(src);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_state_round_trips_through_every_format() {
        let mut devices = scalar_devices(100);
        let original = devices.clone();
        let bytes = save_states(&mut devices).unwrap();
        let mut fresh = scalar_devices(100);
        fresh.iter_mut().for_each(|d| *d = ScalarDevice::new(7));
        load_states(&mut fresh, &bytes).unwrap();
        assert_eq!(fresh, original);
        assert_eq!(
            bincode_decode::<Vec<ScalarDevice>>(&bincode_encode(&original)),
            original
        );
        assert_eq!(
            postcard_decode::<Vec<ScalarDevice>>(&postcard_encode(&original)),
            original
        );
        // The same fixed-size fields: compat and bincode write the same
        // number of bytes, bar bincode's length of the vector.
        assert_eq!(bincode_encode(&original).len(), bytes.len() + 8);
        assert!(original.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn whole_streams_round_trip() {
        let mut devices = scalar_devices(50);
        let original = devices.clone();
        let bytes = save_stream(&mut sections(&mut devices)).unwrap();
        let mut dst: Vec<ScalarDevice> = (0..50).map(|_| ScalarDevice::new(999)).collect();
        let report = load_stream(&bytes, &mut sections(&mut dst)).unwrap();
        assert!(report.vmdesc);
        assert_eq!(report.sections, 50);
        assert_eq!(dst, original);
    }

    #[test]
    fn buffer_state_round_trips_through_every_format() {
        let mut devices = buffer_devices(2);
        let original = devices.clone();
        let bytes = save_states(&mut devices).unwrap();
        assert_eq!(bytes.len(), 2 * (BUFFER_BYTES + 4 * BUFFER_WORDS));
        let mut dst = buffer_devices(2);
        dst.reverse();
        load_states(&mut dst, &bytes).unwrap();
        assert!(dst == original);
        assert!(bincode_decode::<Vec<BufferDevice>>(&bincode_encode(&original)) == original);
        assert!(postcard_decode::<Vec<BufferDevice>>(&postcard_encode(&original)) == original);
        let mut buf = vec![0u8; 1 << 20];
        let n = bincode_encode_into(&original, &mut buf);
        assert_eq!(&buf[..n], &bincode_encode(&original)[..]);

        let stream = save_stream(&mut sections(&mut devices)).unwrap();
        let mut dst = buffer_devices(2);
        dst.reverse();
        load_stream(&stream, &mut sections(&mut dst)).unwrap();
        assert!(dst == original);
    }

    #[test]
    fn copy_offset_copies() {
        let mut dst = Vec::new();
        copy_offset(&[1, 2, 3], &mut dst);
        assert_eq!(&dst[64..], &[1, 2, 3]);
    }
}
