//! How answers are written: JSON pretty-printed, paths escaped, and the
//! JSON (or text) of what the commands report — predictions, findings,
//! machine types, explanations, device types.

use std::path::Path;

use serde_json::{json, Value};

use crate::device::{DeviceTypeInfo, TypeRegistry};
use crate::migration::check::Prediction;
use crate::release::Release;
use crate::resolve::Explanation;
use crate::text::escape::escaped;

pub(super) fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// A path from the command line as it may be printed: control characters
/// and quotes escaped.
pub(super) fn shown(path: &Path) -> String {
    escaped(&path.display().to_string()).to_string()
}

pub(super) fn prediction_json(src: &str, dst: &str, machine: &str, p: &Prediction) -> Value {
    let differences: Vec<Value> = p
        .property_differences
        .iter()
        .map(|d| {
            json!({
                "device": d.device,
                "owner": d.owner,
                "property": d.property,
                "source": d.source,
                "destination": d.destination,
            })
        })
        .collect();
    let flags: Vec<Value> = p
        .flag_differences
        .iter()
        .map(|(f, s, d)| json!({"flag": f, "source": s, "destination": d}))
        .collect();
    json!({
        "src": src,
        "dst": dst,
        "machine": machine,
        "works": p.works,
        "cause": p.cause,
        "device": p.device,
        "fixes": p.fixes,
        "property_differences": differences,
        "flag_differences": flags,
    })
}

/// Findings as `verify --json` and `check --json` print them.
pub(super) fn findings_json(findings: &[crate::migration::verify::Finding]) -> Vec<Value> {
    findings
        .iter()
        .map(|f| {
            json!({
                "kind": f.kind,
                "device": f.device,
                "item": f.item,
                "machines": f.machines,
                "direction": f.direction.to_string(),
                "message": f.message,
                "fixes": f.fixes,
            })
        })
        .collect()
}

pub(super) fn machines_json(r: &Release) -> Value {
    Value::Array(
        r.machines()
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "alias": m.alias,
                    "family": m.family,
                    "version": m.version.map(|v| v.to_string()),
                    "default": m.is_default,
                    "deprecated": m.deprecation,
                    "description": m.description,
                    "compat_sets": m.compat_sets(),
                })
            })
            .collect(),
    )
}

pub(super) fn explanation_json(e: &Explanation) -> Value {
    let steps: Vec<Value> = e
        .steps
        .iter()
        .map(|s| {
            json!({
                "value": s.value.to_string(),
                "kind": s.source.kind(),
                "source": s.source.to_string(),
            })
        })
        .collect();
    json!({
        "device": e.device,
        "type": e.type_name,
        "property": e.property,
        "value": e.value().to_string(),
        "release": e.release,
        "machine": e.machine,
        "steps": steps,
        "summary": e.summary(),
    })
}

pub(super) fn type_list(registry: &TypeRegistry, json: bool) -> String {
    if json {
        return pretty(&Value::Array(
            registry
                .types()
                .map(|ty| {
                    json!({
                        "name": ty.name,
                        "parent": ty.parent.map(|p| p.name),
                        "abstract": ty.is_abstract,
                        "migrates": ty.vmstate.is_some(),
                    })
                })
                .collect(),
        ));
    }
    let mut out = String::new();
    for ty in registry.types() {
        let parent = ty.parent.map(|p| p.name).unwrap_or("-");
        let flags = if ty.is_abstract { " (abstract)" } else { "" };
        out.push_str(&format!("{:<20} parent {parent}{flags}\n", ty.name));
    }
    out
}

pub(super) fn device_json(ty: &'static DeviceTypeInfo) -> Value {
    let properties: Vec<Value> = ty
        .all_properties()
        .map(|(owner, p)| {
            json!({
                "name": p.name,
                "type": p.kind.type_name(),
                "declared_by": owner.name,
                "default": p.has_declared_default().then(|| p.default_value().to_string()),
                "description": p.doc,
            })
        })
        .collect();
    json!({"type": ty.name, "parent": ty.parent.map(|p| p.name), "properties": properties})
}
