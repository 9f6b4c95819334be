//! The lab plan: which namespaces, links, addresses and files a lab of an inventory consists of.
//! A pure function of the inventory and the lab's name; nothing here touches the system.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use hatang_core::Inventory;
use hatang_core::model::Platform;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Where FRR keeps per-pathspace configuration (`/etc/frr/<namespace>/`).
pub const FRR_CONF_ROOT: &str = "/etc/frr";
/// Where FRR keeps per-pathspace sockets and pid files (`/var/run/frr/<namespace>/`).
pub const FRR_RUN_ROOT: &str = "/var/run/frr";
/// Where `ip netns` keeps named network namespaces.
pub const NETNS_ROOT: &str = "/run/netns";
/// Default parent of lab state directories (`/run/hatang-lab/<lab>/`): tmpfs, gone on reboot
/// like the namespaces it describes.
pub const DEFAULT_STATE_ROOT: &str = "/run/hatang-lab";
/// Longest lab name: it prefixes host-side link names, which Linux caps at 15 bytes.
pub const MAX_LAB_NAME: usize = 8;
/// Longest network-namespace name: FRR puts it into unix socket paths (108 bytes at most).
pub const MAX_NAMESPACE: usize = 64;
/// Longest Linux interface name (IFNAMSIZ − 1).
pub const MAX_IFNAME: usize = 15;
/// The interface inside each namespace that carries management traffic, unless the device
/// already declares it (then [`MANAGEMENT_FALLBACK`]).
pub const MANAGEMENT_INTERFACE: &str = "eth0";
/// Management interface name for devices that declare `eth0` themselves.
pub const MANAGEMENT_FALLBACK: &str = "mgmt0";
/// The FRR daemons each lab router runs (watchfrr supervises them).
pub const FRR_DAEMONS: &[&str] = &["zebra", "bgpd", "staticd"];

/// What the caller chooses about a lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabOptions {
    /// The lab's name: prefixes namespaces (`<name>-<device>`) and host-side links.
    pub name: String,
    /// Where keys, configs, pid files and the overlay live.
    pub state_dir: PathBuf,
}

impl LabOptions {
    /// Options for `name` with the default state directory `/run/hatang-lab/<name>`.
    pub fn new(name: &str) -> Self {
        LabOptions {
            name: name.to_owned(),
            state_dir: Path::new(DEFAULT_STATE_ROOT).join(name),
        }
    }
}

/// A lab name derived from an inventory directory: its base name, lower-cased, reduced to
/// `a-z0-9-` and cut to [`MAX_LAB_NAME`] characters (`inventories/lab` → `lab`).
pub fn default_name(inventory: &Path) -> String {
    let base = inventory
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| {
            inventory
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let mut name = String::new();
    for c in base.to_lowercase().chars() {
        if name.len() == MAX_LAB_NAME {
            break;
        }
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    while name.ends_with('-') {
        name.pop();
    }
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "lab");
        name.truncate(MAX_LAB_NAME);
    }
    name
}

/// A whole lab: one node per device, one veth pair per circuit, a management bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabPlan {
    /// The lab's name.
    pub name: String,
    /// Keys, configs, pid files and the overlay.
    pub state_dir: PathBuf,
    /// Host-side bridge every management link is attached to (`<name>-mgmt`).
    pub bridge: String,
    /// The host's IPv6 address on the bridge (a ULA derived from the lab name); devices route
    /// only this address back over their management link.
    pub host_v6: Ipv6Addr,
    /// The host's IPv4 address on the bridge (198.18.0.0/15, benchmarking space), used only
    /// when a device is managed over IPv4.
    pub host_v4: Ipv4Addr,
    /// One per device, sorted by device name.
    pub nodes: Vec<Node>,
    /// One per circuit, sorted by circuit name.
    pub links: Vec<Link>,
}

/// One device: a network namespace, a UTS namespace, an FRR instance and an sshd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// Device name; also its hostname.
    pub device: String,
    /// Network namespace name, also the FRR pathspace (`vtysh -N <namespace>`).
    pub namespace: String,
    /// The management link from the host.
    pub management: ManagementLink,
    /// Declared interfaces no circuit uses (LAN segments): dummy interfaces, so addresses can
    /// be configured on them and announced.
    pub dummies: Vec<String>,
}

