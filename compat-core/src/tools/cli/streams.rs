//! The commands that move real state: `save`, `load`, `analyze` a stream
//! file, `migrate` a guest along releases.

use std::path::Path;

use serde_json::json;

use super::args::MachineArgs;
use super::output::{pretty, shown};
use super::{Failure, Outcome};
use crate::codec::input::read_stream_file;
use crate::resolve::MachineConfig;
use crate::stream::qemu::{analyze_text, Body, QemuStream};
use crate::text::escape::escaped;
use crate::tools::catalog::Catalog;

/// A machine started from `machine`, its devices' state saved to `output`.
pub(super) fn save(
    catalog: &Catalog,
    machine: &MachineArgs,
    output: &Path,
    json: bool,
) -> Result<Outcome, Failure> {
    let mut m = machine.start(catalog)?;
    let bytes = m.save().map_err(|e| e.to_string())?;
    std::fs::write(output, &bytes).map_err(|e| format!("{}: {e}", shown(output)))?;
    let sections = m
        .devices
        .iter()
        .filter(|d| d.object.type_info().vmstate.is_some())
        .count();
    let text = if json {
        pretty(&json!({
            "file": output.display().to_string(),
            "release": m.release.name(),
            "machine": m.machine_type.name,
            "sections": sections,
            "bytes": bytes.len(),
        }))
    } else {
        format!(
            "saved {sections} device sections of {} ({} bytes) to {}\n",
            m.machine_type.name,
            bytes.len(),
            shown(output)
        )
    };
    Ok(Outcome {
        warnings: m.warnings.clone(),
        ..Outcome::ok(text)
    })
}

