//! Diagnostics: problems found in an inventory, each pointing at a file, line and column, and
//! naming what it concerns as data (an [`ObjectRef`] and [`Subject`]s) so that callers act on
//! findings without reading their messages.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::model::{Kind, Object};

/// How bad a problem is: errors make an inventory invalid; warnings and findings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The inventory is malformed; nothing may be planned or applied from it.
    Error,
    /// Worth a look (an expiring lease, a coverage gap) but not blocking.
    Warning,
    /// The estate falls short of policy (a [`FindingKind`]): a fact to count and report, never
    /// a reason to refuse figures, plans or configurations. `validate --deny` gates on it.
    Finding,
}

impl Severity {
    /// The lowercase name, as text and JSON output spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Finding => "finding",
        }
    }
}

macro_rules! finding_kinds {
    ($($variant:ident => $code:literal, $doc:literal;)*) => {
        /// The ways an estate falls short of policy. Each is a diagnostic code of its own, so
        /// CI gates (`validate --deny KIND`) and reports select findings by kind.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum FindingKind { $(#[doc = $doc] $variant,)* }

        impl FindingKind {
            /// Every kind of finding.
            pub const ALL: &'static [FindingKind] = &[$(FindingKind::$variant,)*];

            /// The diagnostic code (kebab-case).
            pub fn code(self) -> &'static str {
                match self { $(FindingKind::$variant => $code,)* }
            }

            /// What the finding means, for help texts.
            pub fn description(self) -> &'static str {
                match self { $(FindingKind::$variant => $doc,)* }
            }

            /// The kind whose code is `code`.
            pub fn from_code(code: &str) -> Option<FindingKind> {
                match code { $($code => Some(FindingKind::$variant),)* _ => None }
            }
        }
    };
}

finding_kinds! {
    MissingPrimaryCircuit => "missing-primary-circuit", "A commune office that is not excluded has no primary circuit.";
    MissingBackupCircuit => "missing-backup-circuit", "A commune office that is not excluded has no backup circuit.";
    NoWanLink => "no-wan-link", "A commune office that is not excluded has no circuit at all.";
    SystemWithoutReplica => "system-without-replica", "An information system at security level 3+ has no DR policy.";
    ReplicaNotSeparate => "replica-not-separate", "A DR replica shares the data center (or, in a single data center, the rack or the only feed) with its system.";
    LeaseExpired => "lease-expired", "A co-location lease whose end date has passed.";
    LevelNotApproved => "level-not-approved", "An information system whose security level has no approval (date and approving body).";
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for FindingKind {
    type Err = UnknownFindingKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FindingKind::from_code(s).ok_or_else(|| UnknownFindingKind(s.to_owned()))
    }
}

/// A name that is no [`FindingKind`]'s code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a kind of finding (known: {known})", known = known_finding_kinds())]
pub struct UnknownFindingKind(pub String);

fn known_finding_kinds() -> String {
    let codes: Vec<&str> = FindingKind::ALL.iter().map(|k| k.code()).collect();
    codes.join(", ")
}

/// A position in a source file (1-based line and column, columns counted in characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// Path of the file as it was given or found.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Another place that explains a diagnostic (the first definition of a duplicate, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    /// What this place is.
    pub message: String,
    /// Where it is.
    pub location: Location,
}

/// An inventory object by identity: kind, name and (for tenant kinds) namespace. Displayed as
/// `Kind/name`, the form messages and `--output json` use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// The object's kind.
    pub kind: Kind,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, when the object has one.
    pub namespace: Option<String>,
}

impl ObjectRef {
    /// The object `kind`/`name`, without a namespace.
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        ObjectRef {
            kind,
            name: name.into(),
            namespace: None,
        }
    }

    /// The same object in `namespace`.
    pub fn in_namespace(mut self, namespace: Option<impl Into<String>>) -> Self {
        self.namespace = namespace.map(Into::into);
        self
    }

    /// The identity of an inventory object of `kind`.
    pub fn of<S>(kind: Kind, object: &Object<S>) -> Self {
        ObjectRef::new(kind, object.name()).in_namespace(object.metadata.namespace.as_deref())
    }

    /// Whether this is the object `kind`/`name` (in any namespace).
    pub fn is(&self, kind: Kind, name: &str) -> bool {
        self.kind == kind && self.name == name
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

impl Serialize for ObjectRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ObjectRef", 3)?;
        s.serialize_field("kind", self.kind.as_str())?;
        s.serialize_field("name", &self.name)?;
        if let Some(ns) = &self.namespace {
            s.serialize_field("namespace", ns)?;
        } else {
            s.skip_field("namespace")?;
        }
        s.end()
    }
}

