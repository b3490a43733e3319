//! A VMM's releases as the tools see them: in order, with the configuration
//! to start each machine type with, and named scenarios of several hops.

use std::fmt;

use crate::migration::check::{self, Prediction, Side};
use crate::release::{Release, UnknownRelease};
use crate::resolve::MachineConfig;
use crate::text::suggest::did_you_mean;

/// How to build the configuration both sides of a matrix cell start with,
/// from the `-M` name.
type ConfigFn = dyn Fn(&str) -> MachineConfig + Send + Sync;

/// A migration of several hops, each a release and the options it starts
/// with (A → B → C).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// What it shows.
    pub title: String,
    /// The hops: release name and configuration.
    pub hops: Vec<(String, MachineConfig)>,
}

impl Scenario {
    /// A scenario with no hops yet.
    pub fn new(title: impl Into<String>) -> Self {
        Scenario {
            title: title.into(),
            hops: Vec::new(),
        }
    }

    /// Add a hop: release `release` started with `config`.
    pub fn hop(mut self, release: impl Into<String>, config: MachineConfig) -> Self {
        self.hops.push((release.into(), config));
        self
    }
}

/// The releases of one VMM, oldest first, and what the tools run on them.
pub struct Catalog {
    name: String,
    version: Option<String>,
    releases: Vec<Release>,
    config: Box<ConfigFn>,
    scenarios: Vec<Scenario>,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("name", &self.name)
            .field("releases", &self.release_names())
            .field("scenarios", &self.scenarios.len())
            .finish_non_exhaustive()
    }
}

impl Catalog {
    /// The catalog of VMM `name` with `releases`, oldest first. Each machine
    /// type starts with no devices until [`with_config`](Self::with_config)
    /// says otherwise.
    pub fn new(name: impl Into<String>, releases: impl IntoIterator<Item = Release>) -> Self {
        Catalog {
            name: name.into(),
            version: None,
            releases: releases.into_iter().collect(),
            config: Box::new(|machine| MachineConfig {
                machine: machine.to_owned(),
                ..MachineConfig::default()
            }),
            scenarios: Vec::new(),
        }
    }

    /// Start the machine type called `-M NAME` with `config(NAME)` on both
    /// sides of each matrix cell.
    pub fn with_config(
        mut self,
        config: impl Fn(&str) -> MachineConfig + Send + Sync + 'static,
    ) -> Self {
        self.config = Box::new(config);
        self
    }

    /// Say the version of the tool (what `--version` prints).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The tool's version, if it has one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Add a scenario.
    pub fn scenario(mut self, scenario: Scenario) -> Self {
        self.scenarios.push(scenario);
        self
    }

    /// The VMM's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The releases, oldest first.
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    /// Their names, oldest first.
    pub fn release_names(&self) -> Vec<String> {
        self.releases.iter().map(|r| r.name().to_owned()).collect()
    }

    /// The newest release.
    pub fn newest(&self) -> Option<&Release> {
        self.releases.last()
    }

    /// The scenarios.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The release called `name`.
    pub fn release(&self, name: &str) -> Result<&Release, UnknownRelease> {
        self.releases
            .iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| UnknownRelease {
                name: name.to_owned(),
                suggestion: did_you_mean(name, self.releases.iter().map(Release::name)),
                known: self.release_names(),
            })
    }

    /// The configuration both sides start with on machine `machine`.
    pub fn config_for(&self, machine: &str) -> MachineConfig {
        (self.config)(machine)
    }

    /// Which side of a migration from `src` to `dst` runs the newer
    /// release, by the catalog's order; `None` for the same release or a
    /// name the catalog does not have.
    pub fn newer(&self, src: &str, dst: &str) -> Option<Side> {
        let at = |name: &str| self.releases.iter().position(|r| r.name() == name);
        match (at(src)?, at(dst)?) {
            (s, d) if s > d => Some(Side::Source),
            (s, d) if s < d => Some(Side::Destination),
            _ => None,
        }
    }

    /// The checker's prediction for a migration between two releases of
    /// the catalog, with fixes aimed at the newer one.
    pub fn predict(
        &self,
        src: &Release,
        src_config: &MachineConfig,
        dst: &Release,
        dst_config: &MachineConfig,
    ) -> Prediction {
        check::check(
            src,
            src_config,
            dst,
            dst_config,
            self.newer(src.name(), dst.name()),
        )
    }
}
