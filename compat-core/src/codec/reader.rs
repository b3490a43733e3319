//! The byte reader of QEMU's stream: bounded, offset-tracking reads whose
//! errors say where the stream ran out.

use super::error::{LoadError, LoadErrorKind};

/// A cursor over stream bytes. Every read is checked against what is
/// left; nothing read from the stream decides an allocation by itself.
///
/// The reader also carries a budget of elements — array, list and map
/// entries — that loads and decoders draw on ([`StreamReader::charge`]):
/// an element of no bytes on the wire still costs memory, so the bytes
/// left alone cannot bound them.
#[derive(Debug, Clone)]
pub struct StreamReader<'a> {
    data: &'a [u8],
    pos: usize,
    budget: usize,
}

/// The element budget of a reader over `len` bytes, unless told otherwise:
/// one element a byte, plus 65,536 for elements of no bytes.
pub fn default_budget(len: usize) -> usize {
    len.saturating_add(1 << 16)
}

macro_rules! get_be {
    ($($name:ident: $ty:ty),*) => {$(
        #[doc = concat!("Read a big-endian `", stringify!($ty), "`.")]
        #[inline]
        pub fn $name(&mut self) -> Result<$ty, LoadError> {
            let bytes = self.get_bytes(std::mem::size_of::<$ty>())?;
            Ok(<$ty>::from_be_bytes(bytes.try_into().expect("exact length")))
        }
    )*};
}

impl<'a> StreamReader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self::with_budget(data, default_budget(data.len()))
    }

    /// A reader at the start of `data` that decodes at most `budget`
    /// elements.
    pub fn with_budget(data: &'a [u8], budget: usize) -> Self {
        StreamReader {
            data,
            pos: 0,
            budget,
        }
    }

    /// Draw `n` elements from the budget, before they are allocated; an
    /// error when the budget has fewer left.
    #[inline]
    pub fn charge(&mut self, n: usize) -> Result<(), LoadError> {
        match self.budget.checked_sub(n) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => Err(self.error(LoadErrorKind::TooManyElements { wanted: n })),
        }
    }

    /// The current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: LoadErrorKind) -> LoadError {
        LoadError::new(kind, self.pos)
    }

    /// The next `n` bytes, without copying.
    #[inline]
    pub fn get_bytes(&mut self, n: usize) -> Result<&'a [u8], LoadError> {
        if n > self.remaining() {
            return Err(self.error(LoadErrorKind::Truncated {
                wanted: n,
                available: self.remaining(),
            }));
        }
        let bytes = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    /// The next `N` bytes as an array, or `None` (consuming nothing) when
    /// fewer are left: one bounds check for a run of fixed-size fields,
    /// whose caller reads them field by field on `None` to say which one
    /// the stream ends in.
    #[inline]
    pub fn take_array<const N: usize>(&mut self) -> Option<&'a [u8; N]> {
        let bytes: &'a [u8; N] = self.data.get(self.pos..)?.first_chunk()?;
        self.pos += N;
        Some(bytes)
    }

    /// Fill `out` from the stream, with one copy.
    #[inline]
    pub fn get_into(&mut self, out: &mut [u8]) -> Result<(), LoadError> {
        out.copy_from_slice(self.get_bytes(out.len())?);
        Ok(())
    }

    /// Skip `n` bytes (QEMU's `VMSTATE_UNUSED` on load).
    pub fn skip(&mut self, n: usize) -> Result<(), LoadError> {
        self.get_bytes(n).map(|_| ())
    }

    /// The next byte, without consuming it.
    pub fn peek_u8(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Read a byte.
    #[inline]
    pub fn get_u8(&mut self) -> Result<u8, LoadError> {
        Ok(self.get_bytes(1)?[0])
    }

    /// Read a signed byte.
    #[inline]
    pub fn get_i8(&mut self) -> Result<i8, LoadError> {
        Ok(self.get_u8()? as i8)
    }

    /// Read a bool: any non-zero byte is true, as QEMU's `get_bool`.
    #[inline]
    pub fn get_bool(&mut self) -> Result<bool, LoadError> {
        Ok(self.get_u8()? != 0)
    }

    get_be!(get_u16: u16, get_u32: u32, get_u64: u64, get_i16: i16, get_i32: i32, get_i64: i64);

    /// Read a string with a one-byte length (idstrs, subsection names).
    pub fn get_name(&mut self) -> Result<&'a str, LoadError> {
        let at = self.pos + 1;
        let bytes = self.get_name_bytes()?;
        std::str::from_utf8(bytes).map_err(|_| LoadError::new(LoadErrorKind::InvalidName, at))
    }

    /// The bytes of a string with a one-byte length, not checked as text.
    #[inline]
    pub fn get_name_bytes(&mut self) -> Result<&'a [u8], LoadError> {
        let len = self.get_u8()? as usize;
        self.get_bytes(len)
    }

    /// The name of the subsection starting here, if one does: marker byte,
    /// then a name, without consuming anything.
    pub fn peek_subsection_name(&self) -> Option<&'a str> {
        if self.peek_u8()? != super::QEMU_VM_SUBSECTION {
            return None;
        }
        let len = *self.data.get(self.pos + 1)? as usize;
        let bytes = self.data.get(self.pos + 2..self.pos + 2 + len)?;
        std::str::from_utf8(bytes).ok()
    }
}

