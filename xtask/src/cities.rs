//! The example cities: which official list, which units, and the names their hand-written files use.

/// How one example inventory is generated.
pub(crate) struct City {
    /// Directory under `inventories/`.
    pub dir: &'static str,
    /// GSO list: `vn-admin-units-2024.csv` (with districts) or `-2025.csv`.
    pub csv: &'static str,
    /// GSO province code.
    pub province: u32,
    /// Keep only these commune codes (and their parents); all when empty.
    pub communes: Vec<u32>,
    /// District hubs between communes and the data centers (pre-2025 layout).
    pub hubs: bool,
    /// Short city tag for circuit ids.
    pub tag: &'static str,
    /// Main DC edge: (device, site, datacenter, rack, position).
    pub main_edge: Edge,
    /// Backup DC edge.
    pub backup_edge: Edge,
    /// First three groups of the management addresses (CPEs `:1::`, hubs `:2::`, edges `:3::`).
    pub mgmt: &'static str,
    /// Interface names: lab devices get plain `ethN` (real veth names), others VLAN sub-interfaces.
    pub lab_names: bool,
    /// Commune codes excluded from the dedicated network, with a reason; served by satellite.
    pub exclusions: &'static [(u32, &'static str)],
    /// Commune codes excluded with a reason that have no office to connect at all: their region
    /// is marked excluded and no site, CPE or circuit is generated.
    pub unserved: &'static [(u32, &'static str)],
}

/// A data-center edge router that the generator fills with one interface per circuit.
pub(crate) struct Edge {
    pub device: &'static str,
    pub site: &'static str,
    pub data_center: &'static str,
    pub rack: &'static str,
    pub position: u32,
    /// Interfaces declared besides the generated ones (metro-network ports the hand-written
    /// files use): (name, description).
    pub ports: &'static [(&'static str, &'static str)],
}

pub(crate) fn all() -> Vec<City> {
    vec![
        City {
            dir: "hanoi",
            csv: "vn-admin-units-2025.csv",
            province: 1,
            communes: vec![],
            hubs: false,
            tag: "HN",
            main_edge: Edge {
                device: "edge-gv-1",
                site: "dc-giang-vo",
                data_center: "dc-giang-vo",
                rack: "A01",
                position: 38,
                ports: &[],
            },
            backup_edge: Edge {
                device: "edge-hl-1",
                site: "dc-hoa-lac",
                data_center: "dc-hoa-lac",
                rack: "B01",
                position: 38,
                ports: &[],
            },
            mgmt: "2001:db8:ff",
            lab_names: false,
            exclusions: &[],
            unserved: &[],
        },
        City {
            dir: "hanoi-2024",
            csv: "vn-admin-units-2024.csv",
            province: 1,
            communes: vec![],
            hubs: true,
            tag: "HN",
            main_edge: Edge {
                device: "edge-gv-1",
                site: "dc-giang-vo",
                data_center: "dc-giang-vo",
                rack: "A01",
                position: 38,
                ports: &[],
            },
            backup_edge: Edge {
                device: "edge-hl-1",
                site: "dc-hoa-lac",
                data_center: "dc-hoa-lac",
                rack: "B01",
                position: 38,
                ports: &[],
            },
            mgmt: "2001:db8:ff",
            lab_names: false,
            exclusions: &[],
            unserved: &[],
        },
        City {
            dir: "haiphong",
            csv: "vn-admin-units-2025.csv",
            province: 31,
            communes: vec![],
            hubs: false,
            tag: "HP",
            main_edge: Edge {
                device: "edge-hb-1",
                site: "dc-hong-bang",
                data_center: "dc-hong-bang",
                rack: "R01",
                position: 40,
                ports: &[],
            },
            backup_edge: Edge {
                device: "edge-tn-1",
                site: "dc-thuy-nguyen",
                data_center: "dc-thuy-nguyen",
                rack: "R01",
                position: 40,
                ports: &[],
            },
            mgmt: "3fff:31:ff",
            lab_names: false,
            exclusions: &[(
                11948,
                "Hai Phong plan 2016–2020: the dedicated data network reaches every commune except Bạch Long Vĩ island; \
the special zone is served by a single VSAT satellite link",
            )],
            unserved: &[],
        },
        // Đà Nẵng after the 2025 merger with Quảng Nam (94 commune-level units). The main
        // inventory models 2025: the units in force since 2025-07-01 are the ones offices are
        // connected in. One data center (tier single) whose two WAN edges terminate the
        // communes (primary on edge-dn-1, backup on edge-dn-2) and close the metro ring
        // (inventories/danang/metro.yaml). In the 2024 list the Hoàng Sa island district has no
        // commune level at all (8 districts, 47 communes in the file); in 2025 it is the Hoàng
        // Sa special zone, excluded here with its reason.
        City {
            dir: "danang",
            csv: "vn-admin-units-2025.csv",
            province: 48,
            communes: vec![],
            hubs: false,
            tag: "DN",
            main_edge: Edge {
                device: "edge-dn-1",
                site: "dc-da-nang",
                data_center: "dc-da-nang",
                rack: "R01",
                position: 38,
                ports: &[
                    ("man0", "metro ring: to agg-hai-chau"),
                    ("man1", "metro ring: in-DC to edge-dn-2"),
                ],
            },
            backup_edge: Edge {
                device: "edge-dn-2",
                site: "dc-da-nang",
                data_center: "dc-da-nang",
                rack: "R02",
                position: 38,
                ports: &[
                    ("man0", "metro ring: to agg-thanh-khe"),
                    ("man1", "metro ring: in-DC to edge-dn-1"),
                ],
            },
            mgmt: "3fff:48:ff",
            lab_names: false,
            exclusions: &[],
            unserved: &[(
                20333,
                "Hoàng Sa special zone (the Paracel Islands): no people's committee office on the islands that the \
city's network can reach; in the 2024 list Hoàng Sa is an island district with no commune level",
            )],
        },
        City {
            dir: "lab",
            csv: "vn-admin-units-2024.csv",
            province: 1,
            communes: vec![1, 7, 31, 61, 70, 79],
            hubs: true,
            tag: "LAB",
            main_edge: Edge {
                device: "edge-main",
                site: "dc-lab-main",
                data_center: "dc-lab-main",
                rack: "L01",
                position: 20,
                ports: &[],
            },
            backup_edge: Edge {
                device: "edge-backup",
                site: "dc-lab-backup",
                data_center: "dc-lab-backup",
                rack: "L01",
                position: 20,
                ports: &[],
            },
            mgmt: "3fff:ab:ff",
            lab_names: true,
            exclusions: &[],
            unserved: &[],
        },
    ]
}
