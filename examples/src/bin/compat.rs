//! `compat`: the command-line face of the framework, on the example
//! releases that re-enact the seeds.
//!
//! QEMU's single-dash options are accepted as they are written for QEMU:
//! `-device`, `-global`, `-cpu`, `-smp` (and `-M`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use compat_core::cmdline::{parse_device, parse_global};
use compat_core::{MachineConfig, Release, TypeRegistry};
use compat_examples::{devices, matrix, releases};

#[derive(Parser)]
#[command(
    name = "compat",
    version,
    about = "Declarative devices and migration compatibility, on the example releases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How a machine is started: QEMU's options.
#[derive(Args, Clone)]
struct MachineArgs {
    /// The release (3.1, 4.2, 5.0, 5.1, 5.2, 7.2, 8.0, 8.0.1, 8.2).
    #[arg(long)]
    release: String,
    /// The machine type (`-M`).
    #[arg(short = 'M', long = "machine")]
    machine: Option<String>,
    /// `-device DRIVER[,id=ID][,PROP=VALUE...]`, repeatable.
    #[arg(long = "device")]
    devices: Vec<String>,
    /// `-global DRIVER.PROPERTY=VALUE`, repeatable.
    #[arg(long = "global")]
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

#[derive(Subcommand)]
enum Command {
    /// The seeds' migration matrix: every pair of releases, every machine
    /// type, a real save and load each (the README's demo).
    Matrix {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// Only this machine type.
        #[arg(short = 'M', long = "machine")]
        machine: Option<String>,
    },
    /// The machine types of a release, as `-M help` lists them.
    Machines {
        /// The release.
        #[arg(long)]
        release: String,
    },
    /// Why a property has its value: `DEVICE_ID.PROPERTY` on the machine
    /// the options describe.
    Explain {
        #[command(flatten)]
        machine: MachineArgs,
        /// `DEVICE_ID.PROPERTY` (a device id, label or type name).
        target: String,
    },
    /// Predict a migration in both directions without running it.
    Check {
        /// The first release.
        #[arg(long)]
        from: String,
        /// The second release.
        #[arg(long)]
        to: String,
        /// The machine type.
        #[arg(short = 'M', long = "machine")]
        machine: String,
        /// `-device` options, given to both sides.
        #[arg(long = "device")]
        devices: Vec<String>,
        /// `-global` options, given to both sides.
        #[arg(long = "global")]
        globals: Vec<String>,
        /// vCPUs.
        #[arg(long, default_value_t = 1)]
        smp: u16,
        /// More `-device` strings.
        extra_devices: Vec<String>,
    },
    /// Start a machine and save its devices' state to a stream file.
    Save {
        #[command(flatten)]
        machine: MachineArgs,
        /// The stream file to write.
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// Start a machine and load a stream file into it (exit 1 with the
    /// precise error if the load fails).
    Load {
        #[command(flatten)]
        machine: MachineArgs,
        /// The stream file.
        file: PathBuf,
    },
    /// Write a release's VMState descriptions as QEMU's `-dump-vmstate`.
    DumpVmstate {
        /// The release.
        #[arg(long)]
        release: String,
        /// The machine type.
        #[arg(short = 'M', long = "machine")]
        machine: String,
        /// The JSON file to write.
        file: PathBuf,
    },
    /// Read a migration stream (QEMU's or ours) and print its sections.
    Analyze {
        /// The stream file.
        file: PathBuf,
        /// Print what `analyze-migration.py -f FILE` prints.
        #[arg(long)]
        json: bool,
    },
    /// List the newest example device types with their parents.
    Types,
    /// Print a device type's properties, as `-device TYPE,help` does.
    DeviceHelp {
        /// The device type name.
        driver: String,
    },
}

/// QEMU's single-dash long options as clap's double-dash ones.
fn qemu_style(args: impl Iterator<Item = String>) -> Vec<String> {
    args.map(|a| match a.as_str() {
        "-device" | "-global" | "-cpu" | "-smp" | "-machine" => format!("-{a}"),
        _ => a,
    })
    .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(qemu_style(std::env::args()));
    match run(cli.command) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("compat: {message}");
            ExitCode::FAILURE
        }
    }
}

