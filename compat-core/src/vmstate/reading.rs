//! How a destination reads one field in the place where the source wrote
//! another: the one rule the checker, the pre-flight and `verify` apply,
//! whatever they hold the two descriptions in (a value's [`Layout`], a
//! lock's fields).
//!
//! QEMU's stream carries no field names: a destination reads the bytes in
//! its own order. A field renamed but written the same way loads the same
//! state; a field of the same shape read into another field *the other
//! side also has* loads without error and puts the state in the wrong
//! place (a silent misread); anything else fails the load or shifts every
//! field after it.
//!
//! [`Layout`]: super::Layout

/// What the rule needs to know of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldShape<'a> {
    /// Its name (`esp.lun`).
    pub name: &'a str,
    /// What it is on the wire (`uint8`, `struct`, `unused_buffer`).
    pub info: &'a str,
    /// Bytes of one element.
    pub size: usize,
    /// Elements, for an array.
    pub count: Option<usize>,
    /// Skipped bytes (`VMSTATE_UNUSED`): written as zeros, read and thrown
    /// away.
    pub unused: bool,
    /// A nested struct, whose own fields the caller compares.
    pub nested: bool,
}

impl FieldShape<'_> {
    /// Bytes on the wire, when known (a nested struct's are the caller's).
    fn wire_bytes(&self) -> Option<usize> {
        match self.nested {
            true => None,
            false => self.size.checked_mul(self.count.unwrap_or(1)),
        }
    }
}

/// How the destination takes what the source wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The same field, written the same way — or skipped bytes (`unused`)
    /// on either side of the same size, QEMU's way of retiring a field
    /// without changing the wire.
    Alike,
    /// Written the same way under another name that the other side does
    /// not have: the same state, renamed.
    Renamed,
    /// Written the same way, but read into a field the other side also
    /// has: the load completes and the state lands in the wrong field.
    Misread,
    /// Another shape: the load fails here or reads every later field at
    /// the wrong offset.
    Differs,
}

/// How a destination reading `read` takes `written`, in the same place;
/// `source_has` and `destination_has` say whether a name is a field of the
/// same struct on that side.
pub fn reading(
    written: FieldShape<'_>,
    read: FieldShape<'_>,
    source_has: impl Fn(&str) -> bool,
    destination_has: impl Fn(&str) -> bool,
) -> Reading {
    // A nested struct's bytes are its fields', which the caller compares
    // one by one: its size says nothing more (and is unknown where it has
    // subsections or tested fields).
    let size = |f: &FieldShape<'_>| (!f.nested).then_some(f.size);
    let same_way = (written.info, size(&written), written.count, written.nested)
        == (read.info, size(&read), read.count, read.nested);
    if same_way && written.name == read.name {
        return Reading::Alike;
    }
    if retired_alike(
        (written.unused, written.wire_bytes()),
        (read.unused, read.wire_bytes()),
    ) {
        return Reading::Alike;
    }
    if !same_way {
        return Reading::Differs;
    }
    if source_has(read.name) || destination_has(written.name) {
        Reading::Misread
    } else {
        Reading::Renamed
    }
}

/// Whether two fields, each `(is skipped bytes, bytes on the wire)`, take
/// the same bytes because one retired the other as skipped bytes
/// (`VMSTATE_UNUSED`) of its size.
pub fn retired_alike(a: (bool, Option<usize>), b: (bool, Option<usize>)) -> bool {
    (a.0 || b.0) && a.1.is_some() && a.1 == b.1
}

/// `mig_X`, or `a.b.mig_X` in a flattened path: QEMU's name for a field
/// kept only to read older streams, which write it as `X` (`a.b.X`); the
/// name it stands for.
pub fn older_streams_only(name: &str) -> Option<String> {
    let (prefix, last) = match name.rfind('.') {
        Some(i) => (&name[..=i], &name[i + 1..]),
        None => ("", name),
    };
    last.strip_prefix("mig_")
        .filter(|plain| !plain.is_empty())
        .map(|plain| format!("{prefix}{plain}"))
}

#[cfg(test)]
mod tests {
    use super::{older_streams_only, reading, FieldShape, Reading};

    #[test]
    fn fields_kept_for_older_streams() {
        assert_eq!(older_streams_only("mig_ti_cmd").as_deref(), Some("ti_cmd"));
        assert_eq!(
            older_streams_only("esp.mig_ti_cmd").as_deref(),
            Some("esp.ti_cmd")
        );
        assert_eq!(older_streams_only("esp.ti_cmd"), None);
        assert_eq!(older_streams_only("mig_"), None);
        // Only the last component: a struct kept for older streams is
        // one field of its own.
        assert_eq!(older_streams_only("mig_esp.lun"), None);
    }

    fn u8_field(name: &str) -> FieldShape<'_> {
        FieldShape {
            name,
            info: "uint8",
            size: 1,
            count: None,
            unused: false,
            nested: false,
        }
    }

    #[test]
    fn renames_misreads_and_retired_fields() {
        let none = |_: &str| false;
        let (lun, ti_cmd) = (u8_field("lun"), u8_field("ti_cmd"));
        assert_eq!(reading(lun, lun, none, none), Reading::Alike);
        assert_eq!(reading(lun, ti_cmd, none, none), Reading::Renamed);
        // The destination has a `lun` elsewhere: the source's lun lands
        // in its ti_cmd.
        assert_eq!(reading(lun, ti_cmd, none, |n| n == "lun"), Reading::Misread);
        assert_eq!(
            reading(lun, ti_cmd, |n| n == "ti_cmd", none),
            Reading::Misread
        );
        let unused = FieldShape {
            name: "unused",
            info: "unused_buffer",
            unused: true,
            ..lun
        };
        assert_eq!(reading(lun, unused, none, none), Reading::Alike);
        let wide = FieldShape {
            info: "uint16",
            size: 2,
            ..lun
        };
        assert_eq!(reading(lun, wide, none, none), Reading::Differs);
        assert_eq!(reading(wide, unused, none, none), Reading::Differs);
    }
}
