//! RAM sections: entries of a be64 page address with flags, then block
//! names, fill bytes or whole pages (QEMU's `migration/ram.c`).

use crate::codec::{LoadError, LoadErrorKind, StreamReader, StreamWriter};

const RAM_SAVE_FLAG_ZERO: u64 = 0x02;
const RAM_SAVE_FLAG_MEM_SIZE: u64 = 0x04;
const RAM_SAVE_FLAG_PAGE: u64 = 0x08;
const RAM_SAVE_FLAG_EOS: u64 = 0x10;
const RAM_SAVE_FLAG_CONTINUE: u64 = 0x20;
const RAM_SAVE_FLAG_XBZRLE: u64 = 0x40;
const RAM_SAVE_FLAG_HOOK: u64 = 0x80;
const RAM_SAVE_FLAG_MULTIFD_FLUSH: u64 = 0x200;
const RAM_KNOWN_FLAGS: u64 = RAM_SAVE_FLAG_ZERO
    | RAM_SAVE_FLAG_MEM_SIZE
    | RAM_SAVE_FLAG_PAGE
    | RAM_SAVE_FLAG_EOS
    | RAM_SAVE_FLAG_CONTINUE
    | RAM_SAVE_FLAG_MULTIFD_FLUSH;

/// One RAM entry: a be64 of page address and flags, then its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RamEntry {
    /// The be64 as written: address bits and flag bits.
    pub header: u64,
    /// RAM blocks and their lengths (with `MEM_SIZE`).
    pub blocks: Vec<(String, u64)>,
    /// The block name, when the entry does not continue the last block.
    pub block: Option<String>,
    /// The fill byte of a zero (compressed) page.
    pub fill: Option<u8>,
    /// A whole page.
    pub page: Option<Vec<u8>>,
}

pub(super) fn read_ram(
    r: &mut StreamReader<'_>,
    page_size: u64,
) -> Result<Vec<RamEntry>, LoadError> {
    let mut entries = Vec::new();
    loop {
        let at = r.offset();
        let header = r.get_u64()?;
        let flags = header & (page_size - 1);
        let addr = header & !(page_size - 1);
        if flags & !RAM_KNOWN_FLAGS != 0 {
            let kind = if flags & RAM_SAVE_FLAG_XBZRLE != 0 {
                "XBZRLE RAM compression".to_owned()
            } else if flags & RAM_SAVE_FLAG_HOOK != 0 {
                "RAM hooks".to_owned()
            } else {
                format!("RAM flags 0x{flags:x}")
            };
            return Err(LoadError::new(LoadErrorKind::Unsupported(kind), at));
        }
        let mut entry = RamEntry {
            header,
            blocks: Vec::new(),
            block: None,
            fill: None,
            page: None,
        };
        if flags & RAM_SAVE_FLAG_MEM_SIZE != 0 {
            let mut total = addr;
            while total > 0 {
                let name = r.get_name()?.to_owned();
                let len = r.get_u64()?;
                total = total.checked_sub(len).ok_or_else(|| {
                    r.error(LoadErrorKind::Unsupported(
                        "RAM block lengths that exceed the announced total".into(),
                    ))
                })?;
                if len == 0 {
                    return Err(r.error(LoadErrorKind::Unsupported("an empty RAM block".into())));
                }
                entry.blocks.push((name, len));
            }
        }
        if flags & (RAM_SAVE_FLAG_ZERO | RAM_SAVE_FLAG_PAGE) != 0 {
            if flags & RAM_SAVE_FLAG_CONTINUE == 0 {
                entry.block = Some(r.get_name()?.to_owned());
            }
            if flags & RAM_SAVE_FLAG_ZERO != 0 {
                entry.fill = Some(r.get_u8()?);
            } else {
                entry.page = Some(r.get_bytes(page_size as usize)?.to_vec());
            }
        }
        entries.push(entry);
        if flags & RAM_SAVE_FLAG_EOS != 0 {
            return Ok(entries);
        }
    }
}

pub(super) fn write_ram(w: &mut StreamWriter, e: &RamEntry) {
    w.put_u64(e.header);
    for (name, len) in &e.blocks {
        w.put_name(name);
        w.put_u64(*len);
    }
    if let Some(name) = &e.block {
        w.put_name(name);
    }
    if let Some(fill) = e.fill {
        w.put_u8(fill);
    }
    if let Some(page) = &e.page {
        w.put_bytes(page);
    }
}
