//! The operator pushing and auditing real routers: a lab of `inventories/lab` (FRR behind
//! OpenSSH in network namespaces, `hatang_lab`) and the real kube-apiserver of
//! `tests/cluster`, the operator binary in between with the lab's login key and pinned host
//! keys in the `hatang-ssh` Secret.
//!
//! One story, in order: `manual` plans only (routers untouched, `AwaitingApproval`); an approval
//! of a stale hash pushes nothing; approving the current hashes pushes the fleet in one
//! transaction (`Applied`, `status.applied` = `status.rendered`, the routers run the rendered
//! configurations); an `auto` device is pushed without approval; a change by hand is `Drifted`
//! with one Warning event, and healed by approving the hash again; a configuration a router
//! rejects leaves every router as it was; a Secret without a device's host key pushes nothing.
//!
//! Needs root, the lab's Debian packages (as `cli/tests/e2e.rs`) and an operator binary built with
//! `--features hatang-operator/fault-injection` (the run killed mid-commit): it is
//! `#[ignore = "needs root: …"]`, run by `./scripts/test.sh` as root with `--include-ignored`
//! and those features, and fails, loudly, when run otherwise.
//! Takes its turn with the other lab tests (`hatang_test_support::lab_lock`), uses its own lab
//! name (`op`) and management addresses (`3fff:ab:fb:…`), and takes the lab down whatever
//! happens.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use hatang_core::Kind;
use hatang_kube_api::{client, manifests};
use hatang_lab::{self as lab, LabOptions, LabPlan, UpOptions};
use hatang_test_support::cluster::{Cluster, Operator, condition, install, root};
use hatang_test_support::{copy_dir, lab_lock, require_root};

const LAB: &str = "op";
const APPROVE: &str = "hatang.io/approve";
const POLICY: &str = "hatang.io/apply-policy";

/// The lab, taken down on drop (also when the test panics).
struct Lab(LabPlan);

impl Drop for Lab {
    fn drop(&mut self) {
        let report = lab::down(&self.0, 8);
        if !report.errors.is_empty() {
            eprintln!("lab {LAB} down: {:?}", report.errors);
        }
    }
}

