//! DataCenter: facility detail of a datacenter site.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::net::IpAddress;

/// Role of a data center in the city's data-center model. The tiers a city's DataCenters carry
/// declare its model: `main` and `backup` (the main-and-backup model, the default), or one
/// `single` (the single-with-redundancy model: one DC redundant within itself).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DataCenterTier {
    /// The main data center (trung tâm dữ liệu chính).
    Main,
    /// The backup data center (trung tâm dữ liệu dự phòng).
    Backup,
    /// The city's only data center, with redundancy inside it: two WAN edges, two cores, every
    /// rack on two feeds, level-3+ systems replicated on another rack and feed.
    Single,
}

impl DataCenterTier {
    /// kebab-case name as written in inventories.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCenterTier::Main => "main",
            DataCenterTier::Backup => "backup",
            DataCenterTier::Single => "single",
        }
    }
}

/// How a city's data centers protect each other, as declared by their tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DataCenterModel {
    /// Exactly one main and at least one backup data center, paired as DR peers; level-3+
    /// systems replicate to the other data center (Hà Nội, Hải Phòng). The default.
    MainAndBackup,
    /// One data center (tier `single`) with in-DC redundancy (Đà Nẵng 2019–2025).
    SingleWithRedundancy,
}

impl DataCenterModel {
    /// The model the data centers declare: single-with-redundancy as soon as one DataCenter
    /// has tier `single`, otherwise main-and-backup (so nothing is relaxed by leaving it out).
    pub fn declared<'a>(mut tiers: impl Iterator<Item = &'a DataCenterTier>) -> Self {
        if tiers.any(|t| *t == DataCenterTier::Single) {
            DataCenterModel::SingleWithRedundancy
        } else {
            DataCenterModel::MainAndBackup
        }
    }

    /// kebab-case name, as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCenterModel::MainAndBackup => "main-and-backup",
            DataCenterModel::SingleWithRedundancy => "single-with-redundancy",
        }
    }
}

/// A power feed (A or B side) and what it can carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PowerFeed {
    /// Feed name as racks refer to it, e.g. `A`.
    pub name: String,
    /// Capacity in kW. With 2N feeds each feed must carry every rack it serves alone.
    pub capacity_kw: f64,
}

/// A rack: height and power budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rack {
    /// Rack name, unique within the data center, e.g. `A01`.
    pub name: String,
    /// Usable height in rack units.
    #[schemars(range(min = 1, max = 60))]
    pub height_u: u32,
    /// Power budget of the rack in kW.
    pub power_kw: f64,
    /// Power feeds serving the rack (names from `powerFeeds`).
    #[serde(default)]
    pub feeds: Vec<String>,
}

/// A room (data hall) of racks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Room {
    /// Room name, e.g. `P201`.
    pub name: String,
    /// Racks in the room.
    #[serde(default)]
    pub racks: Vec<Rack>,
}

/// Facility detail of a datacenter Site: tier, DR peer, rooms, racks and power.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DataCenterSpec {
    /// Human name with diacritics, e.g. `Trung tâm dữ liệu chính — 185 Giảng Võ`.
    pub display_name: String,
    /// Name of the Site (role `datacenter`) this facility is.
    pub site: String,
    /// `main`, `backup` or `single`; the tiers declare the city's data-center model.
    pub tier: DataCenterTier,
    /// Name of the DataCenter that is this one's DR partner. Required for `main` and `backup`;
    /// a `single` data center has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// Power feeds of the facility.
    #[serde(default)]
    pub power_feeds: Vec<PowerFeed>,
    /// Rooms and their racks.
    #[serde(default)]
    pub rooms: Vec<Room>,
    /// Syslog collectors of the security operations centre (SOC) in this data center; every
    /// device sends its logs to the collectors of all data centers, main first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub soc_collectors: Vec<IpAddress>,
    /// NTP servers in this data center.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ntp_servers: Vec<IpAddress>,
}

impl DataCenterSpec {
    /// Every rack with the room it stands in.
    pub fn racks(&self) -> impl Iterator<Item = (&Room, &Rack)> {
        self.rooms
            .iter()
            .flat_map(|room| room.racks.iter().map(move |rack| (room, rack)))
    }

    /// Looks a rack up by name.
    pub fn rack(&self, name: &str) -> Option<&Rack> {
        self.racks().map(|(_, r)| r).find(|r| r.name == name)
    }
}
