//! Kubernetes naming and scope of each inventory kind: the table CRDs and RBAC are built from.

use hatang_core::model::{API_VERSION, Kind};

/// API group of every hatang resource.
pub const GROUP: &str = "hatang.io";

/// Whether a resource lives in a namespace (tenant kinds) or cluster-wide (infrastructure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Infrastructure owned by the city: Region, Site, DataCenter, Device, Circuit, AddressPlan, Tenant.
    Cluster,
    /// Owned by a tenant, in the tenant's namespace: ColoLease, InformationSystem.
    Namespaced,
}

/// How a kind is named in the Kubernetes API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceNames {
    /// `Kind`.
    pub kind: &'static str,
    /// Lowercase plural used in URLs (`colocleases`).
    pub plural: String,
    /// Short names for kubectl (`cl`).
    pub short_names: Vec<&'static str>,
    /// Categories (`kubectl get hatang`).
    pub categories: Vec<&'static str>,
    /// Scope.
    pub scope: Scope,
}

/// Names and scope of `kind` as a custom resource.
pub fn resource_names(kind: Kind) -> ResourceNames {
    let short: &[&'static str] = match kind {
        Kind::Region => &["rgn"],
        Kind::Site => &["hsite"],
        Kind::DataCenter => &["dc"],
        Kind::Device => &["dev"],
        Kind::Circuit => &["ckt"],
        Kind::AddressPlan => &["ap"],
        Kind::Tenant => &["tnt"],
        Kind::ColoLease => &["cl"],
        Kind::InformationSystem => &["is"],
        Kind::PlanTarget => &["pt"],
    };
    ResourceNames {
        kind: kind.as_str(),
        plural: format!("{}s", kind.as_str().to_lowercase()),
        short_names: short.to_vec(),
        categories: vec!["hatang"],
        scope: if kind.namespaced() {
            Scope::Namespaced
        } else {
            Scope::Cluster
        },
    }
}

/// `apiVersion` of the custom resources (same as inventory files).
pub fn api_version() -> &'static str {
    API_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tenant_kinds_are_namespaced_and_the_rest_cluster_scoped() {
        for &k in Kind::ALL {
            let n = resource_names(k);
            let tenant_kind = matches!(k, Kind::ColoLease | Kind::InformationSystem);
            assert_eq!(n.scope == Scope::Namespaced, tenant_kind, "{k}");
        }
    }

    #[test]
    fn plurals_and_short_names_are_unique() {
        let mut seen = HashSet::new();
        for &k in Kind::ALL {
            let n = resource_names(k);
            assert!(seen.insert(n.plural.clone()), "{}", n.plural);
            for s in n.short_names {
                assert!(seen.insert(s.to_owned()), "{s}");
            }
        }
        assert_eq!(resource_names(Kind::ColoLease).plural, "cololeases");
        assert!(api_version().starts_with(GROUP));
    }
}