/// A veth pair from the host bridge into a device's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementLink {
    /// Host-side end, attached to the bridge (`<lab>-m<index>`).
    pub host_interface: String,
    /// Device-side end ([`MANAGEMENT_INTERFACE`] or [`MANAGEMENT_FALLBACK`]).
    pub device_interface: String,
    /// The device's `spec.management.address`, configured as a host route (/128 or /32).
    pub address: IpAddr,
    /// The device's SSH port.
    pub port: u16,
}

/// A circuit as a veth pair between two namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// The Circuit's name.
    pub circuit: String,
    /// The A end.
    pub a: End,
    /// The Z end.
    pub z: End,
}

/// One end of a link: an interface, named as in the inventory, inside a device's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct End {
    /// Device name.
    pub device: String,
    /// Its namespace.
    pub namespace: String,
    /// Interface name (as in the inventory).
    pub interface: String,
}

/// Why an inventory cannot be turned into a lab.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    /// The lab name is unusable.
    #[error(
        "lab name `{0}` must be 1 to {MAX_LAB_NAME} characters of a-z, 0-9 and `-`, starting with a letter (it prefixes namespace and host link names); choose one with --name"
    )]
    Name(String),
    /// The state directory is unusable.
    #[error(
        "state directory `{0}` must be an absolute path without whitespace, quotes or `\\` (it is written into sshd configs)"
    )]
    StateDir(String),
    /// The inventory has no device.
    #[error("the inventory has no Device: nothing to start")]
    Empty,
    /// A device has no management address.
    #[error(
        "device `{0}` has no spec.management.address: the lab reaches every device over SSH on it"
    )]
    NoManagement(String),
    /// A device is not an FRR router.
    #[error("device `{device}` runs platform `{platform}`: the lab runs FRR routers only")]
    Platform {
        /// Device name.
        device: String,
        /// Its platform.
        platform: String,
    },
    /// An interface name Linux does not accept.
    #[error(
        "interface `{interface}` of device `{device}` cannot be a Linux interface name: {reason}"
    )]
    Interface {
        /// Device name.
        device: String,
        /// Interface name.
        interface: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No free name for the management interface.
    #[error(
        "device `{0}` declares both `{MANAGEMENT_INTERFACE}` and `{MANAGEMENT_FALLBACK}`: the lab needs one of them for the management link"
    )]
    ManagementName(String),
    /// A namespace name is too long.
    #[error(
        "namespace `{0}` is longer than {MAX_NAMESPACE} characters (FRR puts it into socket paths): use a shorter device or lab name"
    )]
    Namespace(String),
    /// A circuit end names a device or interface that does not exist.
    #[error("circuit `{circuit}`: {end} end {device}:{interface} does not exist")]
    MissingEnd {
        /// Circuit name.
        circuit: String,
        /// `a` or `z`.
        end: &'static str,
        /// Device name.
        device: String,
        /// Interface name.
        interface: String,
    },
    /// Two circuits end on the same interface.
    #[error("interface {device}:{interface} ends both circuit `{first}` and circuit `{second}`")]
    SharedEnd {
        /// Device name.
        device: String,
        /// Interface name.
        interface: String,
        /// The first circuit.
        first: String,
        /// The second circuit.
        second: String,
    },
    /// Two devices share a management address, or one uses the host's.
    #[error("management address {address} of device `{device}` is already used by {other}")]
    Address {
        /// The address.
        address: IpAddr,
        /// Device name.
        device: String,
        /// Who else has it.
        other: String,
    },
    /// Too many devices to name host-side links.
    #[error("{0} devices: host-side link names would exceed {MAX_IFNAME} characters")]
    TooMany(usize),
}

/// Whether `name` is usable as a lab name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_LAB_NAME
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Why `name` is not a valid Linux interface name, if it is not.
pub fn interface_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_IFNAME {
        Some("longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("`.` and `..` are reserved")
    } else if name == "lo" {
        Some("`lo` is the loopback")
    } else if name
        .bytes()
        .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || !b.is_ascii_graphic())
    {
        Some("it contains `/`, `:`, whitespace or a non-ASCII character")
    } else {
        None
    }
}

