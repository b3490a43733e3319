//! The command line: the subcommands and the options they share — how a
//! machine is started, a guest every side starts alike, two sides of a
//! migration — and the machine configuration they describe.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::{release, Failure};
use crate::codec::input::STREAM_FILE_LIMIT;
use crate::property::cmdline::{parse_device, parse_global};
use crate::release::Release;
use crate::resolve::{Machine, MachineConfig, ResolveError};
use crate::tools::catalog::Catalog;

#[derive(Parser)]
#[command(about = "Declarative devices and migration compatibility between releases of a VMM")]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

/// How a machine is started: QEMU's options.
#[derive(Args, Clone)]
pub(super) struct MachineArgs {
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
pub(super) struct GuestArgs {
    /// The machine type (required but where a `-dump-vmstate` file gives it).
    #[arg(short = 'M', long = "machine")]
    pub(super) machine: Option<String>,
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
    pub(super) fn config(&self, cpu: Option<String>, host: &str) -> Result<MachineConfig, String> {
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
pub(super) struct PairArgs {
    /// The first release (the source), or a `-dump-vmstate` file or a lock
    /// file in its place.
    #[arg(long)]
    pub(super) from: String,
    /// The second release (the destination), or a `-dump-vmstate` file or
    /// a lock file in its place.
    #[arg(long)]
    pub(super) to: String,
    #[command(flatten)]
    pub(super) guest: GuestArgs,
    /// `-cpu MODEL[,+FEATURE][,-FEATURE]`, given to both sides.
    #[arg(long)]
    cpu: Option<String>,
    /// The source host's CPU features, comma-separated (for `-cpu host`).
    #[arg(long, default_value = "")]
    host: String,
    /// The destination host's CPU features; the source's when not given.
    #[arg(long)]
    pub(super) dest_host: Option<String>,
    /// The destination's `-cpu`; the source's when not given.
    #[arg(long)]
    pub(super) dest_cpu: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub(super) json: bool,
}

impl PairArgs {
    /// The configuration the source starts with.
    pub(super) fn config(&self) -> Result<MachineConfig, String> {
        self.guest.config(self.cpu.clone(), &self.host)
    }

    /// The configuration the destination starts with: the source's, on
    /// its own host.
    pub(super) fn dest_config(&self) -> Result<MachineConfig, String> {
        self.guest.config(
            self.dest_cpu.clone().or_else(|| self.cpu.clone()),
            self.dest_host.as_deref().unwrap_or(&self.host),
        )
    }
}

#[derive(Subcommand)]
pub(super) enum Command {
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
        #[arg(long, conflicts_with = "qemu")]
        release: Option<String>,
        /// Read a real QEMU binary instead: how to run it, as a shell
        /// command (`qemu-system-x86_64`, `chroot ROOT
        /// qemu-system-x86_64`), asked over QMP and with `-dump-vmstate`.
        #[arg(long, value_name = "COMMAND")]
        qemu: Option<String>,
        /// With --qemu: the device types to read (with their ancestors);
        /// every device type when not given.
        #[arg(long, value_delimiter = ',', requires = "qemu")]
        types: Option<Vec<String>>,
        /// With --types: each device's values read back from the device
        /// created on each machine type, even where QEMU lists its machine
        /// types' compat properties — values as the device decided them
        /// when it started (`vectors` from the queue count), comparable
        /// with a lock of QEMU 5.2 or 7.2, which are read so.
        #[arg(long, requires = "types")]
        read_back: bool,
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
        /// The release to verify (the newest when not given), or a lock file
        /// in its place (one `compat lock --qemu` read from a QEMU binary).
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
    pub(super) fn start<'c>(&self, catalog: &'c Catalog) -> Result<Machine<'c>, Failure> {
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
