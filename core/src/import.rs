//! Region documents from the official GSO administrative-unit lists (CSV as users download them).
//!
//! Two layouts are read: before the 2025 reform (province, district, commune) and after it
//! (province, commune). Island districts without communes (Bạch Long Vĩ, Côn Đảo, …) appear as one
//! row with empty commune columns and become a district with no children.

use std::collections::BTreeSet;

use thiserror::Error;

use crate::model::{Manifest, RegionLevel, RegionSpec, RegionType};
use crate::names::slug;

/// What went wrong reading a GSO list.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The header is neither of the known layouts.
    #[error(
        "unrecognised CSV header `{0}`; expected the GSO layout with province_code,…,commune_type"
    )]
    Header(String),
    /// A row could not be read.
    #[error("line {line}: {message}")]
    Row {
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The CSV itself is malformed.
    #[error("CSV error: {0}")]
    Csv(#[from] csv::Error),
    /// The province filter matched nothing.
    #[error("no rows for province code {0}")]
    NoSuchProvince(u32),
}

/// One row of either layout, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsoUnit {
    /// Province code.
    pub province_code: u32,
    /// Province name with its type word (`Thành phố Hà Nội`).
    pub province_name: String,
    /// District (code, name, type), before 2025 only.
    pub district: Option<(u32, String, String)>,
    /// Commune (code, name, type); absent for island districts without communes.
    pub commune: Option<(u32, String, String)>,
}

/// Reads a GSO CSV text, keeping only `province` if given.
pub fn read_gso_csv(text: &str, province: Option<u32>) -> Result<Vec<GsoUnit>, ImportError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let with_districts = match header.join(",").as_str() {
        "province_code,province_name,district_code,district_name,district_type,commune_code,commune_name,commune_type" => {
            true
        }
        "province_code,province_name,commune_code,commune_name,commune_type" => false,
        other => return Err(ImportError::Header(other.to_owned())),
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let num = |i: usize| -> Result<Option<u32>, ImportError> {
            let s = record.get(i).unwrap_or("").trim();
            if s.is_empty() {
                return Ok(None);
            }
            s.parse().map(Some).map_err(|_| ImportError::Row {
                line,
                message: format!("`{s}` in column {} is not a code", header[i]),
            })
        };
        let text = |i: usize| record.get(i).unwrap_or("").trim().to_owned();
        let Some(pcode) = num(0)? else {
            return Err(ImportError::Row {
                line,
                message: "empty province code".into(),
            });
        };
        if province.is_some_and(|p| p != pcode) {
            continue;
        }
        let (district, c0) = if with_districts {
            let d = num(2)?.map(|c| (c, text(3), text(4)));
            (d, 5)
        } else {
            (None, 2)
        };
        let commune = num(c0)?.map(|c| (c, text(c0 + 1), text(c0 + 2)));
        out.push(GsoUnit {
            province_code: pcode,
            province_name: text(1),
            district,
            commune,
        });
    }
    if let Some(p) = province
        && out.is_empty()
    {
        return Err(ImportError::NoSuchProvince(p));
    }
    Ok(out)
}

/// The object name used for a region: ASCII slug of its name plus its code.
pub fn region_name(display_name: &str, code: &str) -> String {
    format!("{}-{code}", slug(display_name))
}

fn region_type(word: &str, line_hint: &str) -> Result<RegionType, ImportError> {
    RegionType::parse_vi(word).ok_or_else(|| ImportError::Row {
        line: 0,
        message: format!("unknown unit type `{word}` for {line_hint}"),
    })
}

