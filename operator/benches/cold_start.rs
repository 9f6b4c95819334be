//! Whole-process benchmark: N agency Sites (default 10,000; `HATANG_BENCH_SITES`) created in a
//! real kube-apiserver with no operator running, then `hatang-operator run` started cold; times
//! until every Site is Ready with its prefix, and the operator's peak RSS.
//!
//! `cargo bench -p hatang-operator --bench cold_start` (results in docs/benchmarks.md).

use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{ListParams, PostParams};
use serde_json::json;

use hatang_core::Kind;
use hatang_kube_api::client;
use hatang_test_support::cluster::{Cluster, Operator, install_with_samples};

fn main() {
    let n: usize = std::env::var("HATANG_BENCH_SITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let c = Cluster::up();
        install_with_samples(&c);
        let admin = c.client(None).await;
        let sites = client::api(&admin, Kind::Site, None);
        let t = Instant::now();
        futures::stream::iter(0..n)
            .map(|i| {
                let sites = sites.clone();
                async move {
                    let name = format!("agency-{i:05}");
                    let o = serde_json::from_value(json!({"apiVersion": "hatang.io/v1alpha1", "kind": "Site",
                        "metadata": {"name": name}, "spec": {"displayName": name, "role": "agency",
                        "region": "phuong-phuc-xa-00001", "uplink": "single-homed"}})).unwrap();
                    sites.create(&PostParams::default(), &o).await.unwrap();
                }
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await;
        println!("created {n} sites in {:.1}s (not measured)", t.elapsed().as_secs_f64());

        let total_objects = {
            let mut k = 0;
            for &kind in Kind::ALL {
                k += client::api(&admin, kind, None).list(&ListParams::default()).await.unwrap().items.len();
            }
            k as u64
        };
        let start = Instant::now();
        let op = Operator::start(&c, "bench", &[]);
        loop {
            // Every status written (confirmed by the API server below).
            if op.metric("hatang_status_patches_total").unwrap_or(0) >= total_objects {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(1500), "not Ready within 1500 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Wait for the status writes to land, then check them in the API server.
        loop {
            let items = sites.list(&ListParams::default()).await.unwrap().items;
            let ready = items.iter().filter(|o| {
                o.data["status"]["conditions"].as_array().into_iter().flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    && o.data["status"]["allocations"].as_object().is_some_and(|a| !a.is_empty())
                    || o.data["spec"]["role"] == "datacenter"
            }).count();
            if ready == items.len() {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(1500), "statuses not written within 1500 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let all_ready = start.elapsed();
        // The first pass also adds finalizers after the statuses; wait for it to finish.
        while op.metric("hatang_reconcile_passes_total").unwrap_or(0) == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let pass_done = start.elapsed();
        println!(
            "cold start, {n} sites ({total_objects} objects): all Ready in the API server {:.1}s, first pass (with finalizers) {:.1}s, \
             peak RSS {} MiB, passes {}, status patches {}, ledger entries {}",
            all_ready.as_secs_f64(),
            pass_done.as_secs_f64(),
            op.peak_rss_kib() / 1024,
            op.metric("hatang_reconcile_passes_total").unwrap_or(0),
            op.metric("hatang_status_patches_total").unwrap_or(0),
            op.metric("hatang_ledger_entries").unwrap_or(0),
        );
        let log = std::fs::read_to_string(&op.log).unwrap_or_default();
        for line in log.lines().filter(|l| l.contains("\"pass\"") || l.contains("synced") || l.contains("leader")) {
            println!("  {line}");
        }
    });
}
