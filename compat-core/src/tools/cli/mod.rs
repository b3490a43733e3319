//! The `compat` command over any [`Catalog`]: a VMM gets its own with
//!
//! ```no_run
//! # fn my_releases() -> Vec<compat_core::Release> { Vec::new() }
//! use compat_core::tools::{cli, Catalog};
//!
//! fn main() -> std::process::ExitCode {
//!     cli::main(&Catalog::new("myvmm-compat", my_releases()))
//! }
//! ```
//!
//! QEMU's single-dash options are accepted as they are written for QEMU:
//! `-device`, `-global`, `-cpu`, `-smp`, `-machine` (and `-M`). Results go
//! to standard output (as JSON with `--json`), errors and warnings to
//! standard error as one line each. Exit status: 0 when the answer is yes
//! (or there is no question), 1 when the answer is a refusal (a stream that
//! does not load, a direction that does not migrate), 2 when the command
//! cannot answer (bad options, an unknown release or machine type, an
//! unreadable file, an argument that is not UTF-8).

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use super::catalog::Catalog;
use crate::release::Release;
use args::{Cli, Command};

mod args;
mod compare;
mod inspect;
mod matrix;
mod output;
mod streams;

/// Why a command gives no answer on standard output.
enum Failure {
    /// It could not answer: bad options, an unknown release or machine
    /// type, an unreadable file (exit 2).
    Trouble(String),
    /// It answered, and the answer is a refusal: the stream does not load
    /// (exit 1).
    Refused(String),
    /// A `-device TYPE,help` asked for the type's properties: they are the
    /// answer, on standard output (exit 0), as in QEMU.
    Help(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Trouble(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::Trouble(message.to_owned())
    }
}

/// What a command produced: its output, warnings, and whether the answer
/// is a success.
struct Outcome {
    text: String,
    warnings: Vec<String>,
    success: bool,
}

impl Outcome {
    fn ok(text: String) -> Self {
        Outcome {
            text,
            warnings: Vec::new(),
            success: true,
        }
    }
}

/// Run the command on `catalog` with the process's arguments, standard
/// output and standard error.
pub fn main(catalog: &Catalog) -> ExitCode {
    let code = run(
        catalog,
        std::env::args_os(),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    );
    ExitCode::from(code)
}

/// Run the command on `catalog` with `args` (the program name first),
/// writing to `stdout` and `stderr`; returns the exit status. A closed
/// output ends the command quietly.
pub fn run(
    catalog: &Catalog,
    args: impl IntoIterator<Item = OsString>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    let name = catalog.name().to_owned();
    let mut strings = Vec::new();
    for (i, arg) in args.into_iter().enumerate() {
        match arg.into_string() {
            Ok(s) => strings.push(s),
            Err(bad) => {
                let _ = writeln!(
                    stderr,
                    "{name}: argument {i} is not valid UTF-8: {}",
                    bad.to_string_lossy().escape_debug()
                );
                return 2;
            }
        }
    }
    let mut command = Cli::command()
        .name(name.clone())
        .bin_name(name.clone())
        .after_help(format!(
            "Releases: {}\n\nExample: {name} matrix --json",
            catalog.release_names().join(", ")
        ));
    if let Some(version) = catalog.version() {
        command = command.version(version.to_owned());
    }
    for (sub, example) in examples(catalog) {
        command =
            command.mut_subcommand(sub, |c| c.after_help(format!("Example: {name} {example}")));
    }
    let cli = match command
        .try_get_matches_from(qemu_style(strings))
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                stderr.write_all(text.as_bytes())
            } else {
                stdout.write_all(text.as_bytes())
            };
            return e.exit_code().clamp(0, 255) as u8;
        }
    };
    match execute(catalog, cli.command) {
        Ok(outcome) => {
            for w in &outcome.warnings {
                let _ = writeln!(stderr, "{name}: warning: {w}");
            }
            // A closed standard output (`| head -1`) is not an error to
            // report; the answer's status stands.
            let _ = stdout.write_all(outcome.text.as_bytes());
            let _ = stdout.flush();
            u8::from(!outcome.success)
        }
        Err(Failure::Refused(message)) => {
            let _ = writeln!(stderr, "{name}: {message}");
            1
        }
        Err(Failure::Trouble(message)) => {
            let _ = writeln!(stderr, "{name}: {message}");
            2
        }
        Err(Failure::Help(text)) => {
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            0
        }
    }
}