/// A machine started from `machine`, stream file `file` loaded into it:
/// a refusal with the precise error if the load fails.
pub(super) fn load(
    catalog: &Catalog,
    machine: &MachineArgs,
    file: &Path,
    skip_unmodeled: bool,
    json: bool,
    max_bytes: u64,
) -> Result<Outcome, Failure> {
    let mut m = machine.start(catalog)?;
    let bytes = read_stream_file(file, max_bytes).map_err(|e| format!("{}: {e}", shown(file)))?;
    let failed = |e: crate::codec::LoadError| Failure::Refused(format!("{}: {e}", shown(file)));
    let mut body = json!({
        "file": file.display().to_string(),
        "release": m.release.name(),
        "machine": m.machine_type.name,
    });
    let head = |n: usize| {
        format!(
            "loaded {n} device sections into {} (release {})",
            m.machine_type.name,
            m.release.name()
        )
    };
    let text = if skip_unmodeled {
        let done = m.load_modelled(&bytes).map_err(failed)?;
        let list = |v: &[String]| {
            v.iter()
                .map(|s| escaped(s).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut text = format!(
            "{}: {}\nskipped {} sections of parts release {} does not model: {}\n",
            head(done.loaded.len()),
            list(&done.loaded),
            done.skipped.len(),
            m.release.name(),
            list(&done.skipped)
        );
        if !done.skipped_subsections.is_empty() {
            text.push_str(&format!(
                "not checked: the skipped sections carry {} subsections, which a real \
                 destination of release {} may not know: {}\n",
                done.skipped_subsections.len(),
                m.release.name(),
                list(&done.skipped_subsections)
            ));
        }
        body["loaded"] = json!(done.loaded);
        body["skipped"] = json!(done.skipped);
        body["skipped_subsections"] = json!(done.skipped_subsections);
        text
    } else {
        let report = m.load(&bytes).map_err(failed)?;
        body["sections"] = json!(report.sections);
        format!("{}\n", head(report.sections))
    };
    Ok(Outcome {
        warnings: m.warnings.clone(),
        ..Outcome::ok(if json { pretty(&body) } else { text })
    })
}

/// The sections of a stream file, or its `analyze-migration.py` JSON.
pub(super) fn analyze(file: &Path, json: bool, max_bytes: u64) -> Result<String, String> {
    let bytes = read_stream_file(file, max_bytes).map_err(|e| format!("{}: {e}", shown(file)))?;
    let stream = QemuStream::parse(&bytes).map_err(|e| format!("{}: {e}", shown(file)))?;
    if json {
        return Ok(analyze_text(&stream.analyze()));
    }
    let mut out = format!(
        "{}: QEMU migration stream, version 3, {} bytes\nmachine type: {}\n",
        shown(file),
        bytes.len(),
        stream
            .machine()
            .map_or("(no configuration section)".to_owned(), |m| escaped(m)
                .to_string())
    );
    out.push_str(&format!(
        "{:>7}  {:<40} {:>8} {:>7}  contents\n",
        "section", "idstr", "instance", "version"
    ));
    for (id, h, body) in stream.sections() {
        let contents = match body {
            Body::Ram(entries) => {
                let blocks: usize = entries.iter().map(|e| e.blocks.len()).sum();
                format!("RAM: {blocks} blocks")
            }
            Body::Device(d) => format!(
                "{} fields, {} subsections",
                d.fields.len(),
                d.subsections.len()
            ),
        };
        out.push_str(&format!(
            "{id:>7}  {:<40} {:>8} {:>7}  {contents}\n",
            escaped(&h.idstr).to_string(),
            h.instance_id,
            h.version_id
        ));
    }
    match &stream.vmdesc {
        Some(v) => out.push_str(&format!("vmdesc trailer: {} bytes of JSON\n", v.raw.len())),
        None => out.push_str("no vmdesc trailer\n"),
    }
    Ok(out)
}

/// A guest migrated along `chain`, each hop a real save with a pre-flight
/// and an incoming start that takes sticky values unless `no_sticky`.
pub(super) fn migrate_chain(
    catalog: &Catalog,
    chain: &[String],
    config: &MachineConfig,
    no_sticky: bool,
    json: bool,
) -> Result<Outcome, Failure> {
    use crate::migration::incoming::{self, StickyPolicy};
    let releases = chain
        .iter()
        .map(|r| catalog.release(r).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if releases.len() < 2 {
        return Err(Failure::Trouble(
            "--chain needs two releases or more, as R1,R2[,R3...]".into(),
        ));
    }
    let policy = if no_sticky {
        StickyPolicy::Refuse
    } else {
        StickyPolicy::Every
    };
    let hops: Vec<_> = releases.iter().map(|r| (*r, config.clone())).collect();
    let outcomes = incoming::chain(&hops, &policy);
    if let Some(Err(crate::migration::MigrationError::Source(e))) = outcomes.first() {
        return Err(Failure::Trouble(e.to_string()));
    }
    let success = outcomes.iter().all(Result::is_ok);
    let (mut text, mut items) = (String::new(), Vec::new());
    for (pair, outcome) in releases.windows(2).zip(&outcomes) {
        let head = format!(
            "{} -> {} on {}",
            pair[0].name(),
            pair[1].name(),
            config.machine
        );
        match outcome {
            Ok(adopted) => {
                let adopted: Vec<String> = adopted
                    .iter()
                    .map(|a| {
                        format!(
                            "{}.{}={} (first set by release {})",
                            a.device, a.property, a.value, a.first_set_by
                        )
                    })
                    .collect();
                text.push_str(&format!("{head}: works"));
                if !adopted.is_empty() {
                    text.push_str(&format!("; adopted {}", adopted.join(", ")));
                }
                text.push('\n');
                items.push(json!({
                    "from": pair[0].name(),
                    "to": pair[1].name(),
                    "works": true,
                    "adopted": adopted,
                }));
            }
            Err(e) => {
                text.push_str(&format!("{head}: fails: {e}\n"));
                items.push(json!({
                    "from": pair[0].name(),
                    "to": pair[1].name(),
                    "works": false,
                    "error": e.to_string(),
                }));
            }
        }
    }
    Ok(Outcome {
        text: if json {
            pretty(&json!({"machine": config.machine, "works": success, "hops": items}))
        } else {
            text
        },
        warnings: Vec::new(),
        success,
    })
}
