//! Whole streams as QEMU writes them — RAM included — read into a
//! document, written back byte for byte, and shown the way QEMU's
//! `scripts/analyze-migration.py` shows them.
//!
//! Device sections carry no field names or lengths on the wire, so they
//! are decoded through the stream's own vmdesc JSON trailer, which is
//! located first (it runs to the end of the file). RAM sections use the
//! trailer's `page_size`.

mod analyze;
mod decode;
mod document;
mod ram;

pub use analyze::analyze_text;
pub use decode::{Decoded, DecodedField, DecodedSubsection, FieldValue};
pub use document::{Body, Configuration, QemuStream, Record, SectionHeader, SectionRecord, Vmdesc};
pub use ram::RamEntry;
