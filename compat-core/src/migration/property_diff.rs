//! One property of a device as a pre-flight carries it — its value, where
//! the value came from, what its type declares of it — and the one rule
//! that says whether two sides' values are a difference, which the
//! pre-flight and the static checker share.

use serde::{Deserialize, Serialize};

use super::lock::Lock;
use crate::device::DeviceTypeInfo;
use crate::property::values_alike;
use crate::resolve::{DeviceInstance, Setting, Source};

/// One property's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PropertyPreflight {
    /// The property.
    pub name: String,
    /// Its value, as text.
    pub value: String,
    /// For a sticky value the source itself took from an incoming
    /// migration: the release that first gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_set_by: Option<String>,
    /// A setting of the host, which may differ between the two sides
    /// (not compared).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub local: bool,
    /// The compat set of the machine type that gave the value, if one did:
    /// the behaviour of an older release, which a destination that does not
    /// know the property has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
    /// The machine's own options chose the value (a `-global`, or the
    /// device's `-device` options): the configuration asked for, not a
    /// default a release changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chosen: bool,
    /// How a release whose type lacks the property behaved, as its type
    /// declares: a source without the property is no difference while it
    /// holds this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<String>,
    /// Values that behave alike, as its type declares (its default and
    /// the value an older type held): no difference between them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alike: Vec<String>,
}

impl PropertyPreflight {
    /// Property `name` holding `value`, set by compat set `set_by` (or not),
    /// with what type `ty` declares of it (nothing where the type is
    /// unknown): the one way a pre-flight, the checker and `verify` see a
    /// property.
    pub(super) fn declared(
        ty: Option<&'static DeviceTypeInfo>,
        name: &str,
        value: String,
        set_by: Option<String>,
    ) -> PropertyPreflight {
        let def = ty.and_then(|t| t.find_property(name)).map(|(_, def)| def);
        PropertyPreflight::new(
            name,
            value,
            set_by,
            def.is_some_and(|d| d.local) || ty.is_some_and(|t| t.is_inert(name)),
            def.and_then(|d| d.absent_text()),
            def.map(|d| d.alike_texts()).unwrap_or_default(),
        )
    }

    /// [`declared`](Self::declared), with what a lock records of type `ty`
    /// in place of the live type: how `verify` sees a property of a release
    /// it has only the lock of.
    pub(super) fn locked(
        lock: &Lock,
        ty: &str,
        name: &str,
        value: String,
        set_by: Option<String>,
    ) -> PropertyPreflight {
        let def = lock.find_property(ty, name).map(|(_, def)| def);
        PropertyPreflight::new(
            name,
            value,
            set_by,
            def.is_some_and(|d| d.local) || lock.is_inert(ty, name),
            def.and_then(|d| d.absent.clone()),
            def.map(|d| d.alike.clone()).unwrap_or_default(),
        )
    }

    /// Property `name` holding `value`, set by `set_by`, with its
    /// declarations: whether it is `local` (or inert), its `absent`
    /// behaviour and the values that behave `alike`.
    fn new(
        name: &str,
        value: String,
        set_by: Option<String>,
        local: bool,
        absent: Option<String>,
        alike: Vec<String>,
    ) -> PropertyPreflight {
        PropertyPreflight {
            name: name.to_owned(),
            value,
            first_set_by: None,
            local,
            set_by,
            chosen: false,
            absent,
            alike,
        }
    }
}

/// How device `d` (of a machine whose settings came from `sources`) has
/// each of its properties: value, where it came from, and what its type
/// declares of it.
pub(super) fn property_preflights(
    d: &DeviceInstance,
    sources: &[Source],
) -> Vec<PropertyPreflight> {
    let ty = d.object.type_info();
    ty.all_properties()
        .map(|(_, def)| {
            let value = d
                .configured(def.name)
                .map(|v| v.to_string())
                .unwrap_or_default();
            // The last setting decides: an adopted value is passed on with
            // its first release, a compat set's value names the set.
            let last = last_source(&d.settings, def.name).map(|s| &sources[s]);
            let set_by = match last {
                Some(Source::Compat { set, .. }) => Some((*set).to_owned()),
                _ => None,
            };
            PropertyPreflight {
                first_set_by: match last {
                    Some(Source::Adopted { first_set_by }) => Some(first_set_by.clone()),
                    _ => None,
                },
                chosen: matches!(last, Some(Source::Global { .. } | Source::Device { .. })),
                ..PropertyPreflight::declared(Some(ty), def.name, value, set_by)
            }
        })
        .collect()
}

/// Whether a property the source has (`mine`) is a difference from the
/// destination's (`theirs`, `None` when its type lacks it): not when either
/// side's type says it may differ (`local`, `inert`), nor — where the
/// destination lacks it — when a compat set gave the source's value (the
/// older behaviour, which the destination has) or its type says a release
/// without it behaved so (`absent`), nor when the values are equal or
/// declared alike by either side's type.
pub(super) fn source_property_differs(
    mine: &PropertyPreflight,
    theirs: Option<&PropertyPreflight>,
) -> bool {
    if mine.local || theirs.is_some_and(|x| x.local) {
        return false;
    }
    match theirs {
        None => mine.set_by.is_none() && mine.absent.as_ref() != Some(&mine.value),
        Some(x) => {
            !values_alike(&mine.alike, &mine.value, &x.value)
                && !values_alike(&x.alike, &mine.value, &x.value)
        }
    }
}

/// Whether a property only the destination has (`theirs`) is a difference:
/// new behaviour the source never had — unless it is a host setting or
/// without effect, a compat set of the machine type gave the older value,
/// or its type says a release without it behaved so.
pub(super) fn destination_property_differs(theirs: &PropertyPreflight) -> bool {
    !theirs.local && theirs.set_by.is_none() && theirs.absent.as_ref() != Some(&theirs.value)
}

/// Whether a property is a difference the guest sees after the move — the
/// one verdict the pre-flight and the checker give on properties: `mine`
/// is the source's, `theirs` the destination's (`None` where that side's
/// type lacks it).
/// - Both sides have it: whenever the values differ
///   ([`source_property_differs`]).
/// - Only the source has it: whenever it is a difference at all, unless the
///   source's own options chose the value (a user restoring the older
///   behaviour with `-global`, which no declaration can tell from the new).
/// - Only the destination has it: a switch at the value no compat set, no
///   `absent` declaration and no option of the destination chose — new
///   behaviour the source never had, which its opposite would undo.
pub(super) fn guest_sees(
    mine: Option<&PropertyPreflight>,
    theirs: Option<&PropertyPreflight>,
) -> bool {
    match (mine, theirs) {
        (Some(m), Some(_)) => source_property_differs(m, theirs),
        (Some(m), None) => !m.chosen && source_property_differs(m, None),
        (None, Some(t)) => {
            !t.chosen
                && destination_property_differs(t)
                && crate::property::opposite_switch(&t.value).is_some()
        }
        (None, None) => false,
    }
}

/// The source of the last setting of `property`, if any.
fn last_source(settings: &[Setting], property: &str) -> Option<usize> {
    settings
        .iter()
        .rev()
        .find(|s| s.property == property)
        .map(|s| s.source)
}
