//! Text built in `const` evaluation: the messages of compile-time checks
//! (a compat-set entry naming a missing property, a value its kind rejects)
//! are composed here, and the runtime uses the same writers so both say the
//! same thing.

/// A fixed-capacity UTF-8 text buffer usable in `const fn`s. Text beyond the
/// capacity is dropped, ending in `...`.
pub struct ConstMsg<const N: usize> {
    buf: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> Default for ConstMsg<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ConstMsg<N> {
    /// An empty message.
    pub const fn new() -> Self {
        ConstMsg {
            buf: [0; N],
            len: 0,
            truncated: false,
        }
    }

    /// Append `s` (or as much of it as fits).
    pub const fn push(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Reserve room for the "..." that marks truncation.
            if self.truncated || self.len + 3 >= N {
                self.truncated = true;
                return;
            }
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
    }

    /// Append `v` in decimal.
    pub const fn push_i128(&mut self, v: i128) {
        if v < 0 {
            self.push("-");
        }
        let mut magnitude = v.unsigned_abs();
        let mut digits = [0u8; 40];
        let mut n = 0;
        loop {
            digits[n] = b'0' + (magnitude % 10) as u8;
            n += 1;
            magnitude /= 10;
            if magnitude == 0 {
                break;
            }
        }
        while n > 0 {
            n -= 1;
            let d = [digits[n]];
            match core::str::from_utf8(&d) {
                Ok(s) => self.push(s),
                Err(_) => return,
            }
        }
    }

    /// The text so far (with `...` if something was dropped).
    pub const fn as_str(&mut self) -> &str {
        if self.truncated {
            // Back off to a character boundary before marking the cut.
            while self.len > 0 && core::str::from_utf8(self.buf.split_at(self.len).0).is_err() {
                self.len -= 1;
            }
            let mut i = 0;
            while i < 3 {
                self.buf[self.len] = b'.';
                self.len += 1;
                i += 1;
            }
            self.truncated = false;
        }
        match core::str::from_utf8(self.buf.split_at(self.len).0) {
            Ok(s) => s,
            Err(_) => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_text_and_numbers() {
        let mut m = ConstMsg::<64>::new();
        m.push("uint16 (");
        m.push_i128(0);
        m.push("..=");
        m.push_i128(65535);
        m.push(") ");
        m.push_i128(i64::MIN.into());
        assert_eq!(m.as_str(), "uint16 (0..=65535) -9223372036854775808");
    }

    #[test]
    fn truncates_on_a_character_boundary() {
        let mut m = ConstMsg::<8>::new();
        m.push("abcdéfgh");
        assert_eq!(m.as_str(), "abcd...");
        const TEXT: &str = {
            const fn make() -> ConstMsg<16> {
                let mut m = ConstMsg::<16>::new();
                m.push("in const");
                m
            }
            // Evaluated at compile time, as the compat-set checks are.
            const M: ConstMsg<16> = make();
            match core::str::from_utf8(M.buf.split_at(M.len).0) {
                Ok(s) => s,
                Err(_) => "",
            }
        };
        assert_eq!(TEXT, "in const");
    }
}