fn state_dir_ok(dir: &Path) -> bool {
    let Some(s) = dir.to_str() else { return false };
    dir.is_absolute()
        && s != "/"
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'\\".contains(c))
}

/// 16-bit FNV-1a of the lab name: picks the host's addresses so two labs differ.
fn name_hash(name: &str) -> u16 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    ((h >> 16) ^ (h & 0xffff)) as u16
}

/// The host's IPv6 address on a lab's bridge: `fd68:6174:616e:<hash>::1` (a ULA whose global ID
/// spells "hatan").
pub fn host_v6(name: &str) -> Ipv6Addr {
    Ipv6Addr::new(0xfd68, 0x6174, 0x616e, name_hash(name), 0, 0, 0, 1)
}

/// The host's IPv4 address on a lab's bridge: inside 198.18.0.0/15 (RFC 2544, never routed).
pub fn host_v4(name: &str) -> Ipv4Addr {
    let h = name_hash(name);
    Ipv4Addr::new(198, 18 + (h >> 15) as u8, ((h >> 7) & 0xff) as u8, 1)
}

/// Plans the lab of `inventory`. Every problem is reported, not only the first.
pub fn plan(inventory: &Inventory, options: &LabOptions) -> Result<LabPlan, Vec<PlanError>> {
    let mut errors = Vec::new();
    let name = options.name.as_str();
    if !valid_name(name) {
        errors.push(PlanError::Name(name.to_owned()));
    }
    if !state_dir_ok(&options.state_dir) {
        errors.push(PlanError::StateDir(
            options.state_dir.to_string_lossy().into_owned(),
        ));
    }
    if inventory.devices.is_empty() {
        errors.push(PlanError::Empty);
    }
    let host_v6 = host_v6(name);
    let host_v4 = host_v4(name);

    let mut devices: Vec<_> = inventory.devices.iter().collect();
    devices.sort_by(|a, b| a.name().cmp(b.name()));

    // Which interfaces circuits use, and by which circuit.
    let mut circuits: Vec<_> = inventory.circuits.iter().collect();
    circuits.sort_by(|a, b| a.name().cmp(b.name()));
    let by_device: BTreeMap<&str, _> = devices.iter().map(|d| (d.name(), &d.spec)).collect();
    let namespace = |device: &str| format!("{name}-{device}");
    let mut used: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    let mut links = Vec::new();
    for c in &circuits {
        let mut ok = true;
        for (label, end) in [("a", &c.spec.a), ("z", &c.spec.z)] {
            let exists = by_device
                .get(end.device.as_str())
                .is_some_and(|d| d.interface(&end.interface).is_some());
            if !exists {
                errors.push(PlanError::MissingEnd {
                    circuit: c.name().to_owned(),
                    end: label,
                    device: end.device.clone(),
                    interface: end.interface.clone(),
                });
                ok = false;
                continue;
            }
            if let Some(first) = used.insert((&end.device, &end.interface), c.name()) {
                errors.push(PlanError::SharedEnd {
                    device: end.device.clone(),
                    interface: end.interface.clone(),
                    first: first.to_owned(),
                    second: c.name().to_owned(),
                });
                ok = false;
            }
        }
        if ok {
            let end = |e: &hatang_core::model::CircuitEnd| End {
                device: e.device.clone(),
                namespace: namespace(&e.device),
                interface: e.interface.clone(),
            };
            links.push(Link {
                circuit: c.name().to_owned(),
                a: end(&c.spec.a),
                z: end(&c.spec.z),
            });
        }
    }

    let index_width = devices.len().saturating_sub(1).to_string().len();
    if name.len() + 2 + index_width > MAX_IFNAME {
        errors.push(PlanError::TooMany(devices.len()));
    }
    let mut addresses: BTreeMap<IpAddr, String> = BTreeMap::new();
    addresses.insert(IpAddr::V6(host_v6), "the lab host".to_owned());
    addresses.insert(IpAddr::V4(host_v4), "the lab host".to_owned());
    let mut nodes = Vec::new();
    for (index, d) in devices.iter().enumerate() {
        let device = d.name();
        let ns = namespace(device);
        if ns.len() > MAX_NAMESPACE {
            errors.push(PlanError::Namespace(ns.clone()));
        }
        if d.spec.platform != Platform::Frr {
            errors.push(PlanError::Platform {
                device: device.to_owned(),
                platform: format!("{:?}", d.spec.platform).to_lowercase(),
            });
        }
        let declared: BTreeSet<&str> = d.spec.interfaces.iter().map(|i| i.name.as_str()).collect();
        for i in &d.spec.interfaces {
            if let Some(reason) = interface_name_problem(&i.name) {
                errors.push(PlanError::Interface {
                    device: device.to_owned(),
                    interface: i.name.clone(),
                    reason,
                });
            }
        }
        let device_interface = [MANAGEMENT_INTERFACE, MANAGEMENT_FALLBACK]
            .into_iter()
            .find(|n| !declared.contains(n));
        let Some(device_interface) = device_interface else {
            errors.push(PlanError::ManagementName(device.to_owned()));
            continue;
        };
        let Some(m) = &d.spec.management else {
            errors.push(PlanError::NoManagement(device.to_owned()));
            continue;
        };
        let address = m.address.0;
        if let Some(other) = addresses.insert(address, format!("device `{device}`")) {
            errors.push(PlanError::Address {
                address,
                device: device.to_owned(),
                other,
            });
        }
        let dummies = d
            .spec
            .interfaces
            .iter()
            .filter(|i| !used.contains_key(&(device, i.name.as_str())))
            .map(|i| i.name.clone())
            .collect();
        nodes.push(Node {
            device: device.to_owned(),
            namespace: ns,
            management: ManagementLink {
                host_interface: format!("{name}-m{index}"),
                device_interface: device_interface.to_owned(),
                address,
                port: m.port,
            },
            dummies,
        });
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(LabPlan {
        name: name.to_owned(),
        state_dir: options.state_dir.clone(),
        bridge: format!("{name}-mgmt"),
        host_v6,
        host_v4,
        nodes,
        links,
    })
}

impl LabPlan {
    /// The plan as written at `up` (read back by `down` and `status`).
    pub fn plan_file(&self) -> PathBuf {
        self.state_dir.join("plan.json")
    }
    /// The private key hatang (and you) log in with; `.pub` beside it.
    pub fn user_key(&self) -> PathBuf {
        self.state_dir.join("id_ed25519")
    }
    /// Lock file beside the state directory: one `up` or `down` of a lab at a time.
    pub fn lock_file(&self) -> PathBuf {
        PathBuf::from(format!("{}.lock", self.state_dir.display()))
    }
    /// The lab user key's public half, as every sshd's authorized key.
    pub fn authorized_keys(&self) -> PathBuf {
        self.state_dir.join("authorized_keys")
    }
    /// OpenSSH known_hosts with every device's pinned host key.
    pub fn known_hosts(&self) -> PathBuf {
        self.state_dir.join("known_hosts")
    }
    /// The lab overlay: management endpoints and pinned host keys per device.
    pub fn overlay_file(&self) -> PathBuf {
        self.state_dir.join("overlay").join("hosts.yaml")
    }
    /// Per-device state: host key, sshd config, pid file and logs.
    pub fn node_dir(&self, node: &Node) -> PathBuf {
        self.state_dir.join("devices").join(&node.device)
    }
    /// The device's SSH host private key (`.pub` beside it).
    pub fn host_key(&self, node: &Node) -> PathBuf {
        self.node_dir(node).join("ssh_host_ed25519_key")
    }
    /// The device's sshd configuration.
    pub fn sshd_config(&self, node: &Node) -> PathBuf {
        self.node_dir(node).join("sshd_config")
    }
    /// The device's sshd pid file.
    pub fn sshd_pid(&self, node: &Node) -> PathBuf {
        self.node_dir(node).join("sshd.pid")
    }
    /// Directory of the persistent UTS namespaces (bind mounts).
    pub fn uts_dir(&self) -> PathBuf {
        self.state_dir.join("uts")
    }
    /// The device's UTS namespace, bind-mounted (enter with `nsenter --uts=<file>`).
    pub fn uts_file(&self, node: &Node) -> PathBuf {
        self.uts_dir().join(&node.device)
    }
    /// Looks a node up by device name.
    pub fn node(&self, device: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.device == device)
    }
    /// Every interface that must exist inside `node`'s namespace, management first.
    pub fn interfaces_of<'a>(&'a self, node: &'a Node) -> Vec<&'a str> {
        let mut out = vec![node.management.device_interface.as_str()];
        for l in &self.links {
            for e in [&l.a, &l.z] {
                if e.device == node.device {
                    out.push(&e.interface);
                }
            }
        }
        out.extend(node.dummies.iter().map(String::as_str));
        out
    }
}

