//! Whole-process benchmark: N agency Sites (default 10,000; `HATANG_BENCH_SITES`) created in a
//! real kube-apiserver with no operator running, then `hatang-operator run` started cold; times
//! until every Site is Ready with its prefix, and the operator's peak RSS.
//!
//! `cargo bench -p hatang-operator --bench cold_start` (results in docs/benchmarks.md).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{ListParams, PostParams};
use serde_json::json;

use hatang_core::Kind;
use hatang_operator::client;
use support::{Cluster, Operator, install_with_samples};

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
        let mut first_pass = None;
        loop {
            if first_pass.is_none() && op.metric("hatang_reconcile_passes_total").unwrap_or(0) > 0 {
                first_pass = Some(start.elapsed());
            }
            // Ready as counted by the operator's own pass, confirmed by the API server below.
            if op.metric("hatang_objects_ready") == Some(total_objects) {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(600), "not Ready within 600 s");
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
            assert!(start.elapsed() < Duration::from_secs(600), "statuses not written within 600 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let all_ready = start.elapsed();
        println!(
            "cold start, {n} sites ({total_objects} objects): first pass done {:.1}s, all Ready in the API server {:.1}s, \
             peak RSS {} MiB, passes {}, status patches {}, ledger entries {}",
            first_pass.unwrap_or_default().as_secs_f64(),
            all_ready.as_secs_f64(),
            op.peak_rss_kib() / 1024,
            op.metric("hatang_reconcile_passes_total").unwrap_or(0),
            op.metric("hatang_status_patches_total").unwrap_or(0),
            op.metric("hatang_ledger_entries").unwrap_or(0),
        );
    });
}
