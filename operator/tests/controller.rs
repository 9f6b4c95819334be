//! The controllers against a real kube-apiserver: the same allocations as the CLI, status and
//! conditions, capacity and lease events, finalizers and holds, leader election, racing writers,
//! and a crash plus an API-server restart in the middle of reconciling.

use std::collections::{BTreeMap, HashSet};

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;

use hatang_core::Kind;
use hatang_core::ipam::Ledger;
use hatang_kube_api::{client, ledger};
use hatang_operator::controller::FINALIZER;
use hatang_test_support::cluster::{
    Cluster, Operator, condition, install_with_samples, root, wait_for,
};

const LEDGER: &str = "hatang-ledger-default";

async fn cluster_ledger(c: &Client) -> Option<Ledger> {
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "hatang-system");
    let v = ledger::read(&cms, LEDGER).await.unwrap();
    v.resource_version.map(|_| v.ledger)
}

fn ready(o: &DynamicObject) -> bool {
    condition(o, "Ready").is_some_and(|(status, _, _)| status == "True")
}

/// Whether the object is not Ready for `reason`, with a message containing `says`.
fn not_ready(o: &DynamicObject, reason: &str, says: &str) -> bool {
    condition(o, "Ready").is_some_and(|(status, r, message)| {
        status == "False" && r == reason && message.contains(says)
    })
}

async fn all_ready(c: &Client, kind: Kind) -> (usize, usize) {
    let items = client::api(c, kind, None)
        .list(&Default::default())
        .await
        .unwrap()
        .items;
    (items.iter().filter(|o| ready(o)).count(), items.len())
}

fn site(name: &str) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "hatang.io/v1alpha1", "kind": "Site",
        "metadata": {"name": name}, "spec": {"displayName": name, "role": "agency",
        "region": "phuong-phuc-xa-00001", "uplink": "single-homed"}}))
    .unwrap()
}

/// Creates `names` as agency Sites from `clients` concurrent tasks.
async fn create_sites(c: &Client, names: Vec<String>, clients: usize) {
    let api = client::api(c, Kind::Site, None);
    futures::stream::iter(names)
        .map(|n| {
            let api = api.clone();
            async move { api.create(&PostParams::default(), &site(&n)).await.unwrap() }
        })
        .buffer_unordered(clients)
        .collect::<Vec<_>>()
        .await;
}

/// Site name → its allocated /48, from the statuses.
async fn site_prefixes(c: &Client) -> BTreeMap<String, String> {
    let items = client::api(c, Kind::Site, None)
        .list(&Default::default())
        .await
        .unwrap()
        .items;
    let mut out = BTreeMap::new();
    for o in items {
        for (k, v) in o.data["status"]["allocations"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if k.starts_with("site/") {
                out.insert(o.name_any(), v.as_str().unwrap().to_owned());
            }
        }
    }
    out
}