fn release(name: &str) -> Result<Release, String> {
    releases::release(name).map_err(|e| e.to_string())
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

fn run(command: Command) -> Result<String, String> {
    match command {
        Command::Matrix { json, machine } => matrix_command(json, machine.as_deref()),
        Command::Machines { release: r } => Ok(release(&r)?.machine_help()),
        Command::Explain { machine, target } => explain(&machine, &target),
        Command::Check {
            from,
            to,
            machine,
            mut devices,
            globals,
            smp,
            extra_devices,
        } => {
            devices.extend(extra_devices);
            let config = config(&machine, &devices, &globals, None, "", smp)?;
            check(&from, &to, &config)
        }
        Command::Save { machine, output } => {
            let r = release(&machine.release)?;
            let mut m = r
                .instantiate_config(&machine.config(&r)?)
                .map_err(|e| e.to_string())?;
            let bytes = m.save().map_err(|e| e.to_string())?;
            std::fs::write(&output, &bytes).map_err(|e| format!("{}: {e}", output.display()))?;
            Ok(format!(
                "saved {} device sections of {} ({} bytes) to {}\n",
                m.devices
                    .iter()
                    .filter(|d| d.object.type_info().vmstate.is_some())
                    .count(),
                m.machine_type.name,
                bytes.len(),
                output.display()
            ))
        }
        Command::Load { machine, file } => {
            let r = release(&machine.release)?;
            let mut m = r
                .instantiate_config(&machine.config(&r)?)
                .map_err(|e| e.to_string())?;
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let report = m
                .load(&bytes)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            Ok(format!(
                "loaded {} device sections into {} (release {})\n",
                report.sections,
                m.machine_type.name,
                r.name()
            ))
        }
        Command::DumpVmstate {
            release: rel,
            machine,
            file,
        } => {
            let r = release(&rel)?;
            let text = compat_core::dump::dump_vmstate(&r, &machine).map_err(|e| e.to_string())?;
            std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
            Ok(format!(
                "wrote the VMState descriptions of release {rel}, {machine}, to {}\n",
                file.display()
            ))
        }
        Command::Analyze { file, json } => analyze(&file, json),
        Command::Types => Ok(types(&devices::registry().map_err(|e| e.to_string())?)),
        Command::DeviceHelp { driver } => Ok(devices::registry()
            .map_err(|e| e.to_string())?
            .lookup(&driver)
            .map_err(|e| e.to_string())?
            .help()),
    }
}

/// `DEVICE_ID.PROPERTY` explained on the machine the options describe.
fn explain(args: &MachineArgs, target: &str) -> Result<String, String> {
    let r = release(&args.release)?;
    let (device, property) = target
        .rsplit_once('.')
        .filter(|(d, p)| !d.is_empty() && !p.is_empty())
        .ok_or_else(|| format!("expected DEVICE_ID.PROPERTY, got '{target}'"))?;
    let m = r
        .instantiate_config(&args.config(&r)?)
        .map_err(|e| e.to_string())?;
    let e = m.explain(device, property).map_err(|e| e.to_string())?;
    Ok(format!("{e}  in short: {}\n", e.summary()))
}

/// Both directions between two releases, predicted.
fn check(from: &str, to: &str, config: &MachineConfig) -> Result<String, String> {
    let (a, b) = (release(from)?, release(to)?);
    let mut out = String::new();
    for (src, dst) in [(&a, &b), (&b, &a)] {
        let p = matrix::predict(src, config, dst, config);
        out.push_str(&format!(
            "{} -> {} on {}: {p}",
            src.name(),
            dst.name(),
            config.machine
        ));
    }
    Ok(out)
}

/// The migration matrix, all of it or one machine type's table.
fn matrix_command(json: bool, machine: Option<&str>) -> Result<String, String> {
    let (tables, scenarios) = match machine {
        None => (matrix::matrix(), matrix::scenarios()),
        Some(m) => {
            let all = releases::all();
            if !all.iter().any(|r| r.machine(m).is_ok()) {
                let names = matrix::machine_names(&all);
                return Err(format!(
                    "no release knows machine type '{m}'{}",
                    compat_core::suggest::did_you_mean(m, names.iter().map(String::as_str))
                ));
            }
            (vec![matrix::machine_matrix(&all, m)], Vec::new())
        }
    };
    if json {
        let mut text = serde_json::to_string_pretty(&matrix::to_json(&tables, &scenarios))
            .map_err(|e| e.to_string())?;
        text.push('\n');
        Ok(text)
    } else {
        Ok(matrix::render(&tables, &scenarios))
    }
}

/// The sections of a stream file, or its `analyze-migration.py` JSON.
fn analyze(file: &Path, json: bool) -> Result<String, String> {
    use compat_core::stream::qemu::{analyze_text, Body, QemuStream};
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let stream = QemuStream::parse(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    if json {
        return Ok(analyze_text(&stream.analyze()));
    }
    let mut out = format!(
        "{}: QEMU migration stream, version 3, {} bytes\nmachine type: {}\n",
        file.display(),
        bytes.len(),
        stream.machine().unwrap_or("(no configuration section)")
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
            h.idstr, h.instance_id, h.version_id
        ));
    }
    match &stream.vmdesc {
        Some(v) => out.push_str(&format!("vmdesc trailer: {} bytes of JSON\n", v.raw.len())),
        None => out.push_str("no vmdesc trailer\n"),
    }
    Ok(out)
}

fn types(registry: &TypeRegistry) -> String {
    let mut out = String::new();
    for ty in registry.types() {
        let parent = ty.parent.map(|p| p.name).unwrap_or("-");
        let flags = if ty.is_abstract { " (abstract)" } else { "" };
        out.push_str(&format!("{:<20} parent {parent}{flags}\n", ty.name));
    }
    out
}