/// `vtysh` on a router from the host, in the router's UTS namespace (vtysh prints the hostname
/// it runs under, as over SSH).
fn vtysh(device: &str, commands: &[&str]) -> String {
    let ns = format!("{LAB}-{device}");
    let uts = format!("--uts=/run/hatang-lab/{LAB}/uts/{device}");
    let mut args = vec![uts.as_str(), "vtysh", "-N", ns.as_str()];
    for c in commands {
        args.extend(["-c", c]);
    }
    let o = std::process::Command::new("nsenter")
        .args(&args)
        .output()
        .expect("nsenter vtysh");
    assert!(
        o.status.success(),
        "vtysh on {device}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn running(device: &str) -> String {
    vtysh(device, &["show running-config"])
}

fn rendered_sha(o: &DynamicObject) -> String {
    o.data["status"]["rendered"]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn applied_sha(o: &DynamicObject) -> Option<String> {
    o.data["status"]["applied"]["sha256"]
        .as_str()
        .map(str::to_owned)
}

struct World {
    cluster: Cluster,
    client: Client,
    devices: Api<DynamicObject>,
    operator: Option<Operator>,
    state: PathBuf,
    /// `--templates` of the operators started from now on.
    templates: Option<String>,
}

impl World {
    fn start_operator(&mut self) {
        self.start_operator_env(&[]);
    }

    fn start_operator_env(&mut self, env: &[(&str, &str)]) {
        self.operator = None;
        let state = self.state.to_str().unwrap().to_owned();
        let mut args = vec![];
        if let Some(dir) = &self.templates {
            args.extend(["--templates", dir.as_str()]);
        }
        args.extend([
            "--state-dir",
            &state,
            "--audit-seconds",
            "2",
            "--apply-backoff-seconds",
            "600",
            "--verify-timeout",
            "120",
            "--ssh-timeout",
            "60",
            "--resync-seconds",
            "5",
        ]);
        self.operator = Some(Operator::start_env(
            &self.cluster,
            &self.cluster.kubeconfig(),
            "apply",
            &args,
            env,
        ));
    }

    fn stop_operator(&mut self) {
        self.operator = None;
    }

    fn log_tail(&self) -> String {
        let log = self
            .operator
            .as_ref()
            .map(|o| std::fs::read_to_string(&o.log).unwrap_or_default())
            .unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    async fn device(&self, name: &str) -> DynamicObject {
        self.devices.get(name).await.unwrap()
    }

    /// Polls `name` until `check` holds (or fails after `secs`, showing its status and the
    /// operator's log).
    async fn wait(
        &self,
        secs: u64,
        name: &str,
        what: &str,
        check: impl Fn(&DynamicObject) -> bool,
    ) -> DynamicObject {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let o = self.device(name).await;
            if check(&o) {
                return o;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {secs}s waiting for {name}: {what}\nstatus: {:#}\noperator log:\n{}",
                    o.data["status"],
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn annotate(&self, name: &str, key: &str, value: &str) {
        self.devices
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"metadata": {"annotations": {key: value}}})),
            )
            .await
            .unwrap();
    }

    /// Sets the description of the device's first interface (it is rendered into `frr.conf`).
    async fn describe(&self, name: &str, description: &str) {
        self.try_describe(name, description).await.unwrap();
    }

    async fn try_describe(&self, name: &str, description: &str) -> Result<(), kube::Error> {
        let o = self.device(name).await;
        let mut interfaces = o.data["spec"]["interfaces"].clone();
        interfaces[0]["description"] = json!(description);
        self.devices
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"spec": {"interfaces": interfaces}})),
            )
            .await
            .map(|_| ())
    }

    async fn secret(&self, key: &str, known_hosts: &str) {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), "hatang-system");
        let _ = secrets.delete("hatang-ssh", &Default::default()).await;
        let mut s = Secret::default();
        s.metadata.name = Some("hatang-ssh".into());
        s.data = Some(
            [
                ("id_ed25519".to_owned(), ByteString(key.as_bytes().to_vec())),
                (
                    "known_hosts".to_owned(),
                    ByteString(known_hosts.as_bytes().to_vec()),
                ),
            ]
            .into(),
        );
        secrets.create(&PostParams::default(), &s).await.unwrap();
    }

    /// The rendered `frr.conf` of a device, from its ConfigMap.
    async fn rendered(&self, name: &str) -> String {
        let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(self.client.clone(), "hatang-system");
        cms.get(&format!("hatang-config-{name}"))
            .await
            .unwrap()
            .data
            .unwrap()["frr.conf"]
            .clone()
    }

    /// Events of `reason` about Device `name`.
    fn events(&self, name: &str, reason: &str) -> Vec<Value> {
        let out = self
            .cluster
            .kubectl(&["get", "events.events.k8s.io", "-A", "-o", "json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["reason"] == reason && e["regarding"]["name"] == name)
            .cloned()
            .collect()
    }

    /// Transactions recorded in the state directory: (id, journal), oldest first.
    fn journals(&self) -> Vec<(String, Value)> {
        let dir = self.state.join("applies");
        let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.map(|e| {
                    let e = e.unwrap();
                    let text = std::fs::read_to_string(e.path().join("journal.json")).unwrap();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        serde_json::from_str(&text).unwrap(),
                    )
                })
                .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// Templates (`--templates`) whose `frr.conf` gives hub-002, and only it, a line FRR rejects.
fn bad_templates(dir: &Path) -> String {
    let frr = dir.join("frr");
    std::fs::create_dir_all(&frr).unwrap();
    let base = std::fs::read_to_string(root().join("templates/frr/frr.conf.hbs")).unwrap();
    let edited = base.replacen(
        "hostname {{name}}\n",
        "hostname {{name}}\n{{#if (eq name \"hub-002\")}}\nthis is not an frr command\n{{/if}}\n",
        1,
    );
    assert_ne!(edited, base, "the edit changes the template");
    std::fs::write(frr.join("frr.conf.hbs"), edited).unwrap();
    dir.to_str().unwrap().to_owned()
}

fn applied_current(o: &DynamicObject) -> bool {
    condition(o, "Applied").is_some_and(|c| c.0 == "True" && c.1 == "Applied")
        && applied_sha(o).as_deref() == Some(rendered_sha(o).as_str())
        && !rendered_sha(o).is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root: network namespaces, veth links, FRR and sshd; and the operator built with fault-injection"]
async fn operator_applies_on_approval_or_auto_audits_drift_and_refuses_unknown_hosts() {
    require_root("the operator's apply test");
    let _turn = lab_lock();
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("lab");
    copy_dir(&root().join("inventories/lab"), &inv, &|t| {
        t.replace("address: 3fff:ab:ff:", "address: 3fff:ab:fb:")
    });
    let loaded = hatang_core::load_paths(std::slice::from_ref(&inv), &Default::default()).unwrap();
    assert!(!loaded.has_errors());
    let inventory = loaded.inventory;
    let mut names: Vec<String> = inventory
        .devices
        .iter()
        .map(|d| d.name().to_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 10);

    // The lab comes up while the control plane starts.
    let plan = lab::plan(&inventory, &LabOptions::new(LAB)).expect("lab plan");
    let _ = lab::down(&plan, 8); // leftovers of a killed run
    let lab_thread = {
        let plan = plan.clone();
        std::thread::spawn(move || lab::up(&plan, &UpOptions::default()).map(|_| ()))
    };
    let lab_guard = Lab(plan.clone());
    let cluster = Cluster::up();
    install(&cluster);
    lab_thread
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("lab up: {e}"));
    let samples = tmp.path().join("samples");
    for (rel, text) in manifests::samples(&inventory).unwrap() {
        let path = tmp.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    cluster.kubectl(&["apply", "-k", samples.to_str().unwrap()]);
    let admin = cluster.client(None).await;
    let key = std::fs::read_to_string(plan.user_key()).unwrap();
    let known_hosts = std::fs::read_to_string(plan.known_hosts()).unwrap();
    let keys = |text: &str| text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(keys(&known_hosts), 10, "{known_hosts}");
    let mut w = World {
        devices: client::api(&admin, Kind::Device, None),
        client: admin,
        cluster,
        operator: None,
        state: tmp.path().join("state"),
        templates: None,
    };
    w.secret(&key, &known_hosts).await;
    let before: Vec<(String, String)> = names.iter().map(|d| (d.clone(), running(d))).collect();
    eprintln!("lab and cluster up: {:?}", t0.elapsed());

    // 1. manual (the default): every device rendered and awaiting approval; nothing pushed.
    w.start_operator();
    for d in &names {
        let o = w
            .wait(60, d, "Applied=False AwaitingApproval", |o| {
                condition(o, "Applied").is_some_and(|c| c.0 == "False" && c.1 == "AwaitingApproval")
            })
            .await;
        let sha = rendered_sha(&o);
        assert_eq!(sha.len(), 64);
        assert_eq!(o.data["status"]["pendingSha256"], json!(sha), "{d}");
        assert!(applied_sha(&o).is_none());
        let (_, _, message) = condition(&o, "Applied").unwrap();
        assert!(message.contains(&format!("{APPROVE}={sha}")), "{message}");
    }

    // 2. An approval of a hash that is no longer the rendered one pushes nothing.
    let hub = "hub-001";
    let old = rendered_sha(&w.device(hub).await);
    w.describe(hub, "uplink to main DC (fibre route 2)").await;
    let o = w
        .wait(30, hub, "a new rendering", |o| {
            let s = rendered_sha(o);
            !s.is_empty() && s != old
        })
        .await;
    let new = rendered_sha(&o);
    w.annotate(hub, APPROVE, &old).await;
    let o = w
        .wait(30, hub, "Applied=False StaleApproval", |o| {
            condition(o, "Applied").is_some_and(|c| c.1 == "StaleApproval")
        })
        .await;
    let (_, _, message) = condition(&o, "Applied").unwrap();
    assert!(
        message.contains(&old) && message.contains(&new) && message.contains("nothing pushed"),
        "{message}"
    );
    assert_eq!(w.events(hub, "StaleApproval").len(), 1);
    // Passes go on (resync 5 s); still nothing reaches any router.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(w.journals().is_empty(), "no transaction ran");
    for (d, text) in &before {
        assert_eq!(&running(d), text, "{d} untouched while awaiting approval");
    }

    // 3. Approving the current hashes pushes them, all in one transaction. (The operator is
    //    stopped meanwhile so the approvals land in one pass: routers that depend on each other
    //    must change together, or verification could not see their sessions come up.)
    w.stop_operator();
    let mut approved = Vec::new();
    for d in &names {
        let sha = rendered_sha(&w.device(d).await);
        w.annotate(d, APPROVE, &sha).await;
        approved.push((d.clone(), sha));
    }
    let t = Instant::now();
    w.start_operator();
    for (d, sha) in &approved {
        let o = w
            .wait(
                180,
                d,
                "Applied=True with status.applied = status.rendered",
                applied_current,
            )
            .await;
        assert_eq!(&rendered_sha(&o), sha);
        assert!(
            o.metadata
                .annotations
                .as_ref()
                .is_none_or(|a| !a.contains_key(APPROVE)),
            "the approval of {d} is consumed"
        );
    }
    eprintln!("fleet applied on approval: {:?}", t.elapsed());
    let journals = w.journals();
    assert_eq!(journals.len(), 1, "one transaction for the fleet");
    assert_eq!(journals[0].1["outcome"], "committed");
    assert_eq!(journals[0].1["devices"].as_array().unwrap().len(), 10);
    for d in &names {
        let o = w.device(d).await;
        assert_eq!(
            o.data["status"]["applied"]["applyId"],
            json!(journals[0].0),
            "{d}"
        );
        assert!(o.data["status"]["pendingSha256"].is_null(), "{d}");
        // The router runs exactly the rendered configuration (the audit's comparison).
        let deviations = hatang_core::audit::diff(&w.rendered(d).await, &running(d));
        assert!(deviations.is_empty(), "{d}: {deviations:?}");
        assert!(running(d).contains(&format!("hostname {d}")));
    }
    assert!(running(hub).contains("description uplink to main DC (fibre route 2)"));
    // The periodic audit agrees.
    for d in &names {
        w.wait(30, d, "Drifted=False", |o| {
            condition(o, "Drifted").is_some_and(|c| c.0 == "False")
        })
        .await;
    }

    // 4. auto on one device: a new rendering is pushed without approval; a manual device
    //    with a new rendering waits.
    let cpe = "cpe-00001";
    let manual = "cpe-00007";
    let manual_before = running(manual);
    w.annotate(cpe, POLICY, "auto").await;
    w.describe(cpe, "primary uplink (auto policy)").await;
    w.describe(manual, "primary uplink (waits)").await;
    let o = w
        .wait(120, cpe, "the auto device applied its new rendering", |o| {
            applied_current(o)
                && approved
                    .iter()
                    .all(|(_, sha)| applied_sha(o).as_ref() != Some(sha))
        })
        .await;
    assert!(running(cpe).contains("description primary uplink (auto policy)"));
    assert!(
        o.metadata
            .annotations
            .as_ref()
            .unwrap()
            .contains_key(POLICY)
    );
    let m = w
        .wait(30, manual, "AwaitingApproval", |o| {
            condition(o, "Applied").is_some_and(|c| c.1 == "AwaitingApproval")
        })
        .await;
    assert_ne!(applied_sha(&m).unwrap(), rendered_sha(&m));
    assert_eq!(
        running(manual),
        manual_before,
        "the manual device is untouched"
    );

    // 5. Drift: a timer changed by hand is found by the next audit, once as an event; the
    //    metric counts it; approving the applied hash again heals it.
    let conf = w.rendered(hub).await;
    let asn = conf
        .lines()
        .find_map(|l| l.strip_prefix("router bgp "))
        .unwrap()
        .to_owned();
    let neighbor = conf
        .lines()
        .find_map(|l| l.strip_prefix(" neighbor ")?.strip_suffix(" timers 3 9"))
        .unwrap()
        .to_owned();
    vtysh(
        hub,
        &[
            "configure terminal",
            &format!("router bgp {asn}"),
            &format!("neighbor {neighbor} timers 5 15"),
        ],
    );
    let o = w
        .wait(30, hub, "Drifted=True", |o| {
            condition(o, "Drifted").is_some_and(|c| c.0 == "True")
        })
        .await;
    let (_, reason, message) = condition(&o, "Drifted").unwrap();
    assert_eq!(reason, "Drifted");
    assert!(
        message.starts_with("1 deviation from the applied configuration")
            && message.contains(&format!("neighbor {neighbor} timers 5 15")),
        "{message}"
    );
    // The condition names the backup of the running configuration it was judged on.
    assert!(
        message.contains(&format!("running configuration kept as backups/{hub}/")),
        "{message}"
    );
    // Several audits later: still one event, and the gauge says one device.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let events = w.events(hub, "Drifted");
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["type"], "Warning");
    assert!(events[0]["series"].is_null(), "{events:#?}");
    let metric = w
        .operator
        .as_ref()
        .unwrap()
        .metric("hatang_devices_drifted");
    assert_eq!(metric, Some(1));
    // Hand changes are never undone silently: still drifted, nothing pushed.
    assert!(running(hub).contains(&format!("neighbor {neighbor} timers 5 15")));
    let sha = rendered_sha(&o);
    w.annotate(hub, APPROVE, &sha).await;
    w.wait(120, hub, "Drifted=False after the re-push", |o| {
        condition(o, "Drifted").is_some_and(|c| c.0 == "False") && applied_current(o)
    })
    .await;
    assert!(running(hub).contains(&format!("neighbor {neighbor} timers 3 9")));
    assert_eq!(
        w.operator
            .as_ref()
            .unwrap()
            .metric("hatang_devices_drifted"),
        Some(0)
    );

    // 6. A configuration one router rejects, in the same transaction as a good one: nothing
    //    of it is applied anywhere; the good one follows in a transaction of its own, the bad
    //    one is not retried in a loop.
    let bad = "hub-002";
    // Free text cannot carry the bad command: the CRD refuses a line break in a description
    // (as `hatang validate` does; the operator would not render one either).
    let refused = w
        .try_describe(bad, "uplink\nthis is not an frr command")
        .await
        .expect_err("a line break in a description is refused");
    assert!(
        matches!(&refused, kube::Error::Api(e) if e.code == 422
            && e.message.contains("spec.interfaces[0].description")),
        "{refused}"
    );
    // So the operator renders with templates that add a command FRR rejects, for hub-002 only
    // (as `cli/tests/e2e.rs` step 5 does with `hatang apply --templates`).
    let applied_hub = rendered_sha(&w.device(bad).await);
    w.templates = Some(bad_templates(&tmp.path().join("bad-templates")));
    w.start_operator();
    let o = w
        .wait(30, bad, "the bad rendering", |o| {
            condition(o, "Applied").is_some_and(|c| c.1 == "AwaitingApproval")
                && rendered_sha(o) != applied_hub
        })
        .await;
    assert!(
        w.rendered(bad)
            .await
            .contains("\nthis is not an frr command\n")
    );
    let bad_sha = rendered_sha(&o);
    let bad_before = running(bad);
    let cpe_before = running(cpe);
    let transactions = w.journals().len();
    w.stop_operator();
    w.annotate(bad, APPROVE, &bad_sha).await;
    w.describe(cpe, "primary uplink (with the bad one)").await;
    w.start_operator();
    let o = w
        .wait(120, bad, "Applied=False naming the device", |o| {
            condition(o, "Applied").is_some_and(|c| c.1 == "ApplyFailed")
        })
        .await;
    let (status, _, message) = condition(&o, "Applied").unwrap();
    assert_eq!(status, "False");
    assert!(
        message.contains("hub-002") && message.contains("this is not an frr command"),
        "names the device and vtysh's complaint: {message}"
    );
    assert_eq!(running(bad), bad_before, "the rejected device is unchanged");
    assert_eq!(w.events(bad, "ApplyFailed").len(), 1);
    let journals = w.journals();
    let failed = &journals[transactions].1;
    assert_eq!(failed["outcome"], "aborted", "{failed:#}");
    let in_failed: Vec<&str> = failed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        in_failed,
        ["cpe-00001", "hub-002"],
        "both in one transaction"
    );
    assert!(
        failed["devices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["step"] != "committed" && d["step"] != "saved"),
        "nothing committed: {failed:#}"
    );
    let o = w
        .wait(
            120,
            cpe,
            "the good device applied on its own",
            applied_current,
        )
        .await;
    assert!(running(cpe).contains("description primary uplink (with the bad one)"));
    assert_ne!(running(cpe), cpe_before);
    let journals = w.journals();
    assert_eq!(
        journals.len(),
        transactions + 2,
        "then one retry, without hub-002"
    );
    assert_eq!(
        o.data["status"]["applied"]["applyId"],
        json!(journals[transactions + 1].0)
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        w.journals().len(),
        transactions + 2,
        "the failing hash backs off"
    );
    let (_, reason, _) = condition(&w.device(bad).await, "Applied").unwrap();
    assert_eq!(reason, "ApplyFailed");

    // 7. A Secret that no longer pins a device's host key: that device is refused, nothing
    //    pushed, and the condition says why.
    let target = "cpe-00031";
    let address = inventory
        .devices
        .iter()
        .find(|d| d.name() == target)
        .unwrap()
        .spec
        .management
        .as_ref()
        .unwrap()
        .address
        .to_string();
    let without: String = known_hosts
        .lines()
        .filter(|l| !l.starts_with(&format!("{address} ")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(keys(&without), 9);
    w.secret(&key, &without).await;
    // Its next audit cannot log in …
    let o = w
        .wait(30, target, "Drifted=Unknown HostKeyRefused", |o| {
            condition(o, "Drifted").is_some_and(|c| c.0 == "Unknown" && c.1 == "HostKeyRefused")
        })
        .await;
    let (_, _, message) = condition(&o, "Drifted").unwrap();
    assert!(message.contains(target), "{message}");
    // … and a new rendering is not pushed to it.
    let target_before = running(target);
    w.annotate(target, POLICY, "auto").await;
    w.describe(target, "primary uplink (unknown host)").await;
    let o = w
        .wait(60, target, "Applied=False HostKeyRefused", |o| {
            condition(o, "Applied").is_some_and(|c| c.1 == "HostKeyRefused")
        })
        .await;
    let (_, _, message) = condition(&o, "Applied").unwrap();
    assert!(
        message.contains(target) && message.contains(&format!("host key of {address} is unknown")),
        "{message}"
    );
    assert_eq!(running(target), target_before, "nothing pushed");
    let last = w.journals().pop().unwrap().1;
    assert_eq!(last["outcome"], "aborted", "{last:#}");
    // 8. The operator killed in the middle of a commit: the next one rolls the touched device
    //    back before anything else, then pushes again.
    w.secret(&key, &known_hosts).await;
    w.devices
        .patch(
            bad,
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"annotations": {APPROVE: null}}})),
        )
        .await
        .unwrap();
    let pair = ["cpe-00061", "cpe-00070"];
    // With the pin back, cpe-00031's pending rendering (auto) joins them.
    let trio = ["cpe-00031", "cpe-00061", "cpe-00070"];
    let trio_before: Vec<(&str, String)> = trio.iter().map(|d| (*d, running(d))).collect();
    let transactions = w.journals().len();
    w.stop_operator();
    for d in pair {
        w.annotate(d, POLICY, "auto").await;
        w.describe(d, "primary uplink (killed mid-commit)").await;
    }
    w.start_operator_env(&[("HATANG_APPLY_FAIL_AFTER", "1")]);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(status)) = w.operator.as_mut().unwrap().child.try_wait() {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(6), "aborted (SIGABRT): {status:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the operator did not abort\n{}",
            w.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let journals = w.journals();
    let (killed_id, killed) = journals.last().unwrap().clone();
    assert_eq!(journals.len(), transactions + 1);
    assert_eq!(killed["phase"], "commit", "{killed:#}");
    let touched: Vec<&str> = killed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["step"] == "committed")
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(!touched.is_empty(), "{killed:#}");
    let in_killed: Vec<&str> = killed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(in_killed, trio, "{killed:#}");
    for (d, before) in &trio_before {
        if touched.contains(d) {
            assert_ne!(&running(d), before, "{d} was committed before the kill");
        }
    }
    w.start_operator();
    for d in trio {
        w.wait(120, d, "applied after recovery", applied_current)
            .await;
    }
    for d in pair {
        assert!(running(d).contains("description primary uplink (killed mid-commit)"));
    }
    let recovered: Value = serde_json::from_str(
        &std::fs::read_to_string(
            w.state
                .join("applies")
                .join(&killed_id)
                .join("journal.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(recovered["outcome"], "rolled-back", "{recovered:#}");
    let last = w.journals().pop().unwrap();
    assert_ne!(last.0, killed_id);
    assert_eq!(last.1["outcome"], "committed");

    // No pass loop: statuses settle (a back-off message is a fixed text), so passes follow
    // changes, audits (every 2 s) and the resync — not a status patch of their own each time.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let op = w.operator.as_ref().unwrap();
    let before = op.metric("hatang_status_patches_total").unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = op.metric("hatang_status_patches_total").unwrap();
    assert!(
        after - before <= 2,
        "status patches while nothing changes: {}",
        after - before
    );
    drop(w);
    drop(lab_guard);
    eprintln!("operator apply test: {:?}", t0.elapsed());
}