/// Something a finding names besides the object it is reported on: another object, or a part
/// of one (a rack, a power feed, an interface) that has no object of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Subject {
    /// An inventory object (the lease on a rack, the circuit already using an interface, …).
    Object(ObjectRef),
    /// A rack of a data center (rack names are unique per data center, across rooms).
    #[serde(rename_all = "camelCase")]
    Rack {
        /// The DataCenter's name.
        data_center: String,
        /// The rack's name.
        rack: String,
    },
    /// A room of a data center.
    #[serde(rename_all = "camelCase")]
    Room {
        /// The DataCenter's name.
        data_center: String,
        /// The room's name.
        room: String,
    },
    /// A power feed of a data center.
    #[serde(rename_all = "camelCase")]
    Feed {
        /// The DataCenter's name.
        data_center: String,
        /// The feed's name.
        feed: String,
    },
    /// An interface of a device.
    Interface {
        /// The Device's name.
        device: String,
        /// The interface's name.
        interface: String,
    },
}

impl Subject {
    /// The rack `rack` of DataCenter `data_center`.
    pub fn rack(data_center: &str, rack: &str) -> Self {
        Subject::Rack {
            data_center: data_center.to_owned(),
            rack: rack.to_owned(),
        }
    }

    /// The object `kind`/`name`.
    pub fn object(kind: Kind, name: &str) -> Self {
        Subject::Object(ObjectRef::new(kind, name))
    }
}

/// Codes other crates act on, spelled once: the rule that reports them and the methods below
/// that classify them use these constants.
pub mod codes {
    /// A lease whose end date has passed (a [`super::FindingKind::LeaseExpired`] finding).
    pub const LEASE_EXPIRED: &str = "lease-expired";
    /// A lease that ends within the warning window.
    pub const LEASE_EXPIRING: &str = "lease-expiring";
    /// Text with a control character, which could inject configuration lines.
    pub const CONTROL_CHARACTER: &str = "control-character";
}

/// Where a lease stands, for diagnostics about its end date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseEnd {
    /// The lease has ended.
    Expired,
    /// The lease ends soon.
    Expiring,
}

/// One problem, with where it is, which object it concerns and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable machine-readable code, e.g. `dangling-reference`.
    pub code: &'static str,
    /// What is wrong, naming the objects involved.
    pub message: String,
    /// Where it is.
    pub location: Option<Location>,
    /// The object concerned.
    pub object: Option<ObjectRef>,
    /// What the message names besides that object: the racks, feeds, interfaces and other
    /// objects involved.
    pub subjects: Vec<Subject>,
    /// What to do about it.
    pub hint: Option<String>,
    /// Other places involved.
    pub related: Vec<Related>,
}

