//! The commands that compare two sides before any state moves: `check`
//! (releases, or `-dump-vmstate` and lock files in their place),
//! `preflight`, `verify` against locks, and the `lock` and `dump-vmstate`
//! files they compare with.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::args::PairArgs;
use super::output::{findings_json, prediction_json, pretty, shown};
use super::{release, Failure, Outcome};
use crate::codec::input::{read_stream_file, read_text, JSON_FILE_LIMIT, STREAM_FILE_LIMIT};
use crate::release::Release;
use crate::resolve::MachineConfig;
use crate::stream::qemu::QemuStream;
use crate::text::escape::escaped;
use crate::tools::catalog::Catalog;

/// Both directions between the two sides `pair` names: releases,
/// predicted, or files in their place, compared.
pub(super) fn check(catalog: &Catalog, pair: &PairArgs) -> Result<Outcome, Failure> {
    if pair.dest_host.is_some() || pair.dest_cpu.is_some() {
        return Err(Failure::Trouble(
            "check starts both sides alike: --dest-host and --dest-cpu are for preflight".into(),
        ));
    }
    let (from, to) = (named(catalog, &pair.from)?, named(catalog, &pair.to)?);
    if !matches!((&from, &to), (Named::Release(_), Named::Release(_))) {
        return check_files(from, to, pair.guest.machine.as_deref(), pair.json);
    }
    Ok(check_releases(
        catalog,
        &pair.from,
        &pair.to,
        &pair.config()?,
        pair.json,
    )?)
}

/// Both directions between two releases, predicted.
fn check_releases(
    catalog: &Catalog,
    from: &str,
    to: &str,
    config: &MachineConfig,
    json: bool,
) -> Result<Outcome, String> {
    let a = catalog.release(from).map_err(|e| e.to_string())?;
    let b = catalog.release(to).map_err(|e| e.to_string())?;
    // What QEMU would warn about on each side (an unused -global).
    let mut warnings: Vec<String> = Vec::new();
    for r in [a, b] {
        if let Ok(m) = r.instantiate_config(config) {
            for w in &m.warnings {
                let w = format!("release {}: {w}", r.name());
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
        }
    }
    let mut text = String::new();
    let mut directions = Vec::new();
    let mut success = true;
    for (src, dst) in [(a, b), (b, a)] {
        let p = catalog.predict(src, config, dst, config);
        success &= p.works;
        text.push_str(&format!(
            "{} -> {} on {}: {p}",
            src.name(),
            dst.name(),
            config.machine
        ));
        directions.push(prediction_json(src.name(), dst.name(), &config.machine, &p));
    }
    Ok(Outcome {
        text: if json {
            pretty(&json!({"works": success, "directions": directions}))
        } else {
            text
        },
        warnings,
        success,
    })
}

/// Two dumps compared both ways: the text, each direction as JSON, and
/// how many directions fail.
fn dump_directions(
    a: (&str, &crate::migration::dump_check::VmStateDump),
    b: (&str, &crate::migration::dump_check::VmStateDump),
) -> (String, Vec<Value>, usize) {
    let mut text = String::new();
    let mut directions = Vec::new();
    let mut failing = 0;
    for ((src_name, src), (dst_name, dst)) in [(a, b), (b, a)] {
        let c = crate::migration::dump_check::compare(src, dst);
        failing += usize::from(c.fails());
        text.push_str(&format!(
            "{} -> {}: {c}",
            escaped(src_name),
            escaped(dst_name)
        ));
        directions
            .push(json!({"from": src_name, "to": dst_name, "works": !c.fails(), "comparison": c}));
    }
    (text, directions, failing)
}

/// What `--from`/`--to` name: a release, or a file in its place.
enum Named<'c> {
    Release(&'c Release),
    Dump(String, crate::migration::dump_check::VmStateDump),
    Lock(String, crate::migration::lock::Lock),
    /// A stream a source wrote (QEMU's, or compat's).
    Stream(String, crate::stream::qemu::QemuStream),
}

/// `text` as a release name, or, when it is a file, the migration stream,
/// the `-dump-vmstate` dump or the lock in it.
fn named<'c>(catalog: &'c Catalog, text: &str) -> Result<Named<'c>, Failure> {
    use crate::migration::dump_check::VmStateDump;
    use crate::migration::lock::Lock;
    let path = Path::new(text);
    if !path.is_file() {
        return Ok(Named::Release(
            catalog.release(text).map_err(|e| e.to_string())?,
        ));
    }
    let name = shown(path);
    // A stream is told by its header; other files are read no further
    // than it.
    let head = read_stream_file(path, STREAM_FILE_LIMIT).map_err(|e| format!("{name}: {e}"))?;
    if head.starts_with(&crate::codec::QEMU_VM_FILE_MAGIC.to_be_bytes()) {
        let stream = QemuStream::parse(&head).map_err(|e| format!("{name}: {e}"))?;
        return Ok(Named::Stream(name, stream));
    }
    let content = read_text(path, JSON_FILE_LIMIT).map_err(|e| format!("{name}: {e}"))?;
    if VmStateDump::looks_like(&content) {
        let dump = VmStateDump::parse(&content).map_err(|e| format!("{name}: {e}"))?;
        Ok(Named::Dump(name, dump))
    } else {
        let lock = Lock::from_json(&content).map_err(|e| format!("{name}: {e}"))?;
        Ok(Named::Lock(name, lock))
    }
}

