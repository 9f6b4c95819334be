//! Golden files: the lab inventory, compiled with its committed ledger and rendered for FRR and
//! (as a vendor check) Cisco IOS-XE. Review changes with `cargo insta review`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use hatang_core::compile::compile;
use hatang_core::ipam::{LEDGER_FILE, Ledger};
use hatang_core::model::Platform;
use hatang_core::render::{Templates, render};
use hatang_core::validate::ValidateOptions;
use hatang_core::{LoadOptions, check};

fn lab() -> (hatang_core::Checked, Ledger) {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../inventories/lab");
    let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let checked = check(
        std::slice::from_ref(&dir),
        &LoadOptions::default(),
        &ValidateOptions::on(day),
    )
    .unwrap();
    assert_eq!(checked.errors(), 0);
    let path = dir.join(LEDGER_FILE);
    let ledger = Ledger::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
    (checked, ledger)
}

#[test]
fn frr_configs_of_the_lab() {
    let (checked, ledger) = lab();
    let models = compile(&checked.loaded.inventory, &ledger).unwrap();
    let (files, skipped) = render(&models, &Templates::builtin()).unwrap();
    assert!(skipped.is_empty());
    assert_eq!(files.len(), 2 * models.len());
    for f in &files {
        insta::assert_snapshot!(format!("frr__{}__{}", f.device, f.file), f.text);
    }
}

#[test]
fn cpe_prefers_the_main_data_center_and_filters_what_it_accepts() {
    let (checked, ledger) = lab();
    let models = compile(&checked.loaded.inventory, &ledger).unwrap();
    let cpe = models.iter().find(|m| m.name == "cpe-00001").unwrap();
    assert_eq!(cpe.neighbors.len(), 2);
    let primary = cpe.neighbors.iter().find(|n| n.role == "primary").unwrap();
    let backup = cpe.neighbors.iter().find(|n| n.role == "backup").unwrap();
    assert_eq!(primary.peer, "hub-001");
    assert_eq!(backup.peer, "edge-backup");
    assert!(primary.local_pref > backup.local_pref);
    assert!(primary.prepend.is_empty() && backup.prepend.len() == 2);
    assert_eq!(primary.accept, ["3fff:ab:10::/48", "3fff:ab:11::/48"]);
    assert_eq!(cpe.originate.len(), 1);
    assert_eq!(primary.export, cpe.originate);
    // The hub carries its communes' prefixes to the data centers and accepts only them from each.
    let hub = models.iter().find(|m| m.name == "hub-001").unwrap();
    assert_eq!(hub.carries.len(), 3, "{:?}", hub.carries);
    let up = hub
        .neighbors
        .iter()
        .find(|n| n.peer == "edge-main")
        .unwrap();
    assert_eq!(
        up.export.len(),
        4,
        "own site and three communes: {:?}",
        up.export
    );
    assert_eq!(from_cpe_export(hub), ["3fff:ab:10::/48", "3fff:ab:11::/48"]);
    let from_cpe = hub
        .neighbors
        .iter()
        .find(|n| n.peer == "cpe-00001")
        .unwrap();
    assert_eq!(from_cpe.accept, cpe.originate);
    // The main edge holds the service address on its loopback.
    let edge = models.iter().find(|m| m.name == "edge-main").unwrap();
    assert!(
        edge.interfaces[0]
            .addresses
            .contains(&"3fff:ab:10::1/128".to_owned()),
        "{:?}",
        edge.interfaces[0]
    );
    assert_eq!(edge.syslog[0].to_string(), "3fff:ab:10::514");
}

#[test]
fn iosxe_configs_of_the_lab() {
    let (checked, ledger) = lab();
    let mut models = compile(&checked.loaded.inventory, &ledger).unwrap();
    for m in &mut models {
        m.platform = Platform::Iosxe;
    }
    let (files, _) = render(&models, &Templates::builtin()).unwrap();
    for f in files
        .iter()
        .filter(|f| f.device == "cpe-00001" || f.device == "edge-main")
    {
        insta::assert_snapshot!(format!("iosxe__{}", f.device), f.text);
    }
}

#[test]
fn junos_configs_of_the_lab() {
    let (checked, ledger) = lab();
    let mut models = compile(&checked.loaded.inventory, &ledger).unwrap();
    for m in &mut models {
        m.platform = Platform::Junos;
    }
    let (files, skipped) = render(&models, &Templates::builtin()).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(files.len(), models.len(), "one file per device");
    for f in files
        .iter()
        .filter(|f| f.device == "cpe-00001" || f.device == "edge-main")
    {
        insta::assert_snapshot!(format!("junos__{}", f.device), f.text);
    }
    // Every line is a `set` command or a comment: `load set` takes nothing else.
    for f in &files {
        for line in f.text.lines() {
            assert!(
                line.starts_with("set ") || line.starts_with("# "),
                "{}: {line}",
                f.device
            );
        }
    }
}

#[test]
fn template_errors_name_the_template() {
    let (checked, ledger) = lab();
    let models = compile(&checked.loaded.inventory, &ledger).unwrap();
    let mut t = Templates::builtin();
    t.set("frr", "frr.conf", "{{#each interfaces}}".into());
    let err = render(&models, &t).unwrap_err().to_string();
    assert!(err.contains("frr/frr.conf"), "{err}");
    let mut t = Templates::builtin();
    t.set("frr", "frr.conf", "{{no_such_field}}".into());
    let err = render(&models, &t).unwrap_err().to_string();
    assert!(
        err.contains("no_such_field") || err.contains("strict"),
        "{err}"
    );
}

fn from_cpe_export(hub: &hatang_core::compile::DeviceModel) -> Vec<String> {
    hub.neighbors
        .iter()
        .find(|n| n.peer == "cpe-00001")
        .unwrap()
        .export
        .clone()
}

#[test]
fn apply_expects_every_session_and_every_announced_prefix_a_device_accepts() {
    let (checked, ledger) = lab();
    let models = compile(&checked.loaded.inventory, &ledger).unwrap();
    let expect = hatang_core::apply::expectations(&models);
    assert_eq!(expect.len(), models.len());
    let cpe = &expect["cpe-00001"];
    assert_eq!(cpe.sessions.len(), 2);
    // Both data centers' service prefixes, not its own site prefix.
    assert_eq!(cpe.routes, ["3fff:ab:10::/48", "3fff:ab:11::/48"]);
    let edge = &expect["edge-backup"];
    // The backup edge hears every commune directly and both hubs: 6 + 2 sessions, and every
    // site prefix behind them (the service prefixes are its own).
    assert_eq!(edge.sessions.len(), 8, "{edge:?}");
    assert!(
        !edge
            .routes
            .iter()
            .any(|r| r == "3fff:ab:10::/48" || r == "3fff:ab:11::/48"),
        "{edge:?}"
    );
    assert_eq!(edge.routes.len(), 8, "{edge:?}");
}
