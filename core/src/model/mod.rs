//! The inventory model: one Rust type per kind, shared by the CLI, the operator and the schema.

mod addressplan;
mod circuit;
mod datacenter;
mod device;
mod lease;
mod meta;
mod net;
mod region;
mod site;
mod system;
mod tenant;

use std::fmt;
use std::path::PathBuf;

pub use addressplan::{AddressPlanSpec, DnsSpec, InfrastructureBlock, NumberRange, PrefixLengths};
pub use circuit::{CircuitEnd, CircuitRole, CircuitSpec, Medium};
pub use datacenter::{DataCenterModel, DataCenterSpec, DataCenterTier, PowerFeed, Rack, Room};
pub use device::{
    AcceptedDeviation, DeviationKind, DeviceRole, DeviceSpec, Interface, Management, Platform,
    RackPlacement,
};
pub use lease::{ColoLeaseSpec, CrossConnect, Entitlement, RackSpace};
pub use meta::{API_VERSION, Exclusion, Manifest, ObjectMeta};
pub use net::{InterfaceAddress, IpAddress, IpPrefix, Ipv4Prefix, Ipv6Prefix};
pub use region::{RegionLevel, RegionSpec, RegionType};
pub use site::{SiteRole, SiteSpec, UplinkPolicy};
pub use system::{DrPolicy, InformationSystemSpec};
pub use tenant::{TenantKind, TenantSpec};

/// Where an object was read from: enough to point a person at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// Index into [`Inventory::files`].
    pub file: u32,
    /// Index of the YAML document within the file (0-based).
    pub doc: u32,
    /// 1-based line of the document's first node.
    pub line: u32,
    /// 1-based column of the document's first node.
    pub column: u32,
}

/// One inventory object: metadata, spec, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Object<S> {
    /// Name, labels and annotations.
    pub metadata: ObjectMeta,
    /// The kind-specific desired state.
    pub spec: S,
    /// Source position.
    pub origin: Origin,
}

impl<S> Object<S> {
    /// The object's name (`metadata.name`).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
}

macro_rules! kinds {
    ($($variant:ident => $field:ident : $spec:ty, $namespaced:expr, $doc:literal;)*) => {
        /// Every kind of inventory object.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind { $(#[doc = $doc] $variant,)* }

        impl Kind {
            /// Every kind, in dependency order (referenced kinds first).
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The `kind:` string.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => stringify!($variant),)* }
            }

            /// Parses a `kind:` string.
            pub fn parse(s: &str) -> Option<Kind> {
                match s { $(stringify!($variant) => Some(Kind::$variant),)* _ => None }
            }

            /// Whether objects of this kind live in a tenant's namespace (Kubernetes scope).
            pub fn namespaced(self) -> bool {
                match self { $(Kind::$variant => $namespaced,)* }
            }

            /// One-line description of the kind.
            pub fn description(self) -> &'static str {
                match self { $(Kind::$variant => $doc,)* }
            }

            /// JSON Schema of the kind's `spec`.
            pub fn spec_schema(self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                match self { $(Kind::$variant => generator.subschema_for::<$spec>(),)* }
            }
        }

        /// A loaded inventory: every object of every kind, in load order.
        #[derive(Debug, Clone, Default)]
        pub struct Inventory {
            /// Source files, indexed by [`Origin::file`].
            pub files: Vec<PathBuf>,
            $(#[doc = $doc] pub $field: Vec<Object<$spec>>,)*
        }

        /// One decoded document of any kind.
        #[derive(Debug, Clone)]
        pub enum AnyObject { $(#[doc = $doc] $variant(Object<$spec>),)* }

        impl AnyObject {
            /// Decodes `spec` for `kind` (a JSON value, or a document's node tree), reporting
            /// the path of any error.
            pub fn decode<'de, D: serde::Deserializer<'de>>(
                kind: Kind,
                metadata: ObjectMeta,
                spec: D,
                origin: Origin,
            ) -> Result<AnyObject, serde_path_to_error::Error<D::Error>> {
                Ok(match kind {
                    $(Kind::$variant => AnyObject::$variant(Object {
                        metadata,
                        spec: serde_path_to_error::deserialize(spec)?,
                        origin,
                    }),)*
                })
            }

            /// The object's kind.
            pub fn kind(&self) -> Kind {
                match self { $(AnyObject::$variant(_) => Kind::$variant,)* }
            }

            /// The object's metadata.
            pub fn metadata(&self) -> &ObjectMeta {
                match self { $(AnyObject::$variant(o) => &o.metadata,)* }
            }

            /// The object's origin.
            pub fn origin(&self) -> Origin {
                match self { $(AnyObject::$variant(o) => o.origin,)* }
            }
        }

        impl Inventory {
            /// Adds a decoded object to the list of its kind.
            pub fn push(&mut self, object: AnyObject) {
                match object { $(AnyObject::$variant(o) => self.$field.push(o),)* }
            }

            /// Number of objects of `kind`.
            pub fn count(&self, kind: Kind) -> usize {
                match kind { $(Kind::$variant => self.$field.len(),)* }
            }

            /// Calls `f` with the kind, metadata and origin of every object and its `spec` as
            /// JSON (the field names of the inventory files), kind by kind in load order: for
            /// checks that must cover every field of every kind, present and future.
            pub fn for_each_spec_json(
                &self,
                mut f: impl FnMut(Kind, &ObjectMeta, Origin, serde_json::Value),
            ) {
                $(for o in &self.$field {
                    let spec = serde_json::to_value(&o.spec).unwrap_or(serde_json::Value::Null);
                    f(Kind::$variant, &o.metadata, o.origin, spec);
                })*
            }

            /// (name, namespace, origin) of every object of `kind`.
            pub fn identities(&self, kind: Kind) -> Vec<(&str, Option<&str>, Origin)> {
                match kind {
                    $(Kind::$variant => self.$field.iter()
                        .map(|o| (o.metadata.name.as_str(), o.metadata.namespace.as_deref(), o.origin))
                        .collect(),)*
                }
            }
        }
    };
}

kinds! {
    Region => regions: RegionSpec, false, "An administrative unit (province, district, commune) from the official GSO list.";
    Site => sites: SiteSpec, false, "A place with network presence: a data center, a hub, a commune office, an agency.";
    DataCenter => data_centers: DataCenterSpec, false, "Facility detail of a datacenter site: tier, DR peer, rooms, racks and power.";
    Device => devices: DeviceSpec, false, "A router, switch, firewall or CPE.";
    Circuit => circuits: CircuitSpec, false, "A WAN link between two device interfaces.";
    AddressPlan => address_plans: AddressPlanSpec, false, "The city's IPv6-first address plan and number pools.";
    Tenant => tenants: TenantSpec, false, "An agency (sở, ban, ngành; a commune committee) that owns systems or rents space.";
    ColoLease => colo_leases: ColoLeaseSpec, true, "Co-location space rented to a tenant in a data center.";
    InformationSystem => information_systems: InformationSystemSpec, true, "An information system hosted in a data center, with its security level and DR policy.";
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Inventory {
    /// Total number of objects.
    pub fn len(&self) -> usize {
        Kind::ALL.iter().map(|k| self.count(*k)).sum()
    }

    /// Whether the inventory holds no object at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
