//! Text helpers every layer uses, usable in `const` evaluation so that
//! compile-time checks and run-time errors say the same thing: the number
//! syntax of QEMU's options ([`number`]), "did you mean …?"
//! ([`suggest`]) and outside text made safe to print ([`escape`]); inside the crate also a fixed-capacity message buffer and
//! string equality. They live in the `compat-text` crate, which the derives
//! share.

pub use compat_text::{escape, number, suggest};

pub(crate) use compat_text::msg::ConstMsg;
pub(crate) use compat_text::{bytes_eq, str_eq};