/// `check` where a file stands for a release: two `-dump-vmstate` files
/// (or a release's own dump and one), compared in both directions; or a
/// lock and a release, verified.
fn check_files(
    from: Named<'_>,
    to: Named<'_>,
    machine: Option<&str>,
    json: bool,
) -> Result<Outcome, Failure> {
    use crate::migration::dump_check::VmStateDump;
    use crate::migration::lock::Lock;
    use crate::migration::verify::{indented, verify_locks};
    use std::borrow::Cow;
    // A release verified against a lock, in whichever order they come; two
    // locks, the destination's against the source's.
    let verified: Option<(String, Cow<'_, Lock>, &str, &Lock)> = match (&from, &to) {
        (Named::Release(r), Named::Lock(name, lock))
        | (Named::Lock(name, lock), Named::Release(r)) => {
            Some((r.name().to_owned(), Cow::Owned(Lock::of(r)), name, lock))
        }
        (Named::Lock(earlier_name, earlier), Named::Lock(name, now)) => Some((
            format!("{} ({})", escaped(&now.release), name),
            Cow::Borrowed(now),
            earlier_name,
            earlier,
        )),
        _ => None,
    };
    if let Some((now_name, now, name, lock)) = verified {
        let findings = verify_locks(&now, lock);
        let text = format!(
            "{now_name} against release {} ({name}): {} finding(s)\n{}",
            escaped(&lock.release),
            findings.len(),
            indented(&findings)
        );
        return Ok(Outcome {
            success: findings.is_empty(),
            text: if json {
                pretty(&json!({"works": findings.is_empty(), "findings": findings_json(&findings)}))
            } else {
                text
            },
            warnings: Vec::new(),
        });
    }
    let dump_machine = [&from, &to].into_iter().find_map(|n| match n {
        Named::Dump(_, d) => Some(d.machine.clone()),
        Named::Stream(_, s) => s.machine().map(str::to_owned),
        _ => None,
    });
    let as_dump = |n: Named<'_>| -> Result<(String, VmStateDump), Failure> {
        match n {
            Named::Dump(name, d) => Ok((name, d)),
            Named::Release(r) => {
                let m = machine
                    .map(str::to_owned)
                    .or_else(|| dump_machine.clone())
                    .ok_or("the machine type is required: -M MACHINE")?;
                let text =
                    crate::migration::dump::dump_vmstate(r, &m).map_err(|e| e.to_string())?;
                let dump = VmStateDump::parse(&text).map_err(|e| e.to_string())?;
                Ok((format!("release {}", r.name()), dump))
            }
            Named::Lock(name, _) => Err(Failure::Trouble(format!(
                "{name}: a lock compares with a release or another lock (compat verify \
                 --release R --against {name}), not with a -dump-vmstate file or a stream"
            ))),
            Named::Stream(name, _) => Err(Failure::Trouble(format!(
                "{name}: a stream is what a source sent: name it with --from, and the \
                 destination (a release or a -dump-vmstate file) with --to"
            ))),
        }
    };
    // A stream: what it sent, read by the destination, in that direction.
    if let Named::Stream(s_name, stream) = from {
        let (d_name, d) = as_dump(to)?;
        let c = crate::migration::dump_check::compare_stream(&stream, &d);
        let works = !c.fails();
        let text = format!("{} -> {}: {c}", escaped(&s_name), escaped(&d_name));
        return Ok(Outcome {
            success: works,
            text: if json {
                pretty(&json!({"works": works, "directions": [
                    {"from": s_name, "to": d_name, "works": works, "comparison": c}
                ]}))
            } else {
                text
            },
            warnings: Vec::new(),
        });
    }
    let (a_name, a) = as_dump(from)?;
    let (b_name, b) = as_dump(to)?;
    let (text, directions, failing) = dump_directions((&a_name, &a), (&b_name, &b));
    let success = failing == 0;
    Ok(Outcome {
        success,
        text: if json {
            pretty(&json!({"works": success, "directions": directions}))
        } else {
            text
        },
        warnings: Vec::new(),
    })
}

