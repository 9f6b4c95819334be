//! Prometheus metrics (text exposition format), kept in atomics.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hatang_core::ipam::PoolUse;

/// Counters and gauges of one operator process.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Reconcile passes completed.
    pub passes: AtomicU64,
    /// Passes that failed.
    pub errors: AtomicU64,
    /// Ledger writes refused with 409 (someone else wrote first).
    pub ledger_conflicts: AtomicU64,
    /// Ledger writes that succeeded.
    pub ledger_writes: AtomicU64,
    /// Entries in the ledger after the last pass.
    pub ledger_entries: AtomicU64,
    /// Objects seen in the last pass.
    pub objects: AtomicU64,
    /// Objects Ready after the last pass.
    pub ready: AtomicU64,
    /// Status patches sent.
    pub status_patches: AtomicU64,
    /// Duration of the last pass in milliseconds.
    pub last_pass_ms: AtomicU64,
    /// Apply transactions that committed.
    pub applies: AtomicU64,
    /// Apply transactions that did not commit (or could not start).
    pub apply_failures: AtomicU64,
    /// Drift audits run.
    pub audits: AtomicU64,
    /// Devices whose last audit found deviations nobody accepted.
    pub devices_drifted: AtomicU64,
    /// Whether this process holds the leader lease.
    pub leader: AtomicBool,
    /// Whether every watch has listed once.
    pub synced: AtomicBool,
    /// Use of each allocation pool after the last plan.
    pools: Mutex<Vec<PoolUse>>,
}

impl Metrics {
    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the pools' use after a plan.
    pub fn set_pools(&self, pools: &[PoolUse]) {
        *self.pools.lock().unwrap_or_else(|e| e.into_inner()) = pools.to_vec();
    }

    /// Text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut one = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        one(
            "hatang_reconcile_passes_total",
            "counter",
            "Reconcile passes completed.",
            get(&self.passes),
        );
        one(
            "hatang_reconcile_errors_total",
            "counter",
            "Reconcile passes that failed.",
            get(&self.errors),
        );
        one(
            "hatang_ledger_conflicts_total",
            "counter",
            "Ledger writes refused with 409.",
            get(&self.ledger_conflicts),
        );
        one(
            "hatang_ledger_writes_total",
            "counter",
            "Ledger writes stored.",
            get(&self.ledger_writes),
        );
        one(
            "hatang_status_patches_total",
            "counter",
            "Status patches sent.",
            get(&self.status_patches),
        );
        one(
            "hatang_ledger_entries",
            "gauge",
            "Entries in the cluster ledger.",
            get(&self.ledger_entries),
        );
        one(
            "hatang_objects",
            "gauge",
            "hatang objects seen in the last pass.",
            get(&self.objects),
        );
        one(
            "hatang_objects_ready",
            "gauge",
            "Objects Ready after the last pass.",
            get(&self.ready),
        );
        one(
            "hatang_last_pass_milliseconds",
            "gauge",
            "Duration of the last pass.",
            get(&self.last_pass_ms),
        );
        one(
            "hatang_applies_total",
            "counter",
            "Apply transactions committed.",
            get(&self.applies),
        );
        one(
            "hatang_apply_failures_total",
            "counter",
            "Apply transactions that did not commit.",
            get(&self.apply_failures),
        );
        one(
            "hatang_audits_total",
            "counter",
            "Drift audits run.",
            get(&self.audits),
        );
        one(
            "hatang_devices_drifted",
            "gauge",
            "Devices whose last audit found deviations nobody accepted.",
            get(&self.devices_drifted),
        );
        one(
            "hatang_leader",
            "gauge",
            "1 when this process is the leader.",
            u64::from(self.leader.load(Ordering::Relaxed)),
        );
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for (name, help, value) in [
            (
                "hatang_pool_slots_used",
                "Slots of an allocation pool taken (allocated, held or pinned).",
                (|p: &PoolUse| p.used) as fn(&PoolUse) -> u128,
            ),
            (
                "hatang_pool_slots_total",
                "Slots of an allocation pool.",
                |p: &PoolUse| p.total,
            ),
            (
                "hatang_pool_slots_reserved",
                "Slots of an allocation pool that reserved blocks make unusable.",
                |p: &PoolUse| p.reserved,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for p in &pools {
                let _ = writeln!(out, "{name}{{pool=\"{}\"}} {}", p.name, value(p));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_in_exposition_format() {
        let m = Metrics::default();
        Metrics::inc(&m.ledger_conflicts);
        Metrics::inc(&m.ledger_conflicts);
        let text = m.render();
        assert!(text.contains(
            "# TYPE hatang_ledger_conflicts_total counter\nhatang_ledger_conflicts_total 2\n"
        ));
        assert!(text.contains("hatang_leader 0\n"));
        m.set_pools(&[PoolUse {
            name: "loopback".into(),
            from: vec!["2001:db8:0:1::/64".into()],
            child_len: Some(128),
            total: 1 << 64,
            used: 7,
            reserved: 1,
        }]);
        let text = m.render();
        assert!(
            text.contains("hatang_pool_slots_used{pool=\"loopback\"} 7\n"),
            "{text}"
        );
        assert!(text.contains("hatang_pool_slots_total{pool=\"loopback\"} 18446744073709551616\n"));
        assert!(text.contains("hatang_pool_slots_reserved{pool=\"loopback\"} 1\n"));
    }
}