/// An example command line per subcommand, made of the catalog's own names:
/// its oldest and newest releases, a machine type both know, and a device
/// type of the newest release with one of its properties.
fn examples(catalog: &Catalog) -> Vec<(&'static str, String)> {
    let names = catalog.release_names();
    let (old, new) = match (names.first(), names.last()) {
        (Some(o), Some(n)) => (o.clone(), n.clone()),
        _ => ("R1".to_owned(), "R2".to_owned()),
    };
    let machine = catalog
        .releases()
        .first()
        .and_then(|r| r.default_machine().or(r.machines().first()))
        .map_or_else(|| "M".to_owned(), |m| m.name.clone());
    let (device, property) = catalog
        .newest()
        .and_then(|r| {
            r.registry()
                .types()
                .filter(|t| !t.is_abstract && t.user_creatable && t.vmstate.is_some())
                .find_map(|t| t.all_properties().next().map(|(_, p)| (t.name, p.name)))
        })
        .unwrap_or(("DEVICE", "PROPERTY"));
    let dev = format!("-device {device},id=dev0");
    vec![
        ("matrix", format!("matrix -M {machine} --json")),
        ("machines", format!("machines --release {new}")),
        (
            "explain",
            format!("explain --release {new} -M {machine} {dev} dev0.{property}"),
        ),
        (
            "check",
            format!("check --from {old} --to {new} -M {machine} {dev}"),
        ),
        (
            "save",
            format!("save --release {old} -M {machine} {dev} -o dev0.mig"),
        ),
        (
            "load",
            format!("load --release {new} -M {machine} {dev} dev0.mig"),
        ),
        (
            "dump-vmstate",
            format!("dump-vmstate --release {new} -M {machine} vmstate.json"),
        ),
        ("analyze", "analyze --json dev0.mig".to_owned()),
        ("lock", format!("lock --release {new} -o {new}.lock.json")),
        (
            "verify",
            format!("verify --release {new} --against {old}.lock.json"),
        ),
        ("types", format!("types --release {new}")),
        ("device-help", format!("device-help {device}")),
    ]
}

/// QEMU's single-dash long options as clap's double-dash ones.
fn qemu_style(args: Vec<String>) -> Vec<String> {
    args.into_iter()
        .map(|a| match a.as_str() {
            "-device" | "-global" | "-cpu" | "-smp" | "-machine" => format!("-{a}"),
            _ => a,
        })
        .collect()
}

/// The release `name`, or the newest.
fn release<'c>(catalog: &'c Catalog, name: Option<&str>) -> Result<&'c Release, String> {
    match name {
        Some(name) => catalog.release(name).map_err(|e| e.to_string()),
        None => catalog
            .newest()
            .ok_or_else(|| "the catalog has no releases".to_owned()),
    }
}

/// Run one subcommand: each has a function of its own.
fn execute(catalog: &Catalog, command: Command) -> Result<Outcome, Failure> {
    match command {
        Command::Matrix {
            json,
            machine,
            preflight,
        } => Ok(matrix::matrix(
            catalog,
            json,
            machine.as_deref(),
            preflight,
        )?),
        Command::Machines { release: r, json } => inspect::machines(catalog, r.as_deref(), json),
        Command::Explain {
            machine,
            target,
            json,
        } => inspect::explain(catalog, &machine, &target, json),
        Command::Check { pair } => compare::check(catalog, &pair),
        Command::Preflight { pair } => compare::preflight(catalog, &pair),
        Command::Migrate {
            chain,
            guest,
            no_sticky,
            json,
        } => streams::migrate_chain(catalog, &chain, &guest.config(None, "")?, no_sticky, json),
        Command::Save {
            machine,
            output,
            json,
        } => streams::save(catalog, &machine, &output, json),
        Command::Load {
            machine,
            file,
            skip_unmodeled,
            json,
            max_bytes,
        } => streams::load(catalog, &machine, &file, skip_unmodeled, json, max_bytes),
        Command::DumpVmstate {
            release: rel,
            machine,
            file,
            json,
        } => compare::dump_vmstate(catalog, rel.as_deref(), &machine, &file, json),
        Command::Analyze {
            file,
            json,
            max_bytes,
        } => Ok(Outcome::ok(streams::analyze(&file, json, max_bytes)?)),
        Command::Verify {
            release: rel,
            against,
            json,
        } => compare::verify(catalog, rel.as_deref(), &against, json),
        Command::Lock {
            qemu: Some(command),
            types,
            read_back,
            output,
            json,
            ..
        } => compare::qemu_lock(&command, types.as_deref(), read_back, &output, json),
        Command::Lock {
            release: rel,
            output,
            json,
            ..
        } => compare::lock(catalog, rel.as_deref(), &output, json),
        Command::Types { release: r, json } => inspect::types(catalog, r.as_deref(), json),
        Command::DeviceHelp {
            driver,
            release: r,
            json,
        } => inspect::device_help(catalog, &driver, r.as_deref(), json),
    }
}