/// The pre-flight of `pair.from` as `pair.to` answers it.
pub(super) fn preflight(catalog: &Catalog, pair: &PairArgs) -> Result<Outcome, Failure> {
    use crate::migration::preflight::{check, Preflight};
    let config = pair.config()?;
    let dest_config = pair.dest_config()?;
    let a = catalog.release(&pair.from).map_err(|e| e.to_string())?;
    let b = catalog.release(&pair.to).map_err(|e| e.to_string())?;
    let mut source = a.instantiate_config(&config).map_err(|e| e.to_string())?;
    let mut destination = b
        .instantiate_config(&dest_config)
        .map_err(|e| e.to_string())?;
    // Hosts with other CPU features: the lines that let a guest migrate
    // both ways (each host hides what the other lacks).
    let (ha, hb) = (&config.host_features, &dest_config.host_features);
    let cpu_lines = (ha != hb).then(|| {
        format!(
            "the hosts' CPU features differ; to migrate both ways start the source with \
             -cpu {} and the destination with -cpu {}\n",
            crate::resolve::host_cpu_option(ha, hb),
            crate::resolve::host_cpu_option(hb, ha)
        )
    });
    let differences = check(&Preflight::of(&mut source), &mut destination);
    let head = format!("{} -> {} on {}", a.name(), b.name(), config.machine);
    let text = if pair.json {
        let items: Vec<Value> = differences
            .iter()
            .map(|d| {
                json!({
                    "kind": d.kind,
                    "device": d.device,
                    "item": d.item,
                    "source": d.source,
                    "destination": d.destination,
                    "fix": d.fix,
                    "text": d.to_string(),
                })
            })
            .collect();
        pretty(&json!({
            "from": a.name(),
            "to": b.name(),
            "machine": config.machine,
            "accepted": differences.is_empty(),
            "differences": items,
        }))
    } else if differences.is_empty() {
        format!("{head}: the destination accepts the source's configuration\n")
    } else {
        let mut text = format!(
            "{head}: the destination refuses before any state moves ({} difference{}):\n",
            differences.len(),
            if differences.len() == 1 { "" } else { "s" }
        );
        for d in &differences {
            text.push_str(&format!("  - {d}\n"));
        }
        text
    };
    let text = match (&cpu_lines, pair.json) {
        (Some(lines), false) => format!("{text}{lines}"),
        _ => text,
    };
    Ok(Outcome {
        text,
        warnings: Vec::new(),
        success: differences.is_empty(),
    })
}

/// `release` against each lock: a report per lock, findings with fixes.
/// `release` may be a lock file in place of a release (one read from a real
/// QEMU binary): its lock is verified as a release's is, without what only
/// a running release can show (its own streams, its `-dump-vmstate`).
pub(super) fn verify(
    catalog: &Catalog,
    rel: Option<&str>,
    against: &[PathBuf],
    json: bool,
) -> Result<Outcome, Failure> {
    use crate::migration::lock::Lock;
    use crate::migration::verify::{own_streams, verify_locks};
    let (r, now) = match rel.map(Path::new).filter(|p| p.is_file()) {
        Some(file) => {
            let content =
                read_text(file, JSON_FILE_LIMIT).map_err(|e| format!("{}: {e}", shown(file)))?;
            let lock = Lock::from_json(&content).map_err(|e| format!("{}: {e}", shown(file)))?;
            (None, lock)
        }
        None => {
            let r = release(catalog, rel)?;
            (Some(r), Lock::of(r))
        }
    };
    let mut text = String::new();
    let mut reports = Vec::new();
    let mut total = 0;
    let mut checks = Vec::new();
    let mut dump_text = String::new();
    for file in against {
        let content =
            read_text(file, JSON_FILE_LIMIT).map_err(|e| format!("{}: {e}", shown(file)))?;
        // A -dump-vmstate file: the release's own dump for its machine
        // type, compared with it both ways.
        if crate::migration::dump_check::VmStateDump::looks_like(&content) {
            use crate::migration::dump_check::VmStateDump;
            let Some(r) = r else {
                return Err(Failure::Trouble(format!(
                    "{}: a -dump-vmstate file compares with a release, not with a lock (compat \
                     check --from {} --to RELEASE)",
                    shown(file),
                    shown(file)
                )));
            };
            let theirs =
                VmStateDump::parse(&content).map_err(|e| format!("{}: {e}", shown(file)))?;
            let ours = crate::migration::dump::dump_vmstate(r, &theirs.machine)
                .map_err(|e| format!("{}: {e}", shown(file)))?;
            let ours = VmStateDump::parse(&ours).map_err(|e| e.to_string())?;
            let own = format!("release {}", r.name());
            let (t, directions, failing) = dump_directions((&shown(file), &theirs), (&own, &ours));
            total += failing;
            dump_text.push_str(&t);
            reports.push(json!({"dump": file.display().to_string(), "directions": directions}));
            continue;
        }
        let lock = Lock::from_json(&content).map_err(|e| format!("{}: {e}", shown(file)))?;
        checks.push((
            Some(file.display().to_string()),
            format!(
                "against release {} ({})",
                escaped(&lock.release),
                shown(file)
            ),
            Some(lock.release.clone()),
            verify_locks(&now, &lock),
        ));
    }
    // The release against itself: every stream it saves, it loads.
    if let Some(r) = r {
        checks.push((None, "against itself".to_owned(), None, own_streams(r)));
    }
    for (file, against, locked_release, findings) in checks {
        total += findings.len();
        text.push_str(&format!(
            "{} {against}: {}\n",
            escaped(&now.release),
            match findings.len() {
                0 => "no finding".to_owned(),
                1 => "1 finding".to_owned(),
                n => format!("{n} findings"),
            }
        ));
        text.push_str(&crate::migration::verify::indented(&findings));
        let items = findings_json(&findings);
        reports.push(json!({
            "lock": file,
            "locked_release": locked_release,
            "findings": items,
        }));
    }
    text.push_str(&dump_text);
    Ok(Outcome {
        text: if json {
            pretty(&json!({"release": now.release, "findings": total, "reports": reports}))
        } else {
            text
        },
        warnings: Vec::new(),
        success: total == 0,
    })
}

