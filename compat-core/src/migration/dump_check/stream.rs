//! A stream a source wrote, compared with a `-dump-vmstate` file of the
//! destination: each device section's record of what was sent (its vmdesc
//! trailer: array lengths as sent, tested fields already decided, the
//! subsections that went) read as the dump's type of the same VMState name
//! would read it. Sharper than two dumps: nothing the source sent is
//! uncertain, and a subsection sent is sent — one the destination does not
//! know is refused, not a maybe.

use std::collections::HashMap;

use super::wire::place_in;
use super::{
    section_verdict, DeviceComparison, DumpComparison, DumpType, DumpVerdict, Sources, VmStateDump,
};
use crate::stream::qemu::QemuStream;
use crate::text::escape::escaped as esc;
use crate::vmstate::{older_streams_only, StateRecord};

/// What `destination` makes of each device section of `stream`, in
/// stream order. A section is compared with the destination's type of its
/// VMState name (the first by type name where several share one, as
/// `am53c974` and `dc390` may); a section no type of the destination
/// describes is listed as `undescribed`: a dump has device types only, so
/// the CPU's, timers' and buses' sections are there, and so is a device
/// the destination lacks. A stream read without a trailer has no device
/// sections (reading one refuses the sections it cannot describe).
pub fn compare_stream(stream: &QemuStream, destination: &VmStateDump) -> DumpComparison {
    // A trailer records array lengths as sent, and the fields kept for
    // older streams that the source sent.
    let sources = Sources {
        lengths: (true, destination.records_lengths()),
        sent: true,
    };
    // The destination's types by VMState name, the first of a name.
    let mut by_vmsd: HashMap<&str, &DumpType> = HashMap::new();
    for t in destination.types.values() {
        by_vmsd.entry(t.description.name.as_str()).or_insert(t);
    }
    let mut devices = Vec::new();
    let mut undescribed = Vec::new();
    let mut compared = 0;
    for (header, layout) in stream.sent_layouts() {
        let section = match header.instance_id {
            0 => header.idstr.clone(),
            n => format!("{} (instance {n})", header.idstr),
        };
        let Some(ty) = by_vmsd.get(layout.name.as_ref()) else {
            undescribed.push(section);
            continue;
        };
        compared += 1;
        let mut sent = StateRecord::sent(&layout);
        let mut read = ty.description.clone();
        resolve_alternatives(&mut sent, &mut read);
        let mut notes = Vec::new();
        for path in drop_empty_arrays(&sent, &mut read, "") {
            notes.push(format!(
                "{}: not in the trailer; read as an array sent empty",
                esc(&path)
            ));
        }
        let mut verdict = section_verdict(&sent, &read, sources);
        if !verdict.fails() {
            if let Some(refused) = sent_subsections(&sent, &read, sources, &mut notes) {
                verdict = refused;
            }
        }
        if verdict != DumpVerdict::Identical || !notes.is_empty() {
            devices.push(DeviceComparison {
                type_name: format!("{section} ({})", ty.name),
                verdict,
                subsections: notes,
            });
        }
    }
    DumpComparison {
        source_machine: stream.machine().unwrap_or_default().to_owned(),
        destination_machine: destination.machine.clone(),
        devices,
        compared,
        only_source: Vec::new(),
        only_destination: Vec::new(),
        undescribed,
    }
}

/// The subsections `sent` carries, as `read` takes them: the first one the
/// destination refuses or misreads, as the section's verdict; notes for
/// those it reads otherwise but well (renames).
fn sent_subsections(
    sent: &StateRecord,
    read: &StateRecord,
    sources: Sources,
    notes: &mut Vec<String>,
) -> Option<DumpVerdict> {
    for sub in &sent.subsections {
        let Some(theirs) = read.subsection(&sub.name) else {
            return Some(DumpVerdict::Breaks {
                at: sub.name.clone(),
                reason: format!(
                    "the source sent subsection {}, which the destination does not know: \
                     refused",
                    esc(&sub.name)
                ),
            });
        };
        let v = section_verdict(sub, theirs, sources);
        if v.fails() {
            return Some(v);
        }
        if v != DumpVerdict::Identical {
            notes.push(format!("subsection {}: {v}", esc(&sub.name)));
        }
        if let Some(v) = sent_subsections(sub, theirs, sources, notes) {
            return Some(v);
        }
    }
    None
}