impl Diagnostic {
    /// A new error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            location: None,
            object: None,
            subjects: Vec::new(),
            hint: None,
            related: Vec::new(),
        }
    }

    /// A new finding: the estate falls short of policy in the way `kind` says.
    pub fn finding(kind: FindingKind, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Finding,
            ..Diagnostic::error(kind.code(), message)
        }
    }

    /// A new warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Sets the location.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets the object concerned.
    pub fn object(mut self, object: ObjectRef) -> Self {
        self.object = Some(object);
        self
    }

    /// Adds something the finding names (once, however often the message names it).
    pub fn subject(mut self, subject: Subject) -> Self {
        if !self.subjects.contains(&subject) {
            self.subjects.push(subject);
        }
        self
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a related place.
    pub fn related(mut self, message: impl Into<String>, location: Location) -> Self {
        self.related.push(Related {
            message: message.into(),
            location,
        });
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The kind of policy shortfall, when this is a finding.
    pub fn finding_kind(&self) -> Option<FindingKind> {
        match self.severity {
            Severity::Finding => FindingKind::from_code(self.code),
            Severity::Error | Severity::Warning => None,
        }
    }

    /// Whether the finding concerns `object` (kind, name and namespace alike).
    pub fn concerns(&self, object: &ObjectRef) -> bool {
        self.object.as_ref() == Some(object)
    }

    /// For a finding about a lease's end date: whether it has ended or ends soon.
    pub fn lease_end(&self) -> Option<LeaseEnd> {
        match self.code {
            codes::LEASE_EXPIRED => Some(LeaseEnd::Expired),
            codes::LEASE_EXPIRING => Some(LeaseEnd::Expiring),
            _ => None,
        }
    }

    /// Whether the finding is text that could end a configuration line and start another: a
    /// device with such a finding must not be rendered at all.
    pub fn could_inject_configuration(&self) -> bool {
        self.code == codes::CONTROL_CHARACTER
    }

    /// The racks the finding names.
    pub fn racks(&self) -> impl Iterator<Item = (&str, &str)> {
        self.subjects.iter().filter_map(|s| match s {
            Subject::Rack { data_center, rack } => Some((data_center.as_str(), rack.as_str())),
            _ => None,
        })
    }
}

/// The JSON form (`--output json`): `object` stays the `Kind/name` string it always was, with
/// the structured identity beside it as `objectRef`.
impl Serialize for Diagnostic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Diagnostic", 9)?;
        s.serialize_field("severity", &self.severity)?;
        s.serialize_field("code", self.code)?;
        s.serialize_field("message", &self.message)?;
        match &self.location {
            Some(l) => s.serialize_field("location", l)?,
            None => s.skip_field("location")?,
        }
        match &self.object {
            Some(o) => {
                s.serialize_field("object", &o.to_string())?;
                s.serialize_field("objectRef", o)?;
            }
            None => {
                s.skip_field("object")?;
                s.skip_field("objectRef")?;
            }
        }
        if self.subjects.is_empty() {
            s.skip_field("subjects")?;
        } else {
            s.serialize_field("subjects", &self.subjects)?;
        }
        match &self.hint {
            Some(h) => s.serialize_field("hint", h)?,
            None => s.skip_field("hint")?,
        }
        if self.related.is_empty() {
            s.skip_field("related")?;
        } else {
            s.serialize_field("related", &self.related)?;
        }
        s.end()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        let sev = self.severity.as_str();
        write!(f, "{sev}[{}]: {}", self.code, self.message)?;
        if let Some(obj) = &self.object {
            write!(f, " ({obj})")?;
        }
        for rel in &self.related {
            write!(f, "\n  {}: {}", rel.location, rel.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Orders diagnostics for output: by file, line, column, then code, so runs are reproducible.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        a.location
            .cmp(&b.location)
            .then_with(|| a.code.cmp(b.code))
            .then_with(|| a.message.cmp(&b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_kinds_parse_from_their_codes_only() {
        for k in FindingKind::ALL {
            assert_eq!(k.code().parse::<FindingKind>(), Ok(*k));
        }
        let e = "missing-circuit".parse::<FindingKind>().unwrap_err();
        assert!(e.to_string().contains("missing-backup-circuit"), "{e}");
        assert_eq!(
            serde_json::to_value(Diagnostic::finding(FindingKind::NoWanLink, "x")).unwrap()["severity"],
            "finding"
        );
    }

    #[test]
    fn json_keeps_the_object_string_and_adds_its_parts() {
        let d = Diagnostic::error(codes::LEASE_EXPIRED, "ended")
            .object(ObjectRef::new(Kind::ColoLease, "l").in_namespace(Some("tenant")))
            .subject(Subject::rack("dc-main", "A02"))
            .subject(Subject::object(Kind::Tenant, "t"));
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["object"], "ColoLease/l");
        assert_eq!(
            v["objectRef"],
            serde_json::json!({"kind": "ColoLease", "name": "l", "namespace": "tenant"})
        );
        assert_eq!(
            v["subjects"],
            serde_json::json!([
                {"rack": {"dataCenter": "dc-main", "rack": "A02"}},
                {"object": {"kind": "Tenant", "name": "t"}},
            ])
        );
        assert!(v.get("hint").is_none() && v.get("related").is_none(), "{v}");
        let bare = serde_json::to_value(Diagnostic::warning("x", "y")).unwrap();
        assert_eq!(
            bare,
            serde_json::json!({"severity": "warning", "code": "x", "message": "y"})
        );
    }

    #[test]
    fn findings_are_classified_by_their_rule() {
        let d = |code| Diagnostic::warning(code, "lease-expired in the text is not enough");
        assert_eq!(d(codes::LEASE_EXPIRED).lease_end(), Some(LeaseEnd::Expired));
        assert_eq!(
            d(codes::LEASE_EXPIRING).lease_end(),
            Some(LeaseEnd::Expiring)
        );
        assert_eq!(d("deviation-expired").lease_end(), None);
        assert!(d(codes::CONTROL_CHARACTER).could_inject_configuration());
        // A finding's kind comes from how it was made, not from a warning that shares its code.
        let expired = Diagnostic::finding(FindingKind::LeaseExpired, "ended");
        assert_eq!(expired.code, codes::LEASE_EXPIRED);
        assert_eq!(expired.finding_kind(), Some(FindingKind::LeaseExpired));
        assert_eq!(d(codes::LEASE_EXPIRED).finding_kind(), None);
        assert!(!expired.is_error());
        assert!(!d(codes::LEASE_EXPIRED).could_inject_configuration());
    }
}
