//! The byte codec under VMState and the stream: a bounded, offset-tracking
//! big-endian reader, a writer, the errors a load or save reports, JSON in
//! the layout QEMU writes it, and bounded reading of files from outside.

mod error;
pub mod input;
mod json;
mod reader;
mod writer;

pub use error::{LoadError, LoadErrorKind, SaveError, SectionRef};
pub use json::{to_qemu_json, write_qemu_json};
pub use reader::{default_budget, StreamReader};
pub use writer::StreamWriter;

/// `QEVM`.
pub const QEMU_VM_FILE_MAGIC: u32 = 0x5145_564d;
/// The only stream version QEMU reads.
pub const QEMU_VM_FILE_VERSION: u32 = 3;
/// End of the sections.
pub const QEMU_VM_EOF: u8 = 0x00;
/// First part of an iterative section (RAM).
pub const QEMU_VM_SECTION_START: u8 = 0x01;
/// Middle part of an iterative section.
pub const QEMU_VM_SECTION_PART: u8 = 0x02;
/// Last part of an iterative section.
pub const QEMU_VM_SECTION_END: u8 = 0x03;
/// A whole device section.
pub const QEMU_VM_SECTION_FULL: u8 = 0x04;
/// A subsection inside a section.
pub const QEMU_VM_SUBSECTION: u8 = 0x05;
/// The vmdesc JSON trailer.
pub const QEMU_VM_VMDESCRIPTION: u8 = 0x06;
/// The configuration section (machine type).
pub const QEMU_VM_CONFIGURATION: u8 = 0x07;
/// A command.
pub const QEMU_VM_COMMAND: u8 = 0x08;
/// A section footer.
pub const QEMU_VM_SECTION_FOOTER: u8 = 0x7e;
