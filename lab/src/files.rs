//! Text of the files a lab writes: FRR and sshd configuration, known_hosts and the overlay.
//! Pure functions of the plan (and of the host keys once they exist).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::plan::{FRR_DAEMONS, LabPlan, Node};
use hatang_driver::hostkey::PublicKey;
use hatang_driver::overlay::{Overlay, OverlayDevice};

/// The user hatang logs in as on lab devices (FRR's vtysh needs root or the frrvty group).
pub const LAB_USER: &str = "root";

/// `/etc/frr/<namespace>/daemons`: which daemons watchfrr starts, as Debian's frrinit.sh reads it.
pub fn frr_daemons(plan: &LabPlan, node: &Node) -> String {
    let mut out = format!(
        "# hatang lab `{}`: FRR daemons of {} (pathspace and network namespace {}).\n\
         # Read by /usr/lib/frr/frrinit.sh; zebra and staticd always run.\n",
        plan.name, node.device, node.namespace
    );
    for d in FRR_DAEMONS {
        if *d != "zebra" {
            out.push_str(&format!("{d}=yes\n"));
        }
    }
    out.push_str(
        "vtysh_enable=yes\n\
         zebra_options=\" -A 127.0.0.1 -s 90000000\"\n\
         bgpd_options=\"   -A 127.0.0.1\"\n\
         staticd_options=\"-A 127.0.0.1\"\n",
    );
    out
}

/// The initial `/etc/frr/<namespace>/frr.conf`: only the hostname; `hatang apply` replaces it.
pub fn frr_conf(node: &Node) -> String {
    format!(
        "! Initial configuration of lab router {}; `hatang apply` replaces it.\n\
         frr defaults traditional\n\
         hostname {}\n\
         service integrated-vtysh-config\n\
         !\n\
         line vty\n\
         !\n",
        node.device, node.device
    )
}

/// `/etc/frr/<namespace>/vtysh.conf`.
pub fn vtysh_conf() -> &'static str {
    "service integrated-vtysh-config\n"
}

/// The device's sshd configuration: listens only on the management address, key-only root
/// login with the lab's key, every file in the lab's state directory.
pub fn sshd_config(plan: &LabPlan, node: &Node) -> String {
    let listen = match node.management.address {
        IpAddr::V6(a) => format!("[{a}]:{}", node.management.port),
        IpAddr::V4(a) => format!("{a}:{}", node.management.port),
    };
    format!(
        "# hatang lab `{lab}`: sshd of {device} (network namespace {ns}).\n\
         ListenAddress {listen}\n\
         HostKey {host_key}\n\
         PidFile {pid}\n\
         AuthorizedKeysFile {authorized}\n\
         PermitRootLogin prohibit-password\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         UsePAM no\n\
         # The state directory may be anywhere (even under /tmp); the keys in it are the lab's own.\n\
         StrictModes no\n\
         PrintMotd no\n\
         PrintLastLog no\n\
         # Fan-out from hatang (audit, apply) opens many sessions at once.\n\
         MaxStartups 200:30:400\n\
         MaxSessions 64\n\
         Subsystem sftp /usr/lib/openssh/sftp-server\n",
        lab = plan.name,
        device = node.device,
        ns = node.namespace,
        host_key = plan.host_key(node).display(),
        pid = plan.sshd_pid(node).display(),
        authorized = plan.authorized_keys().display(),
    )
}

/// known_hosts with every device's host key (`keys`: device name → public key).
pub fn known_hosts(plan: &LabPlan, keys: &BTreeMap<String, PublicKey>) -> String {
    let mut out = format!(
        "# hatang lab `{}`: pinned host keys (ssh -o UserKnownHostsFile=this -o StrictHostKeyChecking=yes).\n",
        plan.name
    );
    for n in &plan.nodes {
        if let Some(k) = keys.get(&n.device) {
            out.push_str(&format!(
                "# {} (namespace {})\n{} {} {}\n",
                n.device,
                n.namespace,
                n.known_hosts_name(),
                k.algorithm,
                k.body
            ));
        }
    }
    out
}

