//! Region: an official administrative unit (province, district, commune).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::meta::Exclusion;

/// Level of an administrative unit. Districts were abolished on 2025-07-01.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RegionLevel {
    /// Province or centrally governed city (tỉnh, thành phố trực thuộc trung ương).
    Province,
    /// District level (quận, huyện, thị xã, thành phố thuộc tỉnh) — before the 2025 reform.
    District,
    /// Commune level (phường, xã, thị trấn, đặc khu).
    Commune,
}

impl RegionLevel {
    /// Number of digits of a GSO code at this level.
    pub fn code_digits(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::District => 3,
            RegionLevel::Commune => 5,
        }
    }
}

/// Official type of an administrative unit, in Vietnamese as the GSO lists publish it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum RegionType {
    /// Province (tỉnh).
    #[serde(rename = "tỉnh")]
    Tinh,
    /// City: centrally governed at province level, or a provincial city at district level (thành phố).
    #[serde(rename = "thành phố")]
    ThanhPho,
    /// Urban district (quận).
    #[serde(rename = "quận")]
    Quan,
    /// Rural district (huyện).
    #[serde(rename = "huyện")]
    Huyen,
    /// District-level town (thị xã).
    #[serde(rename = "thị xã")]
    ThiXa,
    /// Ward (phường).
    #[serde(rename = "phường")]
    Phuong,
    /// Commune (xã).
    #[serde(rename = "xã")]
    Xa,
    /// Township (thị trấn), abolished in 2025.
    #[serde(rename = "thị trấn")]
    ThiTran,
    /// Special zone (đặc khu): island units after 2025.
    #[serde(rename = "đặc khu")]
    DacKhu,
}

impl RegionType {
    /// The Vietnamese word, as written in inventories and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionType::Tinh => "tỉnh",
            RegionType::ThanhPho => "thành phố",
            RegionType::Quan => "quận",
            RegionType::Huyen => "huyện",
            RegionType::ThiXa => "thị xã",
            RegionType::Phuong => "phường",
            RegionType::Xa => "xã",
            RegionType::ThiTran => "thị trấn",
            RegionType::DacKhu => "đặc khu",
        }
    }

    /// Parses the Vietnamese word (case-insensitive), as the GSO CSV writes it.
    pub fn parse_vi(s: &str) -> Option<Self> {
        let lower = s.trim().to_lowercase();
        [
            RegionType::Tinh,
            RegionType::ThanhPho,
            RegionType::Quan,
            RegionType::Huyen,
            RegionType::ThiXa,
            RegionType::Phuong,
            RegionType::Xa,
            RegionType::ThiTran,
            RegionType::DacKhu,
        ]
        .into_iter()
        .find(|t| t.as_str() == lower)
    }

    /// Levels at which this type may appear.
    pub fn fits_level(self, level: RegionLevel) -> bool {
        use RegionLevel::*;
        match self {
            RegionType::Tinh => level == Province,
            RegionType::ThanhPho => level == Province || level == District,
            RegionType::Quan | RegionType::Huyen | RegionType::ThiXa => level == District,
            RegionType::Phuong | RegionType::Xa | RegionType::ThiTran | RegionType::DacKhu => {
                level == Commune
            }
        }
    }
}

/// An administrative unit from the official GSO list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegionSpec {
    /// Official name with diacritics, e.g. `Phường Ba Đình`.
    pub display_name: String,
    /// Official GSO code, zero-padded: 2 digits for a province, 3 for a district, 5 for a commune.
    /// Quote it in YAML (`code: "00004"`) so leading zeros survive.
    pub code: String,
    /// Administrative level.
    pub level: RegionLevel,
    /// Official type (`phường`, `xã`, `đặc khu`, …).
    #[serde(rename = "type")]
    pub region_type: RegionType,
    /// Name of the parent Region (a commune's district or province). Empty for a province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Set when the unit is deliberately outside the coverage targets, with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded: Option<Exclusion>,
}
