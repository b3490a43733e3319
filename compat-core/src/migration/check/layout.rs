//! What the source writes against what the destination reads, field by
//! field, from the two sides' layouts: the checker and the pre-flight
//! both ask it.

use crate::vmstate::{
    field_path, older_streams_only, reading, FieldKind, FieldLayout, Layout, Reading,
    VmStateDescription,
};

/// What a destination whose own layout is `own` (described by `vmsd`) reads
/// of a stream at `version` whose source wrote `written`: its layout
/// without the fields added after that version, and with the fields it
/// keeps only to read older streams (QEMU's `mig_X`, decided by a test of
/// what the source sent) where the source wrote `X`. The checker and the
/// pre-flight both ask it.
pub(in crate::migration) fn reads_at(
    mut own: Layout,
    vmsd: &'static VmStateDescription,
    version: u32,
    written: &Layout,
) -> Layout {
    own.fields.retain(|f| {
        vmsd.fields
            .iter()
            .find(|x| x.name == f.name)
            .is_none_or(|x| x.has_exists_test || x.version_id <= version)
    });
    for (i, f) in vmsd.fields.iter().enumerate() {
        if !f.has_exists_test || own.fields.iter().any(|l| l.name == f.name) {
            continue;
        }
        let Some(plain) = older_streams_only(f.name) else {
            continue;
        };
        if !written.fields.iter().any(|w| w.name == plain) {
            continue;
        }
        // Only a scalar can be described without a value.
        let FieldKind::Scalar(scalar) = f.kind else {
            continue;
        };
        let field = FieldLayout::value(f.name, scalar.info_name(f.must_match), scalar.size());
        // Before the first field declared after it that the layout has.
        let at = vmsd.fields[i + 1..]
            .iter()
            .find_map(|later| own.fields.iter().position(|l| l.name == later.name))
            .unwrap_or(own.fields.len());
        own.fields.insert(at, field);
    }
    own
}

/// Where what the source writes and what the destination reads part.
pub(in crate::migration) struct LayoutMismatch {
    /// Where and how, in words.
    pub text: String,
    /// Whether it is a field of the same shape read into another field the
    /// source also has: a load that gets there completes and misreads.
    pub misread: bool,
}

impl LayoutMismatch {
    fn new(text: String) -> Self {
        LayoutMismatch {
            text,
            misread: false,
        }
    }
}

/// Compare what the source writes with what the destination reads.
pub(in crate::migration) fn layout_mismatch(
    path: &str,
    src: &Layout,
    dst: &Layout,
    dst_vmsd: &'static VmStateDescription,
) -> Option<LayoutMismatch> {
    let at = |name: &str| field_path(path, name);
    // Fields whose element count the stream decides (lists, maps, marked
    // slots) load whatever count the source sends: their entries are not
    // compared by count.
    let counted_by_stream = |name: &str| {
        dst_vmsd
            .fields
            .iter()
            .any(|f| f.name == name && f.kind.counted_by_stream())
    };
    let src_fields: Vec<_> = src
        .fields
        .iter()
        .filter(|f| !counted_by_stream(&f.name))
        .collect();
    let dst_fields: Vec<_> = dst
        .fields
        .iter()
        .filter(|f| !counted_by_stream(&f.name))
        .collect();
    for i in 0..src_fields.len().max(dst_fields.len()) {
        match (src_fields.get(i).copied(), dst_fields.get(i).copied()) {
            (Some(a), Some(b)) => {
                // A variable array: the destination reads as many elements
                // as the source sends, up to its declared maximum.
                let var_max = dst_vmsd.fields.iter().find_map(|f| match f.kind {
                    FieldKind::VarArray { max, .. } if f.name == b.name => Some(max),
                    _ => None,
                });
                if let Some(max) = var_max {
                    let sent = a.array_len.unwrap_or(a.size);
                    if a.name == b.name && a.info == b.info && sent <= max {
                        continue;
                    }
                    if a.name == b.name && sent > max {
                        return Some(LayoutMismatch::new(format!(
                            "the source sends {sent} elements of field '{}'; the destination \
                             accepts at most {max}",
                            at(&a.name)
                        )));
                    }
                }
                let source_has = |n: &str| src.fields.iter().any(|f| f.name == n);
                let destination_has = |n: &str| dst.fields.iter().any(|f| f.name == n);
                match reading(a.as_shape(), b.as_shape(), source_has, destination_has) {
                    // Names are not on the wire: a renamed field reads the
                    // same state.
                    Reading::Alike | Reading::Renamed => {}
                    // A field of the same shape read into another the
                    // source also has: the load completes, misread.
                    r @ (Reading::Misread | Reading::Differs) => {
                        return Some(LayoutMismatch {
                            text: format!(
                                "the source sends field '{}' ({}), the destination reads '{}' \
                                 ({}) there",
                                at(&a.name),
                                a.shape(),
                                at(&b.name),
                                b.shape()
                            ),
                            misread: r == Reading::Misread,
                        })
                    }
                }
                if let (Some(sa), Some(sb)) = (&a.nested, &b.nested) {
                    let inner = nested_vmsd(dst_vmsd, &b.name).unwrap_or(dst_vmsd);
                    if let Some(cause) = layout_mismatch(&at(&a.name), sa, sb, inner) {
                        return Some(cause);
                    }
                }
            }
            (Some(a), None) => {
                return Some(LayoutMismatch::new(format!(
                    "the source sends field '{}' ({}) that the destination does not read",
                    at(&a.name),
                    a.shape()
                )))
            }
            (None, Some(b)) => {
                return Some(LayoutMismatch::new(format!(
                    "the destination reads field '{}' ({}) that the source does not send",
                    at(&b.name),
                    b.shape()
                )))
            }
            (None, None) => {}
        }
    }
    for s in &src.subsections {
        let Some(sub) = dst_vmsd.subsection(&s.name) else {
            return Some(LayoutMismatch::new(format!(
                "VM subsection '{}' in '{}' does not exist on the destination",
                s.name, dst_vmsd.name
            )));
        };
        if let Some(mine) = dst.subsections.iter().find(|x| x.name == s.name) {
            if let Some(cause) = layout_mismatch(&s.name, s, mine, sub) {
                return Some(cause);
            }
        }
    }
    None
}

fn nested_vmsd(
    vmsd: &'static VmStateDescription,
    field: &str,
) -> Option<&'static VmStateDescription> {
    vmsd.fields
        .iter()
        .find(|f| f.name == field)
        .and_then(|f| f.kind.nested())
}
