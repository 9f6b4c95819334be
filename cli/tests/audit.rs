//! `hatang audit` end to end on a lab of `inventories/lab`: running configurations fetched over
//! SSH (russh) and compared with the rendered ones.
//!
//! The lab test needs root and the lab's Debian packages (frr, frr-pythontools, openssh-server,
//! openssh-client, iproute2), like `cli/tests/lab.rs`: it is `#[ignore = "needs root: …"]`, run
//! by `./scripts/test.sh` as root with `--include-ignored`, and fails, saying why, when run by
//! hand without root. Its lab has its own name and management addresses (`3fff:ab:fc:…`), so it
//! runs beside the lab tests; a Drop guard runs `hatang lab down` whatever happens. The audit of
//! saved configurations needs neither root nor a lab.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hatang_test_support::{copy_dir, repo, require_root, text};

use hatang_driver::overlay::Overlay;
use serde_json::Value;

const LAB: &str = "hat1";
const TODAY: &str = "2026-11-23";

fn hatang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hatang"))
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("HATANG_LAB_FAIL_AFTER")
        .args(args)
        .output()
        .expect("run hatang")
}

/// The lab; `hatang lab down` when dropped, even when the test panics.
struct Lab {
    inventory: String,
}

impl Lab {
    fn lab(&self, verb: &str) -> Output {
        hatang(&[
            "lab",
            verb,
            &self.inventory,
            "--name",
            LAB,
            "--today",
            TODAY,
        ])
    }

    fn state(&self) -> PathBuf {
        Path::new("/run/hatang-lab").join(LAB)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let o = self.lab("down");
        if o.status.code() != Some(0) {
            eprintln!("cleanup of lab {LAB} failed: {}", text(&o));
        }
    }
}

/// OpenSSH's client with the lab's key and pinned host keys, `stdin` fed to the command.
fn ssh(lab: &Lab, address: &str, command: &str, stdin: &[u8]) -> Output {
    use std::io::Write;
    let state = lab.state();
    let mut child = Command::new("ssh")
        .args(["-F", "/dev/null", "-i"])
        .arg(state.join("id_ed25519"))
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
        ])
        .arg(format!(
            "UserKnownHostsFile={}",
            state.join("known_hosts").display()
        ))
        .arg(format!("root@{address}"))
        .arg(command)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run ssh");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// `hatang audit -o json` with `extra` options: exit code and report.
fn audit(inventory: &str, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["audit", inventory, "--today", TODAY, "-o", "json"];
    args.extend_from_slice(extra);
    let o = hatang(&args);
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&o)));
    (o.status.code(), report)
}

fn device<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == name)
        .unwrap_or_else(|| panic!("{name} not in {report:#}"))
}