/// The alternatives the source sent, as the destination takes them. Where
/// a description has several fields of one name (`PCIDevice`'s 256- and
/// 4096-byte `config`, each with a test), QEMU's trailer names the one sent
/// `config[1]`: the second of that name. Such a field is renamed back to
/// its name, and the destination keeps, of its tested fields of that name,
/// the ones the source sent (its tests are taken to choose as the
/// source's did); untested ones it keeps, as it reads them regardless. A
/// name the destination has as written (`regs[1]`) is left alone.
fn resolve_alternatives(sent: &mut StateRecord, read: &mut StateRecord) {
    let mut chosen: Vec<(String, usize)> = Vec::new();
    for f in &mut sent.fields {
        let Some((name, k)) = alternative(&f.name).map(|(n, k)| (n.to_owned(), k)) else {
            continue;
        };
        let of_name = read.fields.iter().filter(|x| x.name == name).count();
        // The destination keeps pieces of that name for older streams only
        // (esp's two `mig_cmdbuf` for `cmdbuf`'s two parts, both sent):
        // named as sent, they pair with those.
        let kept = read
            .fields
            .iter()
            .filter(|x| older_streams_only(&x.name).as_deref() == Some(name.as_str()))
            .count();
        if of_name == 0 && k < kept {
            f.name.clone_from(&name);
            continue;
        }
        if read.fields.iter().any(|x| x.name == f.name) || k >= of_name {
            continue;
        }
        f.name.clone_from(&name);
        chosen.push((name, k));
    }
    let mut seen: Vec<(String, usize)> = Vec::new();
    read.fields.retain(|x| {
        if !chosen.iter().any(|(n, _)| *n == x.name) {
            return true;
        }
        let k = seen.iter().filter(|(n, _)| *n == x.name).count();
        seen.push((x.name.clone(), k));
        !x.tested() || chosen.contains(&(x.name.clone(), k))
    });
    // Nested structs and subsections, paired by name.
    for f in &mut sent.fields {
        let theirs = read.fields.iter_mut().find(|x| x.name == f.name);
        if let (Some(inner), Some(their_inner)) = (
            f.nested.as_deref_mut(),
            theirs.and_then(|t| t.nested.as_deref_mut()),
        ) {
            resolve_alternatives(inner, their_inner);
        }
    }
    for sub in &mut sent.subsections {
        if let Some(theirs) = read.subsections.iter_mut().find(|x| x.name == sub.name) {
            resolve_alternatives(sub, theirs);
        }
    }
}

/// The untested structs the destination has with no count that `sent` lacks,
/// removed from `read`, their paths returned: QEMU's trailer lists no
/// entry for an array sent with no elements (`PCIE_AER_ERROR_LOG`'s `log`,
/// whose length `log_num` is 0), and a dump does not tell a variable array
/// of structs from one struct, so such a field is taken as an array the
/// source sent empty.
fn drop_empty_arrays(sent: &StateRecord, read: &mut StateRecord, prefix: &str) -> Vec<String> {
    let mut dropped = Vec::new();
    let empty: Vec<bool> = (0..read.fields.len())
        .map(|i| {
            let x = &read.fields[i];
            x.nested.is_some()
                && x.count.is_none()
                && !x.tested()
                && !sent.fields.iter().any(|f| f.name == x.name)
                && !renamed_struct_in_place(read, i, sent)
        })
        .collect();
    let mut i = 0;
    read.fields.retain(|x| {
        let drop = empty[i];
        i += 1;
        if drop {
            dropped.push(format!("{prefix}{}", x.name));
        }
        !drop
    });
    for x in &mut read.fields {
        let theirs = sent.fields.iter().find(|f| f.name == x.name);
        if let (Some(inner), Some(sent_inner)) = (
            x.nested.as_deref_mut(),
            theirs.and_then(|f| f.nested.as_deref()),
        ) {
            let path = format!("{prefix}{}.", x.name);
            dropped.extend(drop_empty_arrays(sent_inner, inner, &path));
        }
    }
    dropped
}

/// Whether the stream sent, where field `index` of `read` would be, a
/// struct of a name `read` does not have: the same struct renamed
/// (`common` → `parent_obj` when ps2 devices became QOM objects), not an
/// array sent empty. "Where it would be": right after what stands for the
/// nearest field before it, or first.
fn renamed_struct_in_place(read: &StateRecord, index: usize, sent: &StateRecord) -> bool {
    let at = place_in(read, index, sent).unwrap_or(0);
    sent.fields
        .get(at)
        .is_some_and(|o| o.nested.is_some() && !read.fields.iter().any(|x| x.name == o.name))
}

/// `config[1]` as `("config", 1)`.
fn alternative(name: &str) -> Option<(&str, usize)> {
    let (base, rest) = name.strip_suffix(']')?.rsplit_once('[')?;
    Some((base, rest.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailer_names_the_alternative_sent_by_its_place() {
        assert_eq!(alternative("config[1]"), Some(("config", 1)));
        assert_eq!(alternative("a.b[0]"), Some(("a.b", 0)));
        assert_eq!(alternative("config"), None);
        assert_eq!(alternative("config[x]"), None);
    }
}
