//! Files from outside, read with a bound: a stream file is read no further
//! than its header when the header is not a stream's, and no file grows a
//! buffer past its limit (`/dev/zero` or an endless pipe are refused, not
//! read until memory runs out).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::{QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION};

/// The most bytes a stream file is read to unless told otherwise: 16 GiB,
/// a guest's RAM included.
pub const STREAM_FILE_LIMIT: u64 = 16 << 30;

/// The most bytes a JSON file (a lock, a dump) is read to: 256 MiB.
pub const JSON_FILE_LIMIT: u64 = 256 << 20;

/// The bytes of the file at `path`, at most `limit` of them: more is an
/// error of kind `FileTooLarge`.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let mut out = Vec::new();
    read_rest(&mut file, &mut out, limit)?;
    Ok(out)
}

/// The text of the file at `path` (a lock, a dump), at most `limit` bytes
/// of UTF-8.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not UTF-8 text (at byte {})", e.utf8_error().valid_up_to()),
        )
    })
}

/// The bytes of the stream file at `path`, at most `limit`. A file whose
/// first 8 bytes are not a stream header (`QEVM`, version 3) is read no
/// further: those bytes are returned, and reading them as a stream reports
/// the bad header at its offset.
pub fn read_stream_file(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let mut out = Vec::new();
    (&mut file).take(8).read_to_end(&mut out)?;
    let mut header = [0u8; 8];
    header[..out.len()].copy_from_slice(&out);
    let magic = u32::from_be_bytes(header[..4].try_into().expect("4 bytes"));
    let version = u32::from_be_bytes(header[4..].try_into().expect("4 bytes"));
    if out.len() < 8 || magic != QEMU_VM_FILE_MAGIC || version != QEMU_VM_FILE_VERSION {
        return Ok(out);
    }
    read_rest(&mut file, &mut out, limit)?;
    Ok(out)
}

/// Append the rest of `file` to `out`, refusing to pass `limit` bytes in
/// all. The buffer grows with what is read, never with what a file claims.
fn read_rest(file: &mut File, out: &mut Vec<u8>, limit: u64) -> io::Result<()> {
    if let Ok(meta) = file.metadata() {
        if meta.is_file() && meta.len() > limit {
            return Err(too_large(limit));
        }
        if meta.is_file() {
            out.reserve(meta.len().saturating_sub(out.len() as u64) as usize);
        }
    }
    let left = limit.saturating_sub(out.len() as u64);
    file.take(left.saturating_add(1)).read_to_end(out)?;
    if out.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(())
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("larger than the limit of {limit} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_and_oversized_inputs_are_refused_early() {
        // Not a stream: only the header is read.
        let zero = read_stream_file(Path::new("/dev/zero"), STREAM_FILE_LIMIT).unwrap();
        assert_eq!(zero, [0; 8]);
        // A bounded read of an endless file stops at its limit.
        let e = read_bounded(Path::new("/dev/zero"), 1000).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(e.to_string(), "larger than the limit of 1000 bytes");
    }

    #[test]
    fn a_stream_file_reads_whole_within_its_limit() {
        let dir = std::env::temp_dir().join(format!("compat-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.bin");
        let mut bytes = b"QEVM\0\0\0\x03".to_vec();
        bytes.extend_from_slice(&[0u8; 100]);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read_stream_file(&path, 1 << 20).unwrap(), bytes);
        let e = read_stream_file(&path, 50).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        std::fs::write(&path, b"QE").unwrap();
        assert_eq!(read_stream_file(&path, 50).unwrap(), b"QE");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