#[test]
#[ignore = "needs root: network namespaces, veth links, FRR and sshd"]
fn audit_reports_drift_clean_devices_single_changes_and_refusals() {
    require_root("audit_reports_drift_clean_devices_single_changes_and_refusals");
    let _turn = hatang_test_support::lab_lock();
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    copy_dir(&repo().join("inventories/lab"), &inv, &|t| {
        t.replace("address: 3fff:ab:ff:", "address: 3fff:ab:fc:")
    });
    let inventory = inv.to_str().unwrap().to_owned();
    let lab = Lab {
        inventory: inventory.clone(),
    };
    let o = lab.lab("down"); // leftovers of a killed run
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lab.lab("up");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let state = lab.state();
    let state_arg = state.to_str().unwrap().to_owned();
    let overlay =
        Overlay::parse(&std::fs::read_to_string(state.join("overlay/hosts.yaml")).unwrap())
            .unwrap();
    assert_eq!(overlay.devices.len(), 10);
    let address = |name: &str| {
        overlay
            .devices
            .iter()
            .find(|d| d.name == name)
            .unwrap()
            .address
            .to_string()
    };

    // 1. A fresh lab router only has its hostname: every device drifts.
    let lab_state = ["--lab-state", state_arg.as_str()];
    let (code, r) = audit(&inventory, &lab_state);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(r["summary"]["devices"], 10, "{r:#}");
    assert_eq!(r["summary"]["drift"], 10, "{r:#}");
    let d = device(&r, "cpe-00001");
    assert_eq!(d["status"], "drift");
    assert!(
        d["deviations"].as_array().unwrap().iter().any(
            |x| x["kind"] == "missing" && x["context"] == serde_json::json!(["interface eth1"])
        ),
        "{d:#}"
    );

    // 2. The rendered configuration pushed to one router by hand: that router is clean.
    let out = tmp.path().join("rendered");
    let o = hatang(&[
        "render",
        &inventory,
        "--today",
        TODAY,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let conf = std::fs::read_to_string(out.join("cpe-00001/frr.conf")).unwrap();
    let o = ssh(
        &lab,
        &address("cpe-00001"),
        "cat > /tmp/hatang-audit-test.conf && /usr/lib/frr/frr-reload.py --reload /tmp/hatang-audit-test.conf",
        conf.as_bytes(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let (code, r) = audit(&inventory, &lab_state);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(device(&r, "cpe-00001")["status"], "clean", "{r:#}");
    assert_eq!(r["summary"]["clean"], 1, "{r:#}");
    assert_eq!(r["summary"]["drift"], 9, "{r:#}");
    let (code, r) = audit(
        &inventory,
        &[&lab_state[..], &["--device", "cpe-00001"]].concat(),
    );
    assert_eq!(code, Some(0), "{r:#}");

    // 3. One line changed by hand: exactly that deviation, as a change in its block.
    let asn = conf
        .lines()
        .find_map(|l| l.strip_prefix("router bgp "))
        .unwrap();
    let neighbor = conf
        .lines()
        .find_map(|l| l.strip_prefix(" neighbor ")?.strip_suffix(" timers 3 9"))
        .unwrap();
    let o = ssh(
        &lab,
        &address("cpe-00001"),
        &format!("vtysh -c 'conf t' -c 'router bgp {asn}' -c 'neighbor {neighbor} timers 5 15'"),
        b"",
    );
    assert!(o.status.success(), "{}", text(&o));
    let (code, r) = audit(
        &inventory,
        &[&lab_state[..], &["--device", "cpe-00001"]].concat(),
    );
    assert_eq!(code, Some(1), "{r:#}");
    let d = device(&r, "cpe-00001");
    assert_eq!(
        d["deviations"],
        serde_json::json!([{
            "kind": "changed",
            "context": [format!("router bgp {asn}")],
            "desired": format!("neighbor {neighbor} timers 3 9"),
            "running": format!("neighbor {neighbor} timers 5 15"),
        }]),
        "{r:#}"
    );
    let o = hatang(&[
        "audit",
        &inventory,
        "--today",
        TODAY,
        "--lab-state",
        &state_arg,
        "--device",
        "cpe-00001",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "changed [router bgp {asn}]: `neighbor {neighbor} timers 5 15` → `neighbor {neighbor} timers 3 9`"
        )),
        "{}",
        text(&o)
    );

    // 3b. The same change accepted in (a copy of) the inventory, with owner, reason and expiry:
    //     listed apart, exit 0.
    let accepted = tmp.path().join("lab-accepted");
    let head = "  name: cpe-00001\nspec:\n";
    copy_dir(&inv, &accepted, &|t| {
        t.replace(
            head,
            &format!(
                "{head}  acceptedDeviations:\n  - kind: changed\n    block: [router bgp {asn}]\n    \
                 line: neighbor {neighbor} timers 5 15\n    owner: noc\n    reason: live test\n    \
                 expires: {TODAY}\n"
            ),
        )
    });
    let (code, r) = audit(
        accepted.to_str().unwrap(),
        &[&lab_state[..], &["--device", "cpe-00001"]].concat(),
    );
    assert_eq!(code, Some(0), "{r:#}");
    let d = device(&r, "cpe-00001");
    assert_eq!(d["status"], "accepted", "{r:#}");
    assert_eq!(d["accepted"][0]["acceptance"]["owner"], "noc", "{r:#}");

    // 4. A wrong pinned host key refuses that device; an unreachable one is reported; the others
    //    are audited all the same.
    let mut tampered = overlay.clone();
    let edge_key = overlay
        .devices
        .iter()
        .find(|d| d.name == "edge-main")
        .unwrap()
        .ssh_host_key
        .clone();
    for d in &mut tampered.devices {
        match d.name.as_str() {
            "hub-001" => d.ssh_host_key = edge_key.clone(),
            "cpe-00007" => d.port = 1,
            _ => {}
        }
    }
    let fake = tmp.path().join("fake-state");
    std::fs::create_dir_all(fake.join("overlay")).unwrap();
    std::fs::write(fake.join("overlay/hosts.yaml"), tampered.to_yaml()).unwrap();
    let (code, r) = audit(
        &inventory,
        &["--lab-state", fake.to_str().unwrap(), "--timeout", "5"],
    );
    assert_eq!(code, Some(1), "{r:#}");
    let hub = device(&r, "hub-001");
    assert_eq!(hub["status"], "failed", "{r:#}");
    assert_eq!(hub["error"]["kind"], "host-key-changed", "{r:#}");
    let cpe = device(&r, "cpe-00007");
    assert_eq!(cpe["status"], "failed", "{r:#}");
    assert_eq!(cpe["error"]["kind"], "connect", "{r:#}");
    assert_eq!(r["summary"]["failed"], 2, "{r:#}");
    assert_eq!(r["summary"]["drift"], 8, "{r:#}");

    // 5. Without pins and with an empty known_hosts every key is unknown: refused, unless new
    //    keys are accepted explicitly (and then recorded).
    let key = state.join("id_ed25519");
    let empty = tmp.path().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let plain = [
        "--identity",
        key.to_str().unwrap(),
        "--known-hosts",
        empty.to_str().unwrap(),
    ];
    let (code, r) = audit(&inventory, &plain);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(r["summary"]["failed"], 10, "{r:#}");
    assert_eq!(
        device(&r, "edge-main")["error"]["kind"],
        "host-key-unknown",
        "{r:#}"
    );
    let (code, r) = audit(&inventory, &[&plain[..], &["--accept-new"]].concat());
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(r["summary"]["failed"], 0, "{r:#}");
    assert_eq!(r["summary"]["drift"], 10, "{r:#}");
    let recorded = std::fs::read_to_string(&empty).unwrap();
    assert_eq!(recorded.lines().count(), 10, "{recorded}");
    let (code, r) = audit(&inventory, &plain);
    assert_eq!(r["summary"]["failed"], 0, "now known: {r:#}");
    assert_eq!(code, Some(1));
}

/// A copy of `inventories/lab` in `dir/lab` with accepted deviations (YAML list items) on
/// some devices.
fn lab_with_acceptances(dir: &Path, acceptances: &[(&str, String)]) -> PathBuf {
    let inv = dir.join("lab");
    copy_dir(&repo().join("inventories/lab"), &inv, &|mut t| {
        for (device, entries) in acceptances {
            let head = format!("  name: {device}\nspec:\n");
            t = t.replace(&head, &format!("{head}  acceptedDeviations:\n{entries}"));
        }
        t
    });
    inv
}

#[test]
fn saved_configurations_are_audited_with_the_inventory_s_accepted_deviations() {
    let tmp = tempfile::tempdir().unwrap();
    let rendered = tmp.path().join("rendered");
    let o = hatang(&[
        "render",
        "inventories/lab",
        "--today",
        TODAY,
        "--out",
        rendered.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let conf = |d: &str| std::fs::read_to_string(rendered.join(d).join("frr.conf")).unwrap();
    let asn = |c: &str| {
        c.lines()
            .find_map(|l| l.strip_prefix("router bgp "))
            .unwrap()
            .to_owned()
    };
    // What the devices run: cpe-00001 with slower timers, cpe-00007 with an extra line,
    // hub-001 exactly as rendered.
    let saved = tmp.path().join("saved");
    std::fs::create_dir_all(&saved).unwrap();
    let cpe1 = conf("cpe-00001");
    let timers = cpe1
        .lines()
        .find(|l| l.ends_with(" timers 3 9"))
        .unwrap()
        .trim()
        .to_owned();
    let slower = timers.replace("timers 3 9", "timers 5 15");
    std::fs::write(saved.join("cpe-00001.conf"), cpe1.replace(&timers, &slower)).unwrap();
    std::fs::write(
        saved.join("cpe-00007.conf"),
        conf("cpe-00007").replace(
            " description primary uplink\n",
            " description primary uplink\n shutdown\n",
        ),
    )
    .unwrap();
    std::fs::write(saved.join("hub-001.conf"), conf("hub-001")).unwrap();

    // No acceptances: two devices drift.
    let devices = [
        "--device",
        "cpe-00001",
        "--device",
        "cpe-00007",
        "--device",
        "hub-001",
    ];
    let saved_arg = saved.to_str().unwrap();
    let plain = [&["--saved", saved_arg][..], &devices].concat();
    let (code, r) = audit("inventories/lab", &plain);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(r["summary"]["drift"], 2, "{r:#}");
    assert_eq!(r["summary"]["clean"], 1, "{r:#}");

    // The slower timers accepted until the audit day, the shutdown until the day before, and
    // one acceptance for a line hub-001 does not have.
    let inv = lab_with_acceptances(
        tmp.path(),
        &[
            (
                "cpe-00001",
                format!(
                    "  - kind: changed\n    block: [router bgp {}]\n    line: {slower}\n    \
                     owner: noc-hanoi\n    reason: VNPT fibre works\n    expires: {TODAY}\n    \
                     ticket: CR-2026-118\n",
                    asn(&cpe1)
                ),
            ),
            (
                "cpe-00007",
                "  - kind: unexpected\n    block: [interface eth1]\n    line: shutdown\n    \
                 owner: an.nguyen\n    reason: circuit under repair\n    expires: 2026-11-22\n"
                    .to_owned(),
            ),
            (
                "hub-001",
                "  - kind: missing\n    line: log syslog informational\n    owner: soc\n    \
                 reason: collector moved\n    expires: 2027-01-31\n"
                    .to_owned(),
            ),
        ],
    );
    let inv_arg = inv.to_str().unwrap();
    let md = tmp.path().join("audit.md");
    let xml = tmp.path().join("audit.xml");
    let (code, r) = audit(
        inv_arg,
        &[
            &plain[..],
            &[
                "--markdown",
                md.to_str().unwrap(),
                "--junit",
                xml.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert_eq!(code, Some(1), "the expired acceptance is drift: {r:#}");
    let s = &r["summary"];
    assert_eq!(
        (&s["clean"], &s["accepted"], &s["drift"]),
        (&1.into(), &1.into(), &1.into()),
        "{r:#}"
    );
    assert_eq!(s["acceptedDeviations"], 1, "{r:#}");
    assert_eq!(s["expiredAcceptances"], 1, "{r:#}");
    assert_eq!(s["unusedAcceptances"], 1, "{r:#}");
    let cpe = device(&r, "cpe-00001");
    assert_eq!(cpe["status"], "accepted", "{r:#}");
    assert_eq!(cpe["deviations"], serde_json::json!([]), "{r:#}");
    assert_eq!(cpe["accepted"][0]["running"], slower.as_str(), "{r:#}");
    assert_eq!(
        cpe["accepted"][0]["acceptance"],
        serde_json::json!({"index": 0, "owner": "noc-hanoi", "reason": "VNPT fibre works",
            "expires": TODAY, "ticket": "CR-2026-118", "expired": false}),
        "{r:#}"
    );
    let cpe7 = device(&r, "cpe-00007");
    assert_eq!(cpe7["status"], "drift", "{r:#}");
    assert_eq!(cpe7["deviations"][0]["running"], "shutdown", "{r:#}");
    assert_eq!(
        cpe7["deviations"][0]["acceptance"]["expired"], true,
        "{r:#}"
    );
    let hub = device(&r, "hub-001");
    assert_eq!(hub["status"], "clean", "{r:#}");
    assert_eq!(
        hub["unusedAcceptances"][0]["line"],
        "log syslog informational"
    );
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.contains("### Accepted deviations"), "{markdown}");
    assert!(
        markdown.contains("| noc-hanoi | VNPT fibre works | 2026-11-23 | CR-2026-118 |"),
        "{markdown}"
    );
    let junit = std::fs::read_to_string(&xml).unwrap();
    assert!(
        junit.contains("failures=\"1\"")
            && junit.contains("acceptance by an.nguyen expired on 2026-11-22"),
        "{junit}"
    );

    // Text: accepted deviations apart, with owner, expiry and reason; the expired one as drift.
    let o = hatang(&[&["audit", inv_arg, "--today", TODAY][..], &plain].concat());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("cpe-00001  accepted: 1 deviation accepted\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "accepted changed [router bgp {}]: `{slower}` → `{timers}` — accepted by noc-hanoi until 2026-11-23 (CR-2026-118): VNPT fibre works",
            asn(&cpe1)
        )),
        "{out}"
    );
    assert!(
        out.contains("unexpected [interface eth1]: `shutdown` (acceptance by an.nguyen expired on 2026-11-22: circuit under repair)"),
        "{out}"
    );
    assert!(
        out.contains("unused acceptance #0 missing: `log syslog informational`"),
        "{out}"
    );
    assert!(
        out.contains("audit: 3 devices: 1 clean, 1 accepted, 1 drifted (1 deviations), 0 failed, 0 skipped; acceptances: 1 in force, 1 expired, 1 unused"),
        "{out}"
    );

    // Without the expired device only accepted and clean devices remain: exit 0. A day later
    // the timers acceptance has expired too.
    let two = [
        "--saved",
        saved_arg,
        "--device",
        "cpe-00001",
        "--device",
        "hub-001",
    ];
    let (code, r) = audit(inv_arg, &two);
    assert_eq!(code, Some(0), "{r:#}");
    let o = hatang(
        &[
            &["audit", inv_arg, "--today", "2026-11-24", "-o", "json"][..],
            &two,
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(device(&r, "cpe-00001")["status"], "drift", "{r:#}");

    // A device without a saved configuration is not audited.
    let (code, r) = audit(inv_arg, &["--saved", saved_arg, "--device", "edge-main"]);
    assert_eq!(code, Some(1), "{r:#}");
    let edge = device(&r, "edge-main");
    assert_eq!(edge["status"], "failed", "{r:#}");
    assert!(
        edge["note"]
            .as_str()
            .unwrap()
            .starts_with("no saved configuration"),
        "{r:#}"
    );
}
