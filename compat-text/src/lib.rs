//! # compat-text
//!
//! The text of **compat**'s values, shared by its runtime (`compat-core`)
//! and its derives (`compat-derive`) so that both read and word things the
//! same way, and all usable in `const` evaluation so that a value the
//! compiler checks is checked by the same code as one a user types:
//!
//! * [`number`]: booleans, integers and sizes as QEMU's option parsers read
//!   them, and the integer kinds of properties with their ranges;
//! * [`suggest`]: "did you mean …?" for misspelt names;
//! * [`msg`]: a fixed-capacity message buffer for compile-time errors;
//! * [`limits`]: bounds the derives check and loads obey;
//! * [`escape`]: outside text made safe to print.
//!
//! Device authors do not depend on this crate: `compat-core` re-exports
//! what they need.

#![warn(missing_docs)]

pub mod escape;
pub mod limits;
pub mod msg;
pub mod number;
pub mod suggest;

/// Byte-wise equality, usable in `const`.
pub const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
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
pub const fn str_eq(a: &str, b: &str) -> bool {
    bytes_eq(a.as_bytes(), b.as_bytes())
}
