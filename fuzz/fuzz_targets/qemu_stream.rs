//! The reader of whole QEMU streams: any bytes read into a document or are
//! refused, and a document writes back the bytes it was read from.
#![no_main]

use compat_core::stream::qemu::QemuStream;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = QemuStream::parse(data) {
        assert_eq!(doc.to_bytes(), data);
        let _ = doc.analyze();
    }
});
