//! What a release is made of and why: `machines`, `types`, `device-help`
//! and `explain`.

use super::args::MachineArgs;
use super::output::{device_json, explanation_json, machines_json, pretty, type_list};
use super::{release, Failure, Outcome};
use crate::text::escape::escaped;
use crate::tools::catalog::Catalog;

/// The machine types of release `rel` (the newest when `None`), as `-M
/// help` lists them.
pub(super) fn machines(
    catalog: &Catalog,
    rel: Option<&str>,
    json: bool,
) -> Result<Outcome, Failure> {
    let r = release(catalog, rel)?;
    Ok(Outcome::ok(if json {
        pretty(&machines_json(r))
    } else {
        r.machine_help()
    }))
}

/// The device types of release `rel` with their parents.
pub(super) fn types(catalog: &Catalog, rel: Option<&str>, json: bool) -> Result<Outcome, Failure> {
    let r = release(catalog, rel)?;
    Ok(Outcome::ok(type_list(r.registry(), json)))
}

/// The properties of device type `driver` of release `rel`, as `-device
/// TYPE,help` prints them.
pub(super) fn device_help(
    catalog: &Catalog,
    driver: &str,
    rel: Option<&str>,
    json: bool,
) -> Result<Outcome, Failure> {
    let r = release(catalog, rel)?;
    let help = r.registry().help(driver).map_err(|e| e.to_string())?;
    let ty = r.registry().lookup(driver).map_err(|e| e.to_string())?;
    Ok(Outcome::ok(if json {
        pretty(&device_json(ty))
    } else {
        help
    }))
}

/// `DEVICE_ID.PROPERTY` explained on the machine the options describe.
pub(super) fn explain(
    catalog: &Catalog,
    args: &MachineArgs,
    target: &str,
    json: bool,
) -> Result<Outcome, Failure> {
    let (device, property) = target
        .rsplit_once('.')
        .filter(|(d, p)| !d.is_empty() && !p.is_empty())
        .ok_or_else(|| format!("expected DEVICE_ID.PROPERTY, got '{}'", escaped(target)))?;
    let m = args.start(catalog)?;
    let e = m.explain(device, property).map_err(|e| e.to_string())?;
    let text = if json {
        pretty(&explanation_json(&e))
    } else {
        format!("{e}  in short: {}\n", e.summary())
    };
    Ok(Outcome {
        warnings: m.warnings.clone(),
        ..Outcome::ok(text)
    })
}