impl Node {
    /// `/run/netns/<namespace>`.
    pub fn netns_file(&self) -> PathBuf {
        Path::new(NETNS_ROOT).join(&self.namespace)
    }
    /// FRR configuration directory for this pathspace (`/etc/frr/<namespace>`).
    pub fn frr_conf_dir(&self) -> PathBuf {
        Path::new(FRR_CONF_ROOT).join(&self.namespace)
    }
    /// FRR sockets and pid files for this pathspace (`/var/run/frr/<namespace>`).
    pub fn frr_run_dir(&self) -> PathBuf {
        Path::new(FRR_RUN_ROOT).join(&self.namespace)
    }
    /// The prefix length of the management address as a host route (128 or 32).
    pub fn management_prefix_len(&self) -> u8 {
        match self.management.address {
            IpAddr::V6(_) => 128,
            IpAddr::V4(_) => 32,
        }
    }
    /// `host:port` as OpenSSH writes it in known_hosts (`[addr]:port` unless the port is 22).
    pub fn known_hosts_name(&self) -> String {
        match self.management.port {
            22 => self.management.address.to_string(),
            p => format!("[{}]:{p}", self.management.address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hatang_core::LoadOptions;
    use hatang_core::validate::ValidateOptions;

    fn lab_inventory() -> Inventory {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../inventories/lab");
        let options = ValidateOptions::on("2026-11-23".parse().unwrap());
        let checked = hatang_core::check(&[path], &LoadOptions::default(), &options).unwrap();
        assert_eq!(checked.errors(), 0, "{:?}", checked.diagnostics);
        checked.loaded.inventory
    }

    fn lab_plan() -> LabPlan {
        plan(&lab_inventory(), &LabOptions::new("lab")).unwrap()
    }

    #[test]
    fn one_namespace_per_device_and_one_link_per_circuit() {
        let inv = lab_inventory();
        let p = lab_plan();
        assert_eq!(p.nodes.len(), inv.devices.len());
        assert_eq!(p.nodes.len(), 10);
        assert_eq!(p.links.len(), inv.circuits.len());
        assert_eq!(p.links.len(), 16);
        let namespaces: BTreeSet<_> = p.nodes.iter().map(|n| &n.namespace).collect();
        assert_eq!(namespaces.len(), p.nodes.len());
        assert!(p.node("cpe-00001").unwrap().namespace == "lab-cpe-00001");
    }

    #[test]
    fn every_circuit_end_is_the_inventory_interface_in_its_device_namespace() {
        let inv = lab_inventory();
        let p = lab_plan();
        for c in &inv.circuits {
            let l = p.links.iter().find(|l| l.circuit == c.name()).unwrap();
            for (end, planned) in [(&c.spec.a, &l.a), (&c.spec.z, &l.z)] {
                assert_eq!(planned.device, end.device);
                assert_eq!(planned.interface, end.interface);
                assert_eq!(planned.namespace, p.node(&end.device).unwrap().namespace);
            }
        }
        // Each (namespace, interface) is created once.
        let mut seen = BTreeSet::new();
        for n in &p.nodes {
            for i in p.interfaces_of(n) {
                assert!(seen.insert((&n.namespace, i)), "{} {i} twice", n.namespace);
            }
        }
        // CPEs keep their LAN as a dummy interface.
        assert_eq!(p.node("cpe-00001").unwrap().dummies, vec!["lan0"]);
        assert!(p.node("edge-backup").unwrap().dummies.is_empty());
    }

    #[test]
    fn host_side_and_interface_names_fit_linux() {
        let p = lab_plan();
        assert!(p.bridge.len() <= MAX_IFNAME);
        let mut host = BTreeSet::new();
        host.insert(p.bridge.clone());
        for n in &p.nodes {
            assert!(n.management.host_interface.len() <= MAX_IFNAME);
            assert!(host.insert(n.management.host_interface.clone()));
            for i in p.interfaces_of(n) {
                assert!(interface_name_problem(i).is_none(), "{i}");
            }
            assert_eq!(n.management.device_interface, "eth0");
            assert!(n.namespace.len() <= MAX_NAMESPACE);
        }
        // The longest lab name still fits, with many devices.
        let long = plan(&lab_inventory(), &LabOptions::new("abcdefgh")).unwrap();
        assert!(
            long.nodes
                .iter()
                .all(|n| n.management.host_interface.len() <= 15)
        );
        assert_eq!(long.bridge, "abcdefgh-mgmt");
    }

    #[test]
    fn management_addresses_come_from_the_inventory() {
        let p = lab_plan();
        let edge = p.node("edge-main").unwrap();
        assert_eq!(
            edge.management.address,
            "3fff:ab:ff:3::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(edge.management.port, 22);
        assert_eq!(edge.known_hosts_name(), "3fff:ab:ff:3::1");
        assert_eq!(edge.management_prefix_len(), 128);
        assert!(p.host_v6.segments()[0] == 0xfd68);
        assert_ne!(host_v6("lab"), host_v6("lab2"));
    }

    #[test]
    fn bad_names_and_devices_are_reported_together() {
        let mut inv = lab_inventory();
        inv.devices[0].spec.management = None;
        inv.devices[1].spec.interfaces[0].name = "GigabitEthernet0/0/1".to_owned();
        inv.devices[2].spec.platform = Platform::Junos;
        let errors = plan(&inv, &LabOptions::new("Bad_Name")).unwrap_err();
        assert!(errors.iter().any(|e| matches!(e, PlanError::Name(_))));
        assert!(
            errors
                .iter()
                .any(|e| matches!(e, PlanError::NoManagement(_)))
        );
        assert!(
            errors
                .iter()
                .any(|e| matches!(e, PlanError::Interface { .. }))
        );
        assert!(
            errors
                .iter()
                .any(|e| matches!(e, PlanError::Platform { .. }))
        );
        let mut options = LabOptions::new("lab");
        options.state_dir = PathBuf::from("relative/dir");
        assert!(matches!(
            plan(&lab_inventory(), &options).unwrap_err()[..],
            [PlanError::StateDir(_)]
        ));
    }

    #[test]
    fn shared_and_missing_circuit_ends_are_errors() {
        let mut inv = lab_inventory();
        let first = inv.circuits[0].spec.a.clone();
        inv.circuits[1].spec.a = first;
        inv.circuits[2].spec.z.interface = "eth99".to_owned();
        let errors = plan(&inv, &LabOptions::new("lab")).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| matches!(e, PlanError::SharedEnd { .. }))
        );
        assert!(
            errors
                .iter()
                .any(|e| matches!(e, PlanError::MissingEnd { .. }))
        );
    }

    #[test]
    fn management_falls_back_to_mgmt0_when_eth0_is_declared() {
        let mut inv = lab_inventory();
        let d = inv
            .devices
            .iter_mut()
            .find(|d| d.name() == "cpe-00001")
            .unwrap();
        d.spec.interfaces.push(hatang_core::model::Interface {
            name: "eth0".to_owned(),
            description: None,
            addresses: vec![],
        });
        let p = plan(&inv, &LabOptions::new("lab")).unwrap();
        let n = p.node("cpe-00001").unwrap();
        assert_eq!(n.management.device_interface, "mgmt0");
        assert!(n.dummies.contains(&"eth0".to_owned()));
    }

    #[test]
    fn default_names_are_short_and_valid() {
        assert_eq!(default_name(Path::new("inventories/lab")), "lab");
        assert_eq!(default_name(Path::new("/x/Hanoi-2024")), "hanoi-20");
        assert_eq!(default_name(Path::new("/x/2024")), "lab2024");
        assert!(valid_name(&default_name(Path::new("/x/___"))));
        assert!(valid_name("lab"));
        assert!(!valid_name("lab-"));
        assert!(!valid_name("toolongname"));
    }

    #[test]
    fn plan_is_deterministic_and_round_trips() {
        let a = lab_plan();
        let b = lab_plan();
        assert_eq!(a, b);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<LabPlan>(&json).unwrap(), a);
    }
}