/// Region manifests for the units: provinces, then districts, then communes, each in code order.
pub fn regions_from_units(units: &[GsoUnit]) -> Result<Vec<Manifest<RegionSpec>>, ImportError> {
    let mut provinces = BTreeSet::new();
    let mut districts = BTreeSet::new();
    let mut communes = BTreeSet::new();
    for u in units {
        provinces.insert((u.province_code, u.province_name.clone()));
        if let Some(d) = &u.district {
            districts.insert((d.0, d.1.clone(), d.2.clone(), u.province_code));
        }
        if let Some(c) = &u.commune {
            let parent = match &u.district {
                Some(d) => (RegionLevel::District, d.0),
                None => (RegionLevel::Province, u.province_code),
            };
            communes.insert((c.0, c.1.clone(), c.2.clone(), parent));
        }
    }
    let province_names: std::collections::BTreeMap<u32, String> = provinces
        .iter()
        .map(|(code, name)| (*code, region_name(name, &format!("{code:02}"))))
        .collect();
    let district_names: std::collections::BTreeMap<u32, String> = districts
        .iter()
        .map(|(code, name, ..)| (*code, region_name(name, &format!("{code:03}"))))
        .collect();

    let mut out = Vec::new();
    for (code, name) in &provinces {
        let rtype = if name.starts_with("Thành phố") {
            RegionType::ThanhPho
        } else {
            RegionType::Tinh
        };
        out.push(Manifest::new(
            "Region",
            province_names[code].clone(),
            RegionSpec {
                display_name: name.clone(),
                code: format!("{code:02}"),
                level: RegionLevel::Province,
                region_type: rtype,
                parent: None,
                excluded: None,
            },
        ));
    }
    for (code, name, word, province) in &districts {
        out.push(Manifest::new(
            "Region",
            district_names[code].clone(),
            RegionSpec {
                display_name: name.clone(),
                code: format!("{code:03}"),
                level: RegionLevel::District,
                region_type: region_type(word, name)?,
                parent: Some(province_names[province].clone()),
                excluded: None,
            },
        ));
    }
    for (code, name, word, (level, parent)) in &communes {
        let parent = match level {
            RegionLevel::District => district_names[parent].clone(),
            _ => province_names[parent].clone(),
        };
        out.push(Manifest::new(
            "Region",
            region_name(name, &format!("{code:05}")),
            RegionSpec {
                display_name: name.clone(),
                code: format!("{code:05}"),
                level: RegionLevel::Commune,
                region_type: region_type(word, name)?,
                parent: Some(parent),
                excluded: None,
            },
        ));
    }
    Ok(out)
}

/// Renders manifests as a multi-document YAML stream.
pub fn to_yaml_stream<T: serde::Serialize>(
    docs: &[T],
) -> Result<String, serde_saphyr::ser_error::Error> {
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(doc)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y2024: &str = "province_code,province_name,district_code,district_name,district_type,commune_code,commune_name,commune_type\n\
1,Thành phố Hà Nội,1,Quận Ba Đình,quận,1,Phường Phúc Xá,phường\n\
31,Thành phố Hải Phòng,318,Huyện Bạch Long Vĩ,huyện,,,\n";

    #[test]
    fn reads_2024_layout_with_island_districts() {
        let units = read_gso_csv(Y2024, None).unwrap();
        let regions = regions_from_units(&units).unwrap();
        let names: Vec<_> = regions.iter().map(|r| r.metadata.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "thanh-pho-ha-noi-01",
                "thanh-pho-hai-phong-31",
                "quan-ba-dinh-001",
                "huyen-bach-long-vi-318",
                "phuong-phuc-xa-00001"
            ]
        );
        assert_eq!(regions[4].spec.parent.as_deref(), Some("quan-ba-dinh-001"));
    }

    #[test]
    fn province_filter() {
        let units = read_gso_csv(Y2024, Some(31)).unwrap();
        assert_eq!(units.len(), 1);
        assert!(matches!(
            read_gso_csv(Y2024, Some(99)),
            Err(ImportError::NoSuchProvince(99))
        ));
    }

    #[test]
    fn rejects_other_headers() {
        assert!(matches!(
            read_gso_csv("a,b\n1,2\n", None),
            Err(ImportError::Header(_))
        ));
    }
}
