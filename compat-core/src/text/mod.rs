//! Text helpers every layer uses, all usable in `const` evaluation so that
//! compile-time checks and run-time errors say the same thing: a
//! fixed-capacity message buffer, string equality, "did you mean …?", and
//! the number syntax of QEMU's options. They live in the `compat-text`
//! crate, which the derives share.

pub use compat_text::{number, suggest};

pub(crate) use compat_text::msg::ConstMsg;
pub(crate) use compat_text::{bytes_eq, str_eq};
