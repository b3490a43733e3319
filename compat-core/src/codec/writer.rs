//! The byte writer of QEMU's stream: big-endian scalars, buffers, and the
//! framing QEMU puts around sections.

/// Bytes being written, big-endian, as QEMU's `qemu_put_be*`.
#[derive(Debug, Default, Clone)]
pub struct StreamWriter {
    buf: Vec<u8>,
    every_subsection: bool,
}

macro_rules! put_be {
    ($($name:ident: $ty:ty),*) => {$(
        #[doc = concat!("Write a big-endian `", stringify!($ty), "`.")]
        #[inline]
        pub fn $name(&mut self, v: $ty) {
            self.buf.extend_from_slice(&v.to_be_bytes());
        }
    )*};
}

impl StreamWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer that sends every subsection a property gate allows, as if
    /// every `needed` test held: the stream of the busiest guest, to test
    /// that a destination takes whatever run-time state can send.
    pub fn sending_every_subsection() -> Self {
        StreamWriter {
            every_subsection: true,
            ..Self::default()
        }
    }

    /// A writer appending to `buf`, sending every subsection when
    /// `every_subsection` (see [`StreamWriter::sending_every_subsection`]).
    pub fn with_buffer(buf: Vec<u8>, every_subsection: bool) -> Self {
        StreamWriter {
            buf,
            every_subsection,
        }
    }

    /// Make room for at least `additional` more bytes.
    pub fn reserve(&mut self, additional: usize) {
        self.buf.reserve(additional);
    }

    /// Whether this writer sends every subsection its gate allows.
    pub fn every_subsection(&self) -> bool {
        self.every_subsection
    }

    /// The number of bytes written so far.
    pub fn offset(&self) -> usize {
        self.buf.len()
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    put_be!(put_u16: u16, put_u32: u32, put_u64: u64, put_i16: i16, put_i32: i32, put_i64: i64);

    /// Write a byte.
    #[inline]
    pub fn put_u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Write a signed byte.
    #[inline]
    pub fn put_i8(&mut self, v: i8) {
        self.buf.push(v as u8);
    }

    /// Write a bool as one byte, 0 or 1.
    #[inline]
    pub fn put_bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    /// Write bytes as they are, with one copy.
    #[inline]
    pub fn put_bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// Write `n` zero bytes (QEMU's `VMSTATE_UNUSED`).
    #[inline]
    pub fn put_zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }

    /// Write a string with a one-byte length, as QEMU writes idstrs and
    /// subsection names. Longer names are cut at 255 bytes, which QEMU's
    /// own names never reach.
    pub fn put_name(&mut self, name: &str) {
        let bytes = &name.as_bytes()[..name.len().min(255)];
        self.buf.push(bytes.len() as u8);
        self.buf.extend_from_slice(bytes);
    }

    /// Write a be32 length, then what `write` appends to the buffer: the
    /// length is of those bytes, filled in after, so the body is written in
    /// place, not built apart and copied.
    pub fn put_sized(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        write(&mut self.buf);
        let len = (self.buf.len() - at - 4) as u32;
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    /// Write the header of a subsection: marker, name, version.
    pub fn put_subsection_header(&mut self, name: &str, version_id: u32) {
        self.put_u8(super::QEMU_VM_SUBSECTION);
        self.put_name(name);
        self.put_u32(version_id);
    }
}

/// Integer arrays convert endianness in bulk.
macro_rules! put_array {
    ($($name:ident: $ty:ty),*) => {$(
        impl StreamWriter {
            #[doc = concat!("Write a slice of `", stringify!($ty), "`, big-endian.")]
            pub fn $name(&mut self, v: &[$ty]) {
                const SIZE: usize = std::mem::size_of::<$ty>();
                let start = self.buf.len();
                self.buf.resize(start + v.len() * SIZE, 0);
                for (chunk, x) in self.buf[start..].chunks_exact_mut(SIZE).zip(v) {
                    chunk.copy_from_slice(&x.to_be_bytes());
                }
            }
        }
    )*};
}
put_array!(
    put_u16_slice: u16, put_u32_slice: u32, put_u64_slice: u64,
    put_i8_slice: i8, put_i16_slice: i16, put_i32_slice: i32, put_i64_slice: i64
);

impl StreamWriter {
    /// Write a slice of bools, one byte each.
    pub fn put_bool_slice(&mut self, v: &[bool]) {
        self.buf.extend(v.iter().map(|b| u8::from(*b)));
    }
}
