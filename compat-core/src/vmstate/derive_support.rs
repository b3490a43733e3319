//! What the code `#[derive(VMState)]` generates calls; reachable from
//! outside only through the crate's hidden `__private` module.

use super::first_difference;
use super::VmStateDescription;
use crate::codec::{LoadError, LoadErrorKind, SaveError, StreamReader};

pub use super::desc::check_subsection;

/// A device's own state and its description, for `#[device(vmstate)]`:
/// both uses go through this one trait, so that a device that does not
/// derive VMState gets one error, at that key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` says `vmstate` but has no VMState",
    label = "its instances migrate with a VMState of their own",
    note = "derive it with #[derive(VMState)] and #[vmstate(name = \"...\", version = N)], or leave \
            `vmstate` out: a subtype then migrates its parent's state"
)]
pub trait OwnState {
    /// The device's VMState description.
    const OWN_DESCRIPTION: &'static VmStateDescription;
    /// The device as its migrated state.
    fn own_state(&mut self) -> &mut dyn super::Migratable;
}

impl<T: super::VMState> OwnState for T {
    const OWN_DESCRIPTION: &'static VmStateDescription = T::DESCRIPTION;
    #[inline]
    fn own_state(&mut self) -> &mut dyn super::Migratable {
        self
    }
}

/// Refuse an incoming version outside `[minimum_version_id, version_id]`,
/// with QEMU's wording.
#[inline]
pub fn check_version(
    desc: &VmStateDescription,
    r: &StreamReader<'_>,
    version_id: u32,
) -> Result<(), LoadError> {
    if (desc.minimum_version_id..=desc.version_id).contains(&version_id) {
        return Ok(());
    }
    version_error(desc, r, version_id)
}

/// The error of a version outside the range: out of line, as it is rare.
#[cold]
#[inline(never)]
fn version_error(
    desc: &VmStateDescription,
    r: &StreamReader<'_>,
    version_id: u32,
) -> Result<(), LoadError> {
    if version_id > desc.version_id {
        return Err(r.error(LoadErrorKind::TooNew {
            vmsd: desc.name.to_owned(),
            incoming: version_id,
            ours: desc.version_id,
        }));
    }
    if version_id < desc.minimum_version_id {
        return Err(r.error(LoadErrorKind::TooOld {
            vmsd: desc.name.to_owned(),
            incoming: version_id,
            minimum: desc.minimum_version_id,
        }));
    }
    Ok(())
}

/// The header of the next subsection of `parent`, consumed, or `None` when
/// the next bytes are not one (QEMU stops at a name that does not start
/// with the parent's, leaving it to the caller).
#[inline]
pub fn next_subsection<'a>(
    r: &mut StreamReader<'a>,
    parent: &str,
) -> Result<Option<(&'a str, u32, usize)>, LoadError> {
    // Most structs end without one: one byte says so.
    if r.peek_u8() != Some(crate::codec::QEMU_VM_SUBSECTION) {
        return Ok(None);
    }
    match r.peek_subsection_name() {
        Some(name) if name.len() > parent.len() && name.starts_with(parent) => {}
        _ => return Ok(None),
    }
    let at = r.offset();
    r.get_u8()?;
    let name = r.get_name()?;
    let version = r.get_u32()?;
    Ok(Some((name, version, at)))
}

/// The error for a subsection the destination does not define.
pub fn unknown_subsection(name: &str, parent: &str, at: usize) -> LoadError {
    LoadError::new(
        LoadErrorKind::UnknownSubsection {
            name: name.to_owned(),
            parent: parent.to_owned(),
        },
        at,
    )
}

/// Compare a must-match scalar.
pub fn must_match<T: PartialEq + std::fmt::LowerHex>(
    incoming: T,
    ours: T,
    at: usize,
) -> Result<(), LoadError> {
    if incoming == ours {
        Ok(())
    } else {
        Err(LoadError::new(
            LoadErrorKind::MustMatch {
                incoming: format!("0x{incoming:x}"),
                ours: format!("0x{ours:x}"),
            },
            at,
        ))
    }
}

/// Compare a must-match byte buffer under `mask` (all bits when `None`),
/// naming the first differing byte as QEMU's PCI config check does.
pub fn must_match_bytes(
    incoming: &[u8],
    ours: &[u8],
    mask: Option<&[u8]>,
    at: usize,
) -> Result<(), LoadError> {
    match first_difference(incoming, ours, mask) {
        None => Ok(()),
        Some(d) => Err(LoadError::new(
            LoadErrorKind::BadConfigData {
                index: d.index,
                read: d.incoming,
                device: d.ours,
                mask: d.mask,
            },
            at + d.index,
        )),
    }
}