/// Integer arrays convert endianness in bulk.
macro_rules! get_array {
    ($($name:ident: $ty:ty),*) => {$(
        impl StreamReader<'_> {
            #[doc = concat!("Fill a slice of `", stringify!($ty), "` from big-endian bytes.")]
            pub fn $name(&mut self, out: &mut [$ty]) -> Result<(), LoadError> {
                const SIZE: usize = std::mem::size_of::<$ty>();
                let bytes = self.get_bytes(out.len() * SIZE)?;
                for (x, chunk) in out.iter_mut().zip(bytes.chunks_exact(SIZE)) {
                    *x = <$ty>::from_be_bytes(chunk.try_into().expect("exact length"));
                }
                Ok(())
            }
        }
    )*};
}
get_array!(
    get_u16_slice: u16, get_u32_slice: u32, get_u64_slice: u64,
    get_i8_slice: i8, get_i16_slice: i16, get_i32_slice: i32, get_i64_slice: i64
);

impl StreamReader<'_> {
    /// Fill a slice of bools, one byte each.
    pub fn get_bool_slice(&mut self, out: &mut [bool]) -> Result<(), LoadError> {
        let bytes = self.get_bytes(out.len())?;
        for (x, b) in out.iter_mut().zip(bytes) {
            *x = *b != 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::StreamWriter;
    use super::*;

    #[test]
    fn scalars_round_trip_big_endian() {
        let mut w = StreamWriter::new();
        w.put_u8(0xab);
        w.put_u16(0x1234);
        w.put_u32(0xdead_beef);
        w.put_u64(0x0102_0304_0506_0708);
        w.put_i32(-2);
        w.put_bool(true);
        w.put_name("pci");
        w.put_u32_slice(&[1, 2]);
        let bytes = w.into_bytes();
        assert_eq!(&bytes[..3], &[0xab, 0x12, 0x34]);
        let mut r = StreamReader::new(&bytes);
        assert_eq!(r.get_u8().unwrap(), 0xab);
        assert_eq!(r.get_u16().unwrap(), 0x1234);
        assert_eq!(r.get_u32().unwrap(), 0xdead_beef);
        assert_eq!(r.get_u64().unwrap(), 0x0102_0304_0506_0708);
        assert_eq!(r.get_i32().unwrap(), -2);
        assert!(r.get_bool().unwrap());
        assert_eq!(r.get_name().unwrap(), "pci");
        let mut out = [0u32; 2];
        r.get_u32_slice(&mut out).unwrap();
        assert_eq!(out, [1, 2]);
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn reads_past_the_end_are_errors_with_offsets() {
        let mut r = StreamReader::new(&[1, 2, 3]);
        r.get_u8().unwrap();
        let e = r.get_u32().unwrap_err();
        assert_eq!(
            e.kind,
            LoadErrorKind::Truncated {
                wanted: 4,
                available: 2
            }
        );
        assert_eq!(e.offset, 1);
        assert_eq!(r.offset(), 1, "a failed read consumes nothing");
        // A huge length from a stream asks for bytes, never allocates.
        assert!(r.get_bytes(usize::MAX).is_err());
        let mut r = StreamReader::new(&[5, b'a']);
        assert!(r.get_name().is_err());
    }
}
