//! Text helpers every layer uses, all usable in `const` evaluation so that
//! compile-time checks and run-time errors say the same thing: a
//! fixed-capacity message buffer, string equality, and "did you mean …?".

pub(crate) mod msg;
pub mod suggest;

pub(crate) use msg::ConstMsg;

/// Byte-wise equality, usable in `const`.
pub(crate) const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// String equality, usable in `const`.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    bytes_eq(a.as_bytes(), b.as_bytes())
}