/// The overlay of `plan` with host `keys` (device name → key): how the lab's devices are
/// reached and which key each presents, handed to the production code as data.
pub fn overlay(plan: &LabPlan, keys: &BTreeMap<String, PublicKey>) -> Overlay {
    Overlay {
        lab: plan.name.clone(),
        user: LAB_USER.to_owned(),
        identity_file: plan.user_key(),
        known_hosts: plan.known_hosts(),
        devices: plan
            .nodes
            .iter()
            .filter_map(|n| {
                keys.get(&n.device).map(|k| OverlayDevice {
                    name: n.device.clone(),
                    namespace: n.namespace.clone(),
                    address: n.management.address,
                    port: n.management.port,
                    ssh_host_key: format!("{} {}", k.algorithm, k.body),
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::{LabOptions, LabPlan, ManagementLink};
    use super::*;

    fn tiny() -> LabPlan {
        let node = |device: &str, address: &str, port| Node {
            device: device.to_owned(),
            namespace: format!("t-{device}"),
            management: ManagementLink {
                host_interface: "t-m0".to_owned(),
                device_interface: "eth0".to_owned(),
                address: address.parse().unwrap(),
                port,
            },
            dummies: vec![],
        };
        let o = LabOptions::new("t");
        LabPlan {
            name: "t".to_owned(),
            state_dir: o.state_dir,
            bridge: "t-mgmt".to_owned(),
            host_v6: super::super::plan::host_v6("t"),
            host_v4: super::super::plan::host_v4("t"),
            nodes: vec![
                node("r1", "3fff:ab:ff::1", 22),
                node("r2", "192.0.2.7", 2222),
            ],
            links: vec![],
        }
    }

    fn keys() -> BTreeMap<String, PublicKey> {
        [
            (
                "r1",
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOaW5N2xq3ij0 root@r1",
            ),
            ("r2", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBB"),
        ]
        .into_iter()
        .map(|(d, k)| (d.to_owned(), k.parse().unwrap()))
        .collect()
    }

    #[test]
    fn sshd_listens_on_the_management_address_only_with_keys_in_state() {
        let p = tiny();
        let v6 = sshd_config(&p, &p.nodes[0]);
        assert!(v6.contains("ListenAddress [3fff:ab:ff::1]:22\n"), "{v6}");
        assert!(v6.contains("HostKey /run/hatang-lab/t/devices/r1/ssh_host_ed25519_key\n"));
        assert!(v6.contains("PidFile /run/hatang-lab/t/devices/r1/sshd.pid\n"));
        assert!(v6.contains("AuthorizedKeysFile /run/hatang-lab/t/authorized_keys\n"));
        assert!(v6.contains("PasswordAuthentication no\n"));
        let v4 = sshd_config(&p, &p.nodes[1]);
        assert!(v4.contains("ListenAddress 192.0.2.7:2222\n"), "{v4}");
    }

    #[test]
    fn frr_files_name_the_router() {
        let p = tiny();
        let daemons = frr_daemons(&p, &p.nodes[0]);
        assert!(daemons.contains("bgpd=yes\n") && daemons.contains("staticd=yes\n"));
        assert!(frr_conf(&p.nodes[0]).contains("hostname r1\n"));
    }

    #[test]
    fn known_hosts_pin_each_address_and_the_driver_trusts_them() {
        let p = tiny();
        let text = known_hosts(&p, &keys());
        assert!(
            text.contains("\n3fff:ab:ff::1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOaW5N2xq3ij0\n")
        );
        assert!(text.contains("\n[192.0.2.7]:2222 ssh-ed25519 "));
        let known = hatang_driver::hostkey::KnownHosts::parse(&text);
        assert_eq!(
            known.check("3fff:ab:ff::1", &keys()["r1"]),
            hatang_driver::hostkey::Trust::Trusted
        );
        assert!(matches!(
            known.check("3fff:ab:ff::1", &keys()["r2"]),
            hatang_driver::hostkey::Trust::Changed { .. }
        ));
    }

    #[test]
    fn overlay_round_trips_through_yaml() {
        let p = tiny();
        let o = overlay(&p, &keys());
        let text = o.to_yaml();
        assert!(text.starts_with("# hatang lab overlay"));
        let back = Overlay::parse(&text).unwrap();
        assert_eq!(back, o);
        assert_eq!(back.host_key("r2"), Some(keys()["r2"].clone()));
        assert_eq!(back.devices[0].address.to_string(), "3fff:ab:ff::1");
    }
}