/// Read a variable array's length, refusing one above its declared
/// maximum before anything is allocated.
pub fn checked_len(len: u64, max: usize, at: usize) -> Result<usize, LoadError> {
    match usize::try_from(len) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(LoadError::new(
            LoadErrorKind::LengthTooLarge { len, max },
            at,
        )),
    }
}

/// The element count of a variable array about to be read: its length
/// field, refused above the declared maximum, when the stream does not
/// hold that many elements of `elem_size` bytes, or beyond the reader's
/// element budget — all before anything is allocated.
pub fn checked_array_len(
    r: &mut StreamReader<'_>,
    len: u64,
    max: usize,
    elem_size: usize,
) -> Result<usize, LoadError> {
    let n = checked_len(len, max, r.offset())?;
    let wanted = n.saturating_mul(elem_size);
    if wanted > r.remaining() {
        return Err(r.error(LoadErrorKind::Truncated {
            wanted,
            available: r.remaining(),
        }));
    }
    r.charge(n)?;
    Ok(n)
}

/// Run a `pre_save` hook's result into a save error.
pub fn hook_save<E: std::fmt::Display>(vmsd: &str, result: Result<(), E>) -> Result<(), SaveError> {
    result.map_err(|e| SaveError {
        vmsd: vmsd.to_owned(),
        message: e.to_string(),
    })
}

/// Run a load hook's result into a load error at the current offset.
pub fn hook_load<E: std::fmt::Display>(
    hook: &'static str,
    r: &StreamReader<'_>,
    result: Result<(), E>,
) -> Result<(), LoadError> {
    result.map_err(|e| {
        r.error(LoadErrorKind::Hook {
            hook,
            message: e.to_string(),
        })
    })
}

/// The number of elements a variable array saves: its length field,
/// which the array must hold.
pub fn saved_len<T>(v: &[T], len: u64, field: &str) -> Result<usize, SaveError> {
    match usize::try_from(len) {
        Ok(n) if n <= v.len() => Ok(n),
        _ => Err(SaveError {
            vmsd: field.to_owned(),
            message: format!("its length field says {len} but it holds {}", v.len()),
        }),
    }
}

/// Read the null marker of an empty slot; anything else means the sides
/// disagree on which slots are empty.
pub fn null_marker(r: &mut StreamReader<'_>) -> Result<(), LoadError> {
    let at = r.offset();
    match r.get_u8()? {
        super::NULL_MARKER => Ok(()),
        found => Err(LoadError::new(LoadErrorKind::NullMarker { found }, at)),
    }
}

/// The marker before a list element: `true` for one (0x01), `false` at the
/// end (0x00); anything else is an error.
pub fn list_marker(r: &mut StreamReader<'_>) -> Result<bool, LoadError> {
    let at = r.offset();
    match r.get_u8()? {
        0x01 => Ok(true),
        0x00 => Ok(false),
        found => Err(LoadError::new(
            LoadErrorKind::BadMarker {
                expected: "0x01 (an element follows) or 0x00 (the end of the list)",
                found,
            },
            at,
        )),
    }
}

/// A marker that must be `expected`: 0x01 before each of a map's counted
/// nodes, 0x00 after the last.
pub fn map_marker(r: &mut StreamReader<'_>, node: bool) -> Result<(), LoadError> {
    let at = r.offset();
    let (want, expected) = if node {
        (0x01, "0x01 before each of the map's counted nodes")
    } else {
        (0x00, "0x00 after the map's last counted node")
    };
    match r.get_u8()? {
        b if b == want => Ok(()),
        found => Err(LoadError::new(
            LoadErrorKind::BadMarker { expected, found },
            at,
        )),
    }
}

/// The marker of a slot whose presence the stream decides: `true` before
/// an element (0x31), `false` for an empty slot (0x30).
pub fn slot_marker(r: &mut StreamReader<'_>) -> Result<bool, LoadError> {
    let at = r.offset();
    match r.get_u8()? {
        super::VALID_MARKER => Ok(true),
        super::NULL_MARKER => Ok(false),
        found => Err(LoadError::new(
            LoadErrorKind::BadMarker {
                expected: "0x31 (an element follows) or 0x30 (an empty slot)",
                found,
            },
            at,
        )),
    }
}
