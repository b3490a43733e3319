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
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde_json::{json, Value};

use super::catalog::Catalog;
use super::matrix::{render, to_json};
use crate::codec::input::{read_stream_file, read_text, JSON_FILE_LIMIT, STREAM_FILE_LIMIT};
use crate::device::{DeviceTypeInfo, TypeRegistry};
use crate::migration::check::Prediction;
use crate::property::cmdline::{parse_device, parse_global};
use crate::release::Release;
use crate::resolve::{Explanation, Machine, MachineConfig, ResolveError};
use crate::stream::qemu::{analyze_text, Body, QemuStream};
use crate::text::escape::escaped;
use crate::text::suggest::did_you_mean;

#[derive(Parser)]
#[command(about = "Declarative devices and migration compatibility between releases of a VMM")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How a machine is started: QEMU's options.
#[derive(Args, Clone)]
struct MachineArgs {
    /// The release (the newest when not given).
    #[arg(long)]
    release: Option<String>,
    /// The machine type (`-M`); the release's default when not given.
    #[arg(short = 'M', long = "machine")]
    machine: Option<String>,
    /// `-device DRIVER[,id=ID][,PROP=VALUE...]`, repeatable.
    #[arg(long = "device", value_name = "DEVICE")]
    devices: Vec<String>,
    /// `-global DRIVER.PROPERTY=VALUE`, repeatable.
    #[arg(long = "global", value_name = "GLOBAL")]
    globals: Vec<String>,
    /// `-cpu MODEL[,+FEATURE][,-FEATURE]`.
    #[arg(long)]
    cpu: Option<String>,
    /// The host CPU's features, comma-separated (for `-cpu host`).
    #[arg(long, default_value = "")]
    host: String,
    /// vCPUs.
    #[arg(long, default_value_t = 1)]
    smp: u16,
}

/// A guest as every release of a command starts it: machine type,
/// devices, globals, vCPUs.
#[derive(Args)]
struct GuestArgs {
    /// The machine type (required but where a `-dump-vmstate` file gives it).
    #[arg(short = 'M', long = "machine")]
    machine: Option<String>,
    /// `-device` options, given to every side.
    #[arg(long = "device", value_name = "DEVICE")]
    devices: Vec<String>,
    /// `-global` options, given to every side.
    #[arg(long = "global", value_name = "GLOBAL")]
    globals: Vec<String>,
    /// vCPUs.
    #[arg(long, default_value_t = 1)]
    smp: u16,
    /// More `-device` strings.
    extra_devices: Vec<String>,
}

impl GuestArgs {
    /// The configuration, with `-cpu` `cpu` on a host of features `host`
    /// (comma-separated).
    fn config(&self, cpu: Option<String>, host: &str) -> Result<MachineConfig, String> {
        let mut devices = self.devices.clone();
        devices.extend(self.extra_devices.iter().cloned());
        let machine = self
            .machine
            .as_deref()
            .ok_or("the machine type is required: -M MACHINE")?;
        config(machine, &devices, &self.globals, cpu, host, self.smp)
    }
}

