//! The `matrix` command: every pair of releases on every machine type,
//! then the scenarios.

use super::output::pretty;
use super::Outcome;
use crate::text::escape::escaped;
use crate::text::suggest::did_you_mean;
use crate::tools::catalog::Catalog;
use crate::tools::matrix::{render, to_json};

/// The migration matrix, all of it or one machine type's table.
pub(super) fn matrix(
    catalog: &Catalog,
    json: bool,
    machine: Option<&str>,
    preflight: bool,
) -> Result<Outcome, String> {
    let (tables, scenarios) = match machine {
        None if preflight => (catalog.matrix_with_preflight(), catalog.run_scenarios()),
        None => (catalog.matrix(), catalog.run_scenarios()),
        Some(m) => {
            if !catalog.knows_machine(m) {
                let names = catalog.machine_names();
                return Err(format!(
                    "no release knows machine type '{}'{}",
                    escaped(m),
                    did_you_mean(m, names.iter().map(String::as_str))
                ));
            }
            (vec![catalog.machine_matrix_with(m, preflight)], Vec::new())
        }
    };
    Ok(Outcome::ok(if json {
        pretty(&to_json(&tables, &scenarios))
    } else {
        render(&tables, &scenarios)
    }))
}