/// The lock of release `rel` written to `output`.
pub(super) fn lock(
    catalog: &Catalog,
    rel: Option<&str>,
    output: &Path,
    json: bool,
) -> Result<Outcome, Failure> {
    let r = release(catalog, rel)?;
    let lock = crate::migration::lock::Lock::of(r);
    let text = lock.to_json();
    std::fs::write(output, &text).map_err(|e| format!("{}: {e}", shown(output)))?;
    Ok(Outcome::ok(if json {
        pretty(&json!({
            "file": output.display().to_string(),
            "release": r.name(),
            "machine_types": lock.machine_types.len(),
            "device_types": lock.device_types.len(),
            "bytes": text.len(),
        }))
    } else {
        format!(
            "wrote the lock of release {} ({} machine types, {} device types, {} bytes) \
             to {}\n",
            r.name(),
            lock.machine_types.len(),
            lock.device_types.len(),
            text.len(),
            shown(output)
        )
    }))
}

/// The lock read from the QEMU binary `command` runs, written to `output`.
pub(super) fn qemu_lock(
    command: &str,
    types: Option<&[String]>,
    read_back: bool,
    output: &Path,
    json: bool,
) -> Result<Outcome, Failure> {
    use crate::tools::qemu::{read_qemu_with, DeviceValues};
    let how = match read_back {
        true => DeviceValues::ReadBack,
        false => DeviceValues::Best,
    };
    let read = read_qemu_with(command, types, how).map_err(|e| e.to_string())?;
    let lock = &read.lock;
    let text = lock.to_json();
    std::fs::write(output, &text).map_err(|e| format!("{}: {e}", shown(output)))?;
    let unknown: Vec<&str> = lock.unknown.iter().map(|u| u.describe()).collect();
    Ok(Outcome::ok(if json {
        pretty(&json!({
            "file": output.display().to_string(),
            "release": lock.release,
            "machine_types": lock.machine_types.len(),
            "device_types": lock.device_types.len(),
            "bytes": text.len(),
            "unknown": lock.unknown,
            "left_out": read.left_out.iter().map(|(t, why)| json!({"type": t, "why": why})).collect::<Vec<_>>(),
        }))
    } else {
        let mut out = format!(
            "wrote the lock of {} ({} machine types, {} device types, {} bytes) to {}\n",
            lock.release,
            lock.machine_types.len(),
            lock.device_types.len(),
            text.len(),
            shown(output)
        );
        for u in unknown {
            out.push_str(&format!("  not said (the binary does not tell): {u}\n"));
        }
        // QEMU's words come escaped already.
        for (t, why) in &read.left_out {
            out.push_str(&format!("  left out: {}: {why}\n", escaped(t)));
        }
        out
    }))
}

/// The VMState descriptions of release `rel` on `machine` written to
/// `file`, as QEMU's `-dump-vmstate` writes them.
pub(super) fn dump_vmstate(
    catalog: &Catalog,
    rel: Option<&str>,
    machine: &str,
    file: &Path,
    json: bool,
) -> Result<Outcome, Failure> {
    let r = release(catalog, rel)?;
    let text = crate::migration::dump::dump_vmstate(r, machine).map_err(|e| e.to_string())?;
    std::fs::write(file, text).map_err(|e| format!("{}: {e}", shown(file)))?;
    Ok(Outcome::ok(if json {
        pretty(&json!({
            "file": file.display().to_string(),
            "release": r.name(),
            "machine": machine,
        }))
    } else {
        format!(
            "wrote the VMState descriptions of release {}, {machine}, to {}\n",
            r.name(),
            shown(file)
        )
    }))
}