/// Two releases started alike: `--from`, `--to` and one guest, the
/// destination on its own host if told.
#[derive(Args)]
struct PairArgs {
    /// The first release (the source), or a `-dump-vmstate` file or a lock
    /// file in its place.
    #[arg(long)]
    from: String,
    /// The second release (the destination), or a `-dump-vmstate` file or
    /// a lock file in its place.
    #[arg(long)]
    to: String,
    #[command(flatten)]
    guest: GuestArgs,
    /// `-cpu MODEL[,+FEATURE][,-FEATURE]`, given to both sides.
    #[arg(long)]
    cpu: Option<String>,
    /// The source host's CPU features, comma-separated (for `-cpu host`).
    #[arg(long, default_value = "")]
    host: String,
    /// The destination host's CPU features; the source's when not given.
    #[arg(long)]
    dest_host: Option<String>,
    /// The destination's `-cpu`; the source's when not given.
    #[arg(long)]
    dest_cpu: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl PairArgs {
    /// The configuration the source starts with.
    fn config(&self) -> Result<MachineConfig, String> {
        self.guest.config(self.cpu.clone(), &self.host)
    }

    /// The configuration the destination starts with: the source's, on
    /// its own host.
    fn dest_config(&self) -> Result<MachineConfig, String> {
        self.guest.config(
            self.dest_cpu.clone().or_else(|| self.cpu.clone()),
            self.dest_host.as_deref().unwrap_or(&self.host),
        )
    }
}

#[derive(Subcommand)]
enum Command {
    /// Every pair of releases on every machine type, a real save and load
    /// each, then the scenarios.
    Matrix {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// Only this machine type.
        #[arg(short = 'M', long = "machine")]
        machine: Option<String>,
        /// Every source sends a pre-flight: failing cells show the
        /// destination's refusal before any state moves.
        #[arg(long)]
        preflight: bool,
    },
    /// The machine types of a release, as `-M help` lists them.
    Machines {
        /// The release (the newest when not given).
        #[arg(long)]
        release: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Why a property has its value: `DEVICE_ID.PROPERTY` on the machine
    /// the options describe.
    Explain {
        #[command(flatten)]
        machine: MachineArgs,
        /// `DEVICE_ID.PROPERTY` (a device id, label or type name).
        target: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Predict a migration in both directions without running it; exit 1
    /// when either direction fails.
    Check {
        #[command(flatten)]
        pair: PairArgs,
    },
    /// What the destination says to the source's pre-flight: every
    /// difference in configuration, before any state moves; exit 1 when
    /// there is one.
    Preflight {
        #[command(flatten)]
        pair: PairArgs,
    },
    /// Migrate a guest along releases, a real save and load per hop: each
    /// destination checks the source's pre-flight and takes the sticky
    /// values it carries (unless --no-sticky); exit 1 when a hop fails.
    Migrate {
        /// The releases, in order (`8.0,8.0.1,8.2`).
        #[arg(long, value_delimiter = ',', required = true)]
        chain: Vec<String>,
        #[command(flatten)]
        guest: GuestArgs,
        /// Take no sticky value from an incoming migration.
        #[arg(long)]
        no_sticky: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Start a machine and save its devices' state to a stream file.
    Save {
        #[command(flatten)]
        machine: MachineArgs,
        /// The stream file to write.
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Start a machine and load a stream file into it; exit 1 with the
    /// precise error if the load fails.
    Load {
        #[command(flatten)]
        machine: MachineArgs,
        /// The stream file.
        file: PathBuf,
        /// Skip, and count, the sections of parts the release does not model
        /// (RAM, timers, CPUs, the chipset) of a stream real QEMU wrote.
        #[arg(long)]
        skip_unmodeled: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Refuse a file larger than this many bytes.
        #[arg(long, default_value_t = STREAM_FILE_LIMIT)]
        max_bytes: u64,
    },
    /// Write a release's VMState descriptions as QEMU's `-dump-vmstate`.
    DumpVmstate {
        /// The release (the newest when not given).
        #[arg(long)]
        release: Option<String>,
        /// The machine type.
        #[arg(short = 'M', long = "machine")]
        machine: String,
        /// The JSON file to write.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write what a release promises — its machine types, every device
    /// type's resolved properties and VMState — to a lock file, to verify
    /// later releases against.
    Lock {
        /// The release (the newest when not given).
        #[arg(long)]
        release: Option<String>,
        /// The lock file to write.
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify a release against the locks of releases already shipped: every
    /// way a guest would fail to move between them, with the fix; exit 1 on
    /// any finding.
    Verify {
        /// The release to verify (the newest when not given).
        #[arg(long)]
        release: Option<String>,
        /// Lock files of earlier releases (`compat lock`), or `-dump-vmstate`
        /// files (QEMU's or a release's), compared with the release's own.
        #[arg(long = "against", required = true, num_args = 1..)]
        against: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read a migration stream (QEMU's or ours) and print its sections.
    Analyze {
        /// The stream file.
        file: PathBuf,
        /// Print what QEMU's `analyze-migration.py -f FILE` prints.
        #[arg(long)]
        json: bool,
        /// Refuse a file larger than this many bytes.
        #[arg(long, default_value_t = STREAM_FILE_LIMIT)]
        max_bytes: u64,
    },
    /// List a release's device types with their parents.
    Types {
        /// The release (the newest when not given).
        #[arg(long)]
        release: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a device type's properties, as `-device TYPE,help` does.
    DeviceHelp {
        /// The device type name.
        driver: String,
        /// The release (the newest when not given).
        #[arg(long)]
        release: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

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

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value serializes");
    text.push('\n');
    text
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

impl MachineArgs {
    fn config(&self, release: &Release) -> Result<MachineConfig, String> {
        let machine = match &self.machine {
            Some(m) => m.clone(),
            None => release
                .default_machine()
                .map(|m| m.name.clone())
                .ok_or("the release has no default machine type; give -M")?,
        };
        config(
            &machine,
            &self.devices,
            &self.globals,
            self.cpu.clone(),
            &self.host,
            self.smp,
        )
    }

    /// The release and the machine these options start on it.
    fn start<'c>(&self, catalog: &'c Catalog) -> Result<Machine<'c>, Failure> {
        let r = release(catalog, self.release.as_deref())?;
        r.instantiate_config(&self.config(r)?).map_err(|e| match e {
            ResolveError::HelpRequested { text } => Failure::Help(text),
            e => Failure::Trouble(e.to_string()),
        })
    }
}

fn config(
    machine: &str,
    devices: &[String],
    globals: &[String],
    cpu: Option<String>,
    host: &str,
    smp: u16,
) -> Result<MachineConfig, String> {
    Ok(MachineConfig {
        adopted: Vec::new(),
        machine: machine.to_owned(),
        smp,
        host_features: host
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        cpu,
        globals: globals
            .iter()
            .map(|g| parse_global(g).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?,
        devices: devices
            .iter()
            .map(|d| parse_device(d).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?,
    })
}

fn execute(catalog: &Catalog, command: Command) -> Result<Outcome, Failure> {
    match command {
        Command::Matrix {
            json,
            machine,
            preflight,
        } => Ok(matrix(catalog, json, machine.as_deref(), preflight)?),
        Command::Machines { release: r, json } => {
            let r = release(catalog, r.as_deref())?;
            Ok(Outcome::ok(if json {
                pretty(&machines_json(r))
            } else {
                r.machine_help()
            }))
        }
        Command::Explain {
            machine,
            target,
            json,
        } => Ok(explain(catalog, &machine, &target, json)?),
        Command::Check { pair } => {
            if pair.dest_host.is_some() || pair.dest_cpu.is_some() {
                return Err(Failure::Trouble(
                    "check starts both sides alike: --dest-host and --dest-cpu are for preflight"
                        .into(),
                ));
            }
            let (from, to) = (named(catalog, &pair.from)?, named(catalog, &pair.to)?);
            if !matches!((&from, &to), (Named::Release(_), Named::Release(_))) {
                return check_files(from, to, pair.guest.machine.as_deref(), pair.json);
            }
            Ok(check(
                catalog,
                &pair.from,
                &pair.to,
                &pair.config()?,
                pair.json,
            )?)
        }
        Command::Preflight { pair } => preflight(catalog, &pair),
        Command::Migrate {
            chain,
            guest,
            no_sticky,
            json,
        } => migrate_chain(catalog, &chain, &guest.config(None, "")?, no_sticky, json),
        Command::Save {
            machine,
            output,
            json,
        } => {
            let mut m = machine.start(catalog)?;
            let bytes = m.save().map_err(|e| e.to_string())?;
            std::fs::write(&output, &bytes).map_err(|e| format!("{}: {e}", shown(&output)))?;
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
                    shown(&output)
                )
            };
            Ok(Outcome {
                warnings: m.warnings.clone(),
                ..Outcome::ok(text)
            })
        }
        Command::Load {
            machine,
            file,
            skip_unmodeled,
            json,
            max_bytes,
        } => {
            let mut m = machine.start(catalog)?;
            let bytes =
                read_stream_file(&file, max_bytes).map_err(|e| format!("{}: {e}", shown(&file)))?;
            let failed =
                |e: crate::codec::LoadError| Failure::Refused(format!("{}: {e}", shown(&file)));
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
                let text = format!(
                    "{}: {}\nskipped {} sections of parts release {} does not model: {}\n",
                    head(done.loaded.len()),
                    list(&done.loaded),
                    done.skipped.len(),
                    m.release.name(),
                    list(&done.skipped)
                );
                body["loaded"] = json!(done.loaded);
                body["skipped"] = json!(done.skipped);
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
        Command::DumpVmstate {
            release: rel,
            machine,
            file,
            json,
        } => {
            let r = release(catalog, rel.as_deref())?;
            let text =
                crate::migration::dump::dump_vmstate(r, &machine).map_err(|e| e.to_string())?;
            std::fs::write(&file, text).map_err(|e| format!("{}: {e}", shown(&file)))?;
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
                    shown(&file)
                )
            }))
        }
        Command::Analyze {
            file,
            json,
            max_bytes,
        } => Ok(Outcome::ok(analyze(&file, json, max_bytes)?)),
        Command::Verify {
            release: rel,
            against,
            json,
        } => verify(catalog, rel.as_deref(), &against, json),
        Command::Lock {
            release: rel,
            output,
            json,
        } => {
            let r = release(catalog, rel.as_deref())?;
            let lock = crate::migration::lock::Lock::of(r);
            let text = lock.to_json();
            std::fs::write(&output, &text).map_err(|e| format!("{}: {e}", shown(&output)))?;
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
                    shown(&output)
                )
            }))
        }
        Command::Types { release: r, json } => {
            let r = release(catalog, r.as_deref())?;
            Ok(Outcome::ok(types(r.registry(), json)))
        }
        Command::DeviceHelp {
            driver,
            release: r,
            json,
        } => {
            let r = release(catalog, r.as_deref())?;
            let help = r.registry().help(&driver).map_err(|e| e.to_string())?;
            let ty = r.registry().lookup(&driver).map_err(|e| e.to_string())?;
            Ok(Outcome::ok(if json {
                pretty(&device_json(ty))
            } else {
                help
            }))
        }
    }
}

fn machines_json(r: &Release) -> Value {
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

/// `DEVICE_ID.PROPERTY` explained on the machine the options describe.
fn explain(
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

fn explanation_json(e: &Explanation) -> Value {
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

/// Both directions between two releases, predicted.
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
}

/// `text` as a release name, or, when it is a file, the `-dump-vmstate`
/// dump or the lock in it.
fn named<'c>(catalog: &'c Catalog, text: &str) -> Result<Named<'c>, Failure> {
    use crate::migration::dump_check::VmStateDump;
    use crate::migration::lock::Lock;
    let path = Path::new(text);
    if !path.is_file() {
        return Ok(Named::Release(
            catalog.release(text).map_err(|e| e.to_string())?,
        ));
    }
    let content = read_text(path, JSON_FILE_LIMIT).map_err(|e| format!("{}: {e}", shown(path)))?;
    let name = shown(path);
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
    use crate::migration::verify::{indented, verify};
    // A release verified against a lock, in whichever order they come.
    if let (Named::Release(r), Named::Lock(name, lock))
    | (Named::Lock(name, lock), Named::Release(r)) = (&from, &to)
    {
        let findings = verify(r, lock);
        let text = format!(
            "{} against release {} ({name}): {} finding(s)\n{}",
            r.name(),
            lock.release,
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
                "{name}: a lock compares with a release (compat verify --release R --against \
                 {name}), not with a -dump-vmstate file or another lock"
            ))),
        }
    };
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

fn check(
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

/// A guest migrated along `chain`, each hop a real save with a pre-flight
/// and an incoming start that takes sticky values unless `no_sticky`.
fn migrate_chain(
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

/// The pre-flight of `pair.from` as `pair.to` answers it.
fn preflight(catalog: &Catalog, pair: &PairArgs) -> Result<Outcome, Failure> {
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

fn prediction_json(src: &str, dst: &str, machine: &str, p: &Prediction) -> Value {
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

/// The migration matrix, all of it or one machine type's table.
fn matrix(
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

/// Findings as `verify --json` and `check --json` print them.
fn findings_json(findings: &[crate::migration::verify::Finding]) -> Vec<Value> {
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

/// `release` against each lock: a report per lock, findings with fixes.
fn verify(
    catalog: &Catalog,
    rel: Option<&str>,
    against: &[PathBuf],
    json: bool,
) -> Result<Outcome, Failure> {
    use crate::migration::lock::Lock;
    use crate::migration::verify::{own_streams, verify_with};
    let r = release(catalog, rel)?;
    let now = Lock::of(r);
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
            format!("against release {} ({})", lock.release, shown(file)),
            Some(lock.release.clone()),
            verify_with(r, &now, &lock),
        ));
    }
    // The release against itself: every stream it saves, it loads.
    checks.push((None, "against itself".to_owned(), None, own_streams(r)));
    for (file, against, locked_release, findings) in checks {
        total += findings.len();
        text.push_str(&format!(
            "{} {against}: {}\n",
            r.name(),
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
            pretty(&json!({"release": r.name(), "findings": total, "reports": reports}))
        } else {
            text
        },
        warnings: Vec::new(),
        success: total == 0,
    })
}

/// The sections of a stream file, or its `analyze-migration.py` JSON.
fn analyze(file: &Path, json: bool, max_bytes: u64) -> Result<String, String> {
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

fn types(registry: &TypeRegistry, json: bool) -> String {
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

fn device_json(ty: &'static DeviceTypeInfo) -> Value {
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

/// A path from the command line as it may be printed: control characters
/// and quotes escaped.
fn shown(path: &Path) -> String {
    escaped(&path.display().to_string()).to_string()
}
