//! Numbers, booleans and sizes as QEMU's option parsers read them, and the
//! integer kinds of properties with their ranges: all `const`, so that a
//! value checked by the compiler is checked by the same code as a value
//! typed by a user.

use crate::bytes_eq;
use crate::msg::ConstMsg;

/// What a boolean accepts, in words.
pub const BOOL_EXPECTS: &str = "'on' or 'off' (also 'yes'/'no', 'true'/'false', 'y'/'n')";

/// What a size accepts, in words.
pub const SIZE_EXPECTS: &str =
    "size (a byte count, decimal or 0x hex, optionally with suffix B, K, M, G, T, P or E)";

/// An integer kind of property, with its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntKind {
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint32`.
    U32,
    /// `uint64`.
    U64,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
}

impl IntKind {
    /// The QOM type name (`uint16`).
    pub const fn type_name(self) -> &'static str {
        match self {
            IntKind::U8 => "uint8",
            IntKind::U16 => "uint16",
            IntKind::U32 => "uint32",
            IntKind::U64 => "uint64",
            IntKind::I32 => "int32",
            IntKind::I64 => "int64",
        }
    }

    /// The inclusive range, as `(min, max)`.
    pub const fn range(self) -> (i128, i128) {
        match self {
            IntKind::U8 => (0, u8::MAX as i128),
            IntKind::U16 => (0, u16::MAX as i128),
            IntKind::U32 => (0, u32::MAX as i128),
            IntKind::U64 => (0, u64::MAX as i128),
            IntKind::I32 => (i32::MIN as i128, i32::MAX as i128),
            IntKind::I64 => (i64::MIN as i128, i64::MAX as i128),
        }
    }

    /// Whether the kind is unsigned (a `-` is never accepted).
    pub const fn is_unsigned(self) -> bool {
        matches!(
            self,
            IntKind::U8 | IntKind::U16 | IntKind::U32 | IntKind::U64
        )
    }

    /// The width in bits.
    pub const fn bits(self) -> u32 {
        match self {
            IntKind::U8 => 8,
            IntKind::U16 => 16,
            IntKind::U32 | IntKind::I32 => 32,
            IntKind::U64 | IntKind::I64 => 64,
        }
    }

    /// `text` in C base-0 syntax (as QEMU's `parse_uint`/`qemu_strtoi64`),
    /// within the range; `None` otherwise.
    pub const fn parse(self, text: &[u8]) -> Option<i128> {
        let (min, max) = self.range();
        let value = if self.is_unsigned() {
            match parse_unsigned(text) {
                Some(v) => v as i128,
                None => return None,
            }
        } else {
            match parse_signed(text) {
                Some(v) => v as i128,
                None => return None,
            }
        };
        if value >= min && value <= max {
            Some(value)
        } else {
            None
        }
    }

    /// What the kind accepts, in words: `uint16 (0..=65535)`.
    pub const fn write_expects<const N: usize>(self, msg: &mut ConstMsg<N>) {
        let (min, max) = self.range();
        msg.push(self.type_name());
        msg.push(" (");
        msg.push_i128(min);
        msg.push("..=");
        msg.push_i128(max);
        msg.push(")");
    }

    /// [`write_expects`](Self::write_expects) as a string.
    pub fn expects(self) -> String {
        let mut msg = ConstMsg::<64>::new();
        self.write_expects(&mut msg);
        msg.as_str().to_owned()
    }
}

/// `on`/`yes`/`true`/`y` or `off`/`no`/`false`/`n`, exactly (QEMU's
/// `qapi_bool_parse`).
pub const fn parse_bool(text: &[u8]) -> Option<bool> {
    let yes: [&[u8]; 4] = [b"on", b"yes", b"true", b"y"];
    let no: [&[u8]; 4] = [b"off", b"no", b"false", b"n"];
    let mut i = 0;
    while i < 4 {
        if bytes_eq(text, yes[i]) {
            return Some(true);
        }
        if bytes_eq(text, no[i]) {
            return Some(false);
        }
        i += 1;
    }
    None
}

/// The value of a non-empty run of digits in `radix`; `None` on any other
/// character or on overflow.
const fn digits_value(digits: &[u8], radix: u64) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    let mut i = 0;
    while i < digits.len() {
        let c = digits[i];
        let d = match c {
            b'0'..=b'9' => (c - b'0') as u64,
            b'a'..=b'f' => (c - b'a') as u64 + 10,
            b'A'..=b'F' => (c - b'A') as u64 + 10,
            _ => return None,
        };
        if d >= radix {
            return None;
        }
        value = match value.checked_mul(radix) {
            Some(v) => match v.checked_add(d) {
                Some(v) => v,
                None => return None,
            },
            None => return None,
        };
        i += 1;
    }
    Some(value)
}

const fn strip_hex_prefix(text: &[u8]) -> Option<&[u8]> {
    if text.len() >= 2 && text[0] == b'0' && (text[1] == b'x' || text[1] == b'X') {
        Some(text.split_at(2).1)
    } else {
        None
    }
}

/// `text` without the white space C's `strtoull` skips before a number.
const fn skip_space(text: &[u8]) -> &[u8] {
    let mut i = 0;
    while i < text.len() && matches!(text[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    text.split_at(i).1
}

/// `text` split into its sign (`true` for `-`) and the rest.
const fn split_sign(text: &[u8]) -> (bool, &[u8]) {
    match text.first() {
        Some(b'-') => (true, text.split_at(1).1),
        Some(b'+') => (false, text.split_at(1).1),
        _ => (false, text),
    }
}

/// The digits of a number in C base-0 syntax, without sign: `0x` hex,
/// leading-`0` octal, decimal.
const fn magnitude(text: &[u8]) -> Option<u64> {
    if let Some(hex) = strip_hex_prefix(text) {
        digits_value(hex, 16)
    } else if text.len() > 1 && text[0] == b'0' {
        digits_value(text.split_at(1).1, 8)
    } else {
        digits_value(text, 10)
    }
}

/// An unsigned integer as QEMU's `qemu_strtou64` (C's `strtoull`) reads
/// it: leading white space, an optional sign, then C base-0 syntax (`0x`
/// hex, leading-`0` octal, decimal); a `-` negates modulo 2^64, so `-0`
/// is 0 and `-1` is `u64::MAX`. `None` on anything else or on overflow.
pub const fn parse_unsigned(text: &[u8]) -> Option<u64> {
    let (negative, digits) = split_sign(skip_space(text));
    match magnitude(digits) {
        Some(v) if negative => Some(v.wrapping_neg()),
        other => other,
    }
}

/// A signed integer as QEMU's `qemu_strtoi64` (C's `strtoll`) reads it:
/// leading white space, an optional sign, C base-0 syntax.
pub const fn parse_signed(text: &[u8]) -> Option<i64> {
    let (negative, digits) = split_sign(skip_space(text));
    match magnitude(digits) {
        Some(m) if negative && m <= i64::MAX as u64 + 1 => Some((-(m as i128)) as i64),
        Some(v) if !negative && v <= i64::MAX as u64 => Some(v as i64),
        _ => None,
    }
}

const SIZE_SUFFIXES: [(char, u32); 6] = [
    ('K', 10),
    ('M', 20),
    ('G', 30),
    ('T', 40),
    ('P', 50),
    ('E', 60),
];

/// The power of two a size suffix stands for.
const fn size_shift(suffix: u8) -> Option<u32> {
    let upper = suffix.to_ascii_uppercase();
    if upper == b'B' {
        return Some(0);
    }
    let mut i = 0;
    while i < SIZE_SUFFIXES.len() {
        if SIZE_SUFFIXES[i].0 as u8 == upper {
            return Some(SIZE_SUFFIXES[i].1);
        }
        i += 1;
    }
    None
}

/// A size as `qemu_strtosz` reads it: a decimal number with an optional
/// fraction and suffix `B`/`K`/`M`/`G`/`T`/`P`/`E` (either case, powers of
/// 1024; a fraction needs a suffix of `K` or more), or `0x` hex without a
/// suffix. `None` on anything else or overflow.
pub const fn parse_size(text: &[u8]) -> Option<u64> {
    // Leading white space and a `+` as `strtoull` reads them; no `-`.
    let text = match skip_space(text) {
        [b'+', rest @ ..] => rest,
        [b'-', ..] => return None,
        rest => rest,
    };
    if let Some(hex) = strip_hex_prefix(text) {
        return digits_value(hex, 16);
    }
    let Some(&last) = text.last() else {
        return None;
    };
    let (number, shift) = if last.is_ascii_alphabetic() {
        match size_shift(last) {
            Some(shift) => (text.split_at(text.len() - 1).0, shift),
            None => return None,
        }
    } else {
        (text, 0)
    };
    // Split at the first '.', if any.
    let mut dot = 0;
    while dot < number.len() && number[dot] != b'.' {
        dot += 1;
    }
    let (whole, fraction) = number.split_at(dot);
    // QEMU reads `1.k` and `.5K` (strtod's syntax): one side of the point
    // may be empty, not both.
    let whole = if whole.is_empty() && fraction.len() > 1 {
        0
    } else {
        match digits_value(whole, 10) {
            Some(v) => v,
            None => return None,
        }
    };
    let mut bytes = (whole as u128) << shift;
    if !fraction.is_empty() {
        let fraction = fraction.split_at(1).1;
        if shift == 0 {
            return None;
        }
        let mut i = 0;
        while i < fraction.len() {
            if !fraction[i].is_ascii_digit() {
                return None;
            }
            i += 1;
        }
        // Truncate the fraction of the unit to whole bytes, as QEMU does;
        // digits past the 18th cannot change the result.
        let digits = if fraction.len() > 18 {
            fraction.split_at(18).0
        } else {
            fraction
        };
        // `1.k`: no digits after the point.
        if !digits.is_empty() {
            let Some(numerator) = digits_value(digits, 10) else {
                return None;
            };
            bytes += (numerator as u128) * (1u128 << shift) / 10u128.pow(digits.len() as u32);
        }
    }
    if bytes > u64::MAX as u128 {
        None
    } else {
        Some(bytes as u64)
    }
}

/// The canonical text of a size: the largest suffix that divides it exactly.
pub fn format_size(bytes: u64) -> String {
    if bytes != 0 {
        for (suffix, shift) in SIZE_SUFFIXES.iter().rev() {
            let unit = 1u64 << shift;
            if bytes % unit == 0 {
                return format!("{}{suffix}", bytes / unit);
            }
        }
    }
    bytes.to_string()
}