fn assert_unique(ledger: &Ledger) {
    let mut seen = HashSet::new();
    for (k, e) in &ledger.entries {
        assert!(
            seen.insert(e.value.to_string()),
            "{k}: {} handed out twice",
            e.value
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_allocates_like_the_cli_and_reports_status() {
    let c = Cluster::up();
    install_with_samples(&c);
    let admin = c.client(None).await;
    // The operator runs as its own ServiceAccount: the generated least-privilege role is enough.
    let sa_kubeconfig = c.kubeconfig_for("operator", &c.token("hatang-system", "hatang-operator"));
    let op_a = Operator::start_with(&c, &sa_kubeconfig, "op-a", &["--lease-warning-days", "30"]);
    let loaded =
        hatang_core::load_paths(&[root().join("inventories/lab")], &Default::default()).unwrap();
    let inventory_len = loaded.inventory.len();

    wait_for(60, "every lab object Ready", || async {
        let mut n = 0;
        for &k in Kind::ALL {
            let (r, total) = all_ready(&admin, k).await;
            if r != total {
                return false;
            }
            n += total;
        }
        n == inventory_len
    })
    .await;

    // The cluster ledger is the CLI's: the committed lock file, and a fresh allocation.
    let got = cluster_ledger(&admin).await.expect("ledger ConfigMap");
    let lock = root().join("inventories/lab/allocations.lock.yaml");
    let committed = Ledger::parse(&lock, &std::fs::read_to_string(&lock).unwrap()).unwrap();
    assert_eq!(got, committed);
    let locator = loaded.locator();
    let fresh = hatang_core::ipam::allocate(
        &loaded.inventory,
        Ledger::default(),
        &locator,
        chrono::Utc::now().date_naive(),
    )
    .unwrap();
    assert_eq!(got, fresh.ledger);
    // Each object's status carries its own entries.
    for o in client::api(&admin, Kind::Site, None)
        .list(&Default::default())
        .await
        .unwrap()
        .items
    {
        let owner = format!("Site/{}", o.name_any());
        let mine: BTreeMap<String, String> = got
            .entries
            .iter()
            .filter(|(_, e)| e.owner == owner)
            .map(|(k, e)| (k.clone(), e.value.to_string()))
            .collect();
        let status: BTreeMap<String, String> =
            serde_json::from_value(o.data["status"]["allocations"].clone()).unwrap_or_default();
        assert_eq!(status, mine, "{owner}");
        assert_eq!(
            o.data["status"]["observedGeneration"],
            o.metadata.generation.unwrap()
        );
        assert!(o.finalizers().iter().any(|f| f == FINALIZER), "{owner}");
    }
    // Every device carries the hash of what `hatang render` writes for it (same compile and
    // templates, on the same ledger), with Rendered=True.
    let models = hatang_core::compile::compile(&loaded.inventory, &committed).unwrap();
    let (files, _) =
        hatang_core::render::render(&models, &hatang_core::render::Templates::builtin()).unwrap();
    let devices = client::api(&admin, Kind::Device, None)
        .list(&Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(devices.len(), loaded.inventory.devices.len());
    for o in devices {
        let name = o.name_any();
        let expected = hatang_kube_api::status::RenderedConfig::of(
            files
                .iter()
                .filter(|f| f.device == name)
                .map(|f| (f.file.as_str(), f.text.as_str())),
        );
        assert!(!expected.files.is_empty(), "{name} renders files");
        let got: hatang_kube_api::status::RenderedConfig =
            serde_json::from_value(o.data["status"]["rendered"].clone())
                .unwrap_or_else(|e| panic!("{name}: status.rendered: {e}"));
        assert_eq!(got, expected, "{name}");
        let rendered = o.data["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Rendered")
            .cloned()
            .unwrap_or_default();
        assert_eq!(rendered["status"], "True", "{name}: {rendered}");
        // The files themselves, in the operator's namespace, under the same hash.
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(admin.clone(), "hatang-system");
        let cm = cms
            .get(&hatang_operator::controller::config_map_name(&name))
            .await
            .unwrap_or_else(|e| panic!("{name}: config map: {e}"));
        assert_eq!(
            cm.metadata.annotations.unwrap_or_default()["hatang.io/sha256"],
            got.sha256,
            "{name}"
        );
        let stored: BTreeMap<String, String> = cm.data.unwrap_or_default();
        let want: BTreeMap<String, String> = files
            .iter()
            .filter(|f| f.device == name)
            .map(|f| (f.file.clone(), f.text.clone()))
            .collect();
        assert_eq!(stored, want, "{name}");
    }

    // `hatang-operator plan` (the CLI's planner on the cluster ledger) has nothing left to do.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hatang-operator"))
        .args(["plan", root().join("inventories/lab").to_str().unwrap()])
        .env("KUBECONFIG", c.kubeconfig())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("0 changes, {} kept", committed.entries.len())),
        "{text}"
    );

    // Health, readiness, metrics, leadership.
    assert_eq!(op_a.get("/healthz").0, 200);
    assert_eq!(op_a.get("/readyz").0, 200);
    assert_eq!(op_a.metric("hatang_leader"), Some(1));
    assert_eq!(
        op_a.metric("hatang_ledger_entries"),
        Some(committed.entries.len() as u64)
    );
    // Pool use: every loopback of the ledger is a used slot of the loopback pool.
    let loopbacks = committed
        .entries
        .values()
        .filter(|e| e.pool == "loopback")
        .count() as u64;
    assert!(loopbacks > 0);
    assert_eq!(
        op_a.metric("hatang_pool_slots_used{pool=\"loopback\"}"),
        Some(loopbacks)
    );
    let leases: Api<Lease> = Api::namespaced(admin.clone(), "hatang-system");
    let lease = leases.get("hatang-operator-default").await.unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity.as_deref(), Some("op-a"));

    // A lease over a rack's power budget is not Ready, and says which rack.
    let leases_api = client::api(&admin, Kind::ColoLease, Some("lab-tenant"));
    let today = chrono::Utc::now().date_naive();
    let soon = today + chrono::Days::new(10);
    let heavy: DynamicObject = serde_json::from_value(json!({"apiVersion": "hatang.io/v1alpha1",
        "kind": "ColoLease", "metadata": {"name": "heavy", "namespace": "lab-tenant"},
        "spec": {"tenant": "lab-tenant", "dataCenter": "dc-lab-main", "space": [{"rack": "L01"}],
                 "powerKw": 9, "start": "2025-01-01", "end": soon.to_string(), "temporary": true}}))
    .unwrap();
    leases_api
        .create(&PostParams::default(), &heavy)
        .await
        .unwrap();
    wait_for(
        30,
        "the heavy lease's Ready=False naming rack L01",
        || async {
            let o = leases_api.get("heavy").await.unwrap();
            not_ready(&o, "CapacityExceeded", "rack `L01`")
        },
    )
    .await;
    // It ends within the warning window: a Warning event on the lease.
    wait_for(30, "a LeaseExpiring event", || async {
        let out = c.kubectl(&[
            "get",
            "events.events.k8s.io",
            "-n",
            "lab-tenant",
            "-o",
            "json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["items"].as_array().into_iter().flatten().any(|e| {
            e["reason"] == "LeaseExpiring"
                && e["regarding"]["name"] == "heavy"
                && e["type"] == "Warning"
        })
    })
    .await;

    // A site whose region does not exist: allocated (keys are stable) but not Ready, with the
    // validation message the CLI would print.
    let sites_api = client::api(&admin, Kind::Site, None);
    let mut stray = site("stray");
    stray.data["spec"]["region"] = json!("no-such-region");
    sites_api
        .create(&PostParams::default(), &stray)
        .await
        .unwrap();
    wait_for(
        30,
        "the stray site's Ready=False naming the missing region",
        || async {
            let o = sites_api.get("stray").await.unwrap();
            not_ready(&o, "Invalid", "no-such-region")
        },
    )
    .await;
    sites_api
        .delete("stray", &Default::default())
        .await
        .unwrap();

    // Deleting a site: the finalizer holds it until the ledger records the hold, then it goes.
    let sites = client::api(&admin, Kind::Site, None);
    sites
        .delete("hub-quan-hoan-kiem-002", &Default::default())
        .await
        .unwrap();
    wait_for(30, "the deleted site to be gone", || async {
        sites
            .get_opt("hub-quan-hoan-kiem-002")
            .await
            .unwrap()
            .is_none()
    })
    .await;
    let after = cluster_ledger(&admin).await.unwrap();
    let held = &after.entries["site/hub-quan-hoan-kiem-002"];
    assert!(
        held.held.is_some(),
        "the value is held, not released: {held:?}"
    );
    assert_eq!(
        held.value,
        committed.entries["site/hub-quan-hoan-kiem-002"].value
    );

    // A second replica waits; it takes over when the leader dies.
    let op_b = Operator::start_with(&c, &sa_kubeconfig, "op-b", &[]);
    wait_for(30, "op-b ready", || async { op_b.get("/readyz").0 == 200 }).await;
    assert_eq!(op_b.metric("hatang_leader"), Some(0));
    drop(op_a);
    wait_for(40, "op-b to take the lease", || async {
        op_b.metric("hatang_leader") == Some(1)
    })
    .await;
    let lease = leases
        .get("hatang-operator-default")
        .await
        .unwrap()
        .spec
        .unwrap();
    assert_eq!(lease.holder_identity.as_deref(), Some("op-b"));
    assert!(lease.lease_transitions.unwrap_or(0) >= 1);
    // And reconciles: a new site becomes Ready under the new leader.
    create_sites(&admin, vec!["after-failover".into()], 1).await;
    wait_for(30, "the new site Ready under op-b", || async {
        sites
            .get_opt("after-failover")
            .await
            .unwrap()
            .is_some_and(|o| ready(&o))
    })
    .await;

    // SIGTERM (a pod being stopped): a clean exit once no device transaction is under way.
    let mut op_b = op_b;
    let status = op_b.terminate(15);
    assert!(
        status.is_some_and(|s| s.success()),
        "op-b exits 0 on SIGTERM: {status:?}"
    );
    let log = std::fs::read_to_string(&op_b.log).unwrap();
    assert!(
        log.contains("shutting down") && log.contains("SIGTERM"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_claims_crash_and_apiserver_restart_never_duplicate() {
    let c = Cluster::up();
    install_with_samples(&c);
    let admin = c.client(None).await;
    // Two writers at once, both without leader election: only the ledger's optimistic
    // concurrency keeps them apart.
    let op1 = Operator::start(&c, "race-1", &["--no-leader-election"]);
    let mut op2 = Some(Operator::start(&c, "race-2", &["--no-leader-election"]));

    // 500 claims from 25 concurrent clients.
    let names: Vec<String> = (0..500).map(|i| format!("agency-{i:04}")).collect();
    let clients: Vec<Client> = futures::future::join_all((0..5).map(|_| c.client(None))).await;
    let per = names.len() / clients.len();
    let tasks = clients
        .iter()
        .enumerate()
        .map(|(i, cl)| create_sites(cl, names[i * per..(i + 1) * per].to_vec(), 5));
    futures::future::join_all(tasks).await;
    let lab_sites = 10;
    wait_for(120, "500 racing claims allocated", || async {
        site_prefixes(&admin).await.len() == 500 + lab_sites - 2
    })
    .await;
    let ledger = cluster_ledger(&admin).await.unwrap();
    assert_unique(&ledger);
    let prefixes = site_prefixes(&admin).await;
    let distinct: HashSet<&String> = prefixes.values().collect();
    assert_eq!(distinct.len(), prefixes.len(), "two sites share a prefix");
    for (name, p) in &prefixes {
        let owner = format!("Site/{name}");
        assert!(
            ledger
                .entries
                .values()
                .any(|e| e.owner == owner && e.value.to_string() == *p),
            "{name}"
        );
    }
    let conflicts = op1.metric("hatang_ledger_conflicts_total").unwrap_or(0)
        + op2
            .as_ref()
            .unwrap()
            .metric("hatang_ledger_conflicts_total")
            .unwrap_or(0);
    eprintln!(
        "racing: {} sites, ledger conflicts retried: {conflicts}",
        prefixes.len()
    );

    // Crash one writer mid-reconcile and restart the API server: nothing lost, moved or doubled.
    let before = prefixes.clone();
    let more: Vec<String> = (500..800).map(|i| format!("agency-{i:04}")).collect();
    let creating = tokio::spawn({
        let admin = admin.clone();
        let more = more.clone();
        async move { create_sites(&admin, more, 8).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    drop(op2.take()); // SIGKILL
    creating.await.unwrap();
    c.restart_apiserver();
    let admin = c.client(None).await;
    let _op2 = Operator::start(&c, "race-2b", &["--no-leader-election"]);
    wait_for(
        120,
        "800 claims allocated after crash and restart",
        || async { site_prefixes(&admin).await.len() == 800 + lab_sites - 2 },
    )
    .await;
    let ledger = cluster_ledger(&admin).await.unwrap();
    assert_unique(&ledger);
    let after = site_prefixes(&admin).await;
    for (name, p) in &before {
        assert_eq!(after.get(name), Some(p), "{name} moved");
    }
    let distinct: HashSet<&String> = after.values().collect();
    assert_eq!(distinct.len(), after.len());
    let site_entries = ledger
        .entries
        .keys()
        .filter(|k| k.starts_with("site/"))
        .count();
    assert_eq!(
        site_entries,
        after.len(),
        "one ledger entry per site, none lost"
    );
}

fn labelled(kind: &str, name: &str, shard: &str, spec: serde_json::Value) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "hatang.io/v1alpha1", "kind": kind,
        "metadata": {"name": name, "labels": {"hatang.io/shard": shard}}, "spec": spec}))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_by_label_selector_keep_their_own_ledgers_and_leaders() {
    let c = Cluster::up();
    hatang_test_support::cluster::install(&c);
    let admin = c.client(None).await;
    let pp = PostParams::default();
    for (shard, n) in [("a", "a"), ("b", "b")] {
        let plan = json!({"ipv6Roots": [format!("3fff:{n}::/32")],
            "infrastructure": {"loopbacks": format!("3fff:{n}:0:1::/64"), "pointToPoint": format!("3fff:{n}:0:2::/64")},
            "asnPool": {"first": 4200000100u64, "last": 4200000199u64}});
        client::api(&admin, Kind::AddressPlan, None)
            .create(
                &pp,
                &labelled("AddressPlan", &format!("plan-{shard}"), shard, plan),
            )
            .await
            .unwrap();
        let region = json!({"displayName": format!("Tỉnh {shard}"), "code": if shard == "a" { "01" } else { "02" },
            "level": "province", "type": "tỉnh"});
        client::api(&admin, Kind::Region, None)
            .create(
                &pp,
                &labelled("Region", &format!("region-{shard}"), shard, region),
            )
            .await
            .unwrap();
        for i in 0..20 {
            let name = format!("agency-{shard}-{i:02}");
            let spec = json!({"displayName": name, "role": "agency", "region": format!("region-{shard}"), "uplink": "single-homed"});
            client::api(&admin, Kind::Site, None)
                .create(&pp, &labelled("Site", &name, shard, spec))
                .await
                .unwrap();
        }
    }
    let _a = Operator::start(
        &c,
        "shard-a",
        &["--shard", "a", "--selector", "hatang.io/shard=a"],
    );
    let _b = Operator::start(
        &c,
        "shard-b",
        &["--shard", "b", "--selector", "hatang.io/shard=b"],
    );
    wait_for(60, "40 sites allocated by two shards", || async {
        site_prefixes(&admin).await.len() == 40
    })
    .await;
    for (name, prefix) in site_prefixes(&admin).await {
        let shard = if name.starts_with("agency-a-") {
            "a"
        } else {
            "b"
        };
        assert!(
            prefix.starts_with(&format!("3fff:{shard}:")),
            "{name} got {prefix} outside shard {shard}"
        );
    }
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), "hatang-system");
    let leases: Api<Lease> = Api::namespaced(admin.clone(), "hatang-system");
    for shard in ["a", "b"] {
        let l = ledger::read(&cms, &format!("hatang-ledger-{shard}"))
            .await
            .unwrap()
            .ledger;
        assert_eq!(l.entries.len(), 20, "shard {shard}");
        assert!(
            l.entries
                .values()
                .all(|e| e.owner.starts_with(&format!("Site/agency-{shard}-")))
        );
        let holder = leases
            .get(&format!("hatang-operator-{shard}"))
            .await
            .unwrap()
            .spec
            .unwrap()
            .holder_identity;
        assert_eq!(holder.as_deref(), Some(format!("shard-{shard}").as_str()));
    }
    assert!(
        cluster_ledger(&admin).await.is_none(),
        "no default-shard ledger"
    );
}
