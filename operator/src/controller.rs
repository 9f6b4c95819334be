//! The reconcile loop: watch every hatang kind, and on each change run one *pass* over the whole
//! estate — the CLI's pipeline (decode → validate → allocate) on the cluster's objects, the
//! ledger written with optimistic concurrency, then finalizers, events and status.
//!
//! A pass is whole-estate on purpose: the allocator is a pure function of (inventory, ledger)
//! and hands out values in key order, so the cluster gets exactly what `hatang plan` computes
//! for the same objects. Passes are coalesced (changes during a pass trigger one more).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::Notify;

use hatang_core::apply::Expectation;
use hatang_core::diag::LeaseEnd;
use hatang_core::ipam::{self, Ledger};
use hatang_core::model::Kind;
use hatang_core::validate::{self, ValidateOptions};
use hatang_core::{ObjectRef, Severity};

use crate::devices::{DeviceSettings, Devices, RenderedDevice};
use crate::metrics::Metrics;
use crate::policy;
use hatang_kube_api::client::{api, api_resource};
use hatang_kube_api::inventory::{ObjKey, Snapshot, owner, snapshot};
use hatang_kube_api::ledger::{self, Written};
use hatang_kube_api::status::RenderedConfig;
use hatang_kube_api::status::{Condition, ConditionStatus, ConditionType, HatangStatus};

/// Finalizer on objects that own allocations: deletion waits until the ledger holds them.
pub const FINALIZER: &str = "hatang.io/ledger";

/// Field manager owning the finalizer (server-side apply).
pub const FINALIZER_MANAGER: &str = "hatang-operator-finalizer";

/// Kinds whose objects own ledger entries.
pub const ALLOCATING: &[Kind] = &[Kind::Site, Kind::Device, Kind::Circuit, Kind::ColoLease];

/// Settings of one operator process (one shard).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Namespace holding the ledger and the leader lease.
    pub namespace: String,
    /// Name of the ledger ConfigMap (per shard).
    pub ledger: String,
    /// Label selector limiting the objects this shard reconciles.
    pub selector: Option<String>,
    /// Concurrent status and finalizer requests.
    pub concurrency: usize,
    /// Warn about temporary leases ending within this many days.
    pub lease_warning_days: i64,
    /// Reporter name for events (`hatang-operator`) and instance (pod name).
    pub identity: String,
    /// Pushing and auditing devices.
    pub devices: DeviceSettings,
    /// Templates devices are rendered with: the built-in ones, overridden by `--templates DIR`.
    pub templates: Arc<hatang_core::render::Templates>,
}

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    /// Ledger I/O.
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    /// Finalizer patch failed.
    #[error("{0}: {1}")]
    Api(String, kube::Error),
}

/// Cached watches of every kind.
pub struct Caches {
    stores: Vec<(Kind, reflector::Store<DynamicObject>)>,
}

impl Caches {
    /// Starts a watch per kind (filtered by the shard's selector); `changed` is notified on
    /// every event.
    pub fn start(client: &Client, selector: Option<&str>, changed: Arc<Notify>) -> Caches {
        let mut stores = Vec::new();
        for &kind in Kind::ALL {
            let ar = api_resource(kind);
            let writer = reflector::store::Writer::<DynamicObject>::new(ar);
            stores.push((kind, writer.as_reader()));
            let mut config = watcher::Config::default();
            if let Some(s) = selector {
                config = config.labels(s);
            }
            // The cache keeps what a pass reads: managed fields and kubectl's last-applied copy
            // are dropped (they are most of an object's size).
            let stream = reflector(
                writer,
                watcher(api(client, kind, None), config)
                    .default_backoff()
                    .modify(|o| {
                        o.managed_fields_mut().clear();
                        o.annotations_mut()
                            .remove("kubectl.kubernetes.io/last-applied-configuration");
                    }),
            );
            let changed = changed.clone();
            tokio::spawn(async move {
                let mut stream = std::pin::pin!(stream);
                while let Some(ev) = stream.next().await {
                    match ev {
                        Ok(_) => changed.notify_one(),
                        Err(e) => tracing::warn!(%kind, error = %e, "watch error"),
                    }
                }
            });
        }
        Caches { stores }
    }

    /// Waits until every watch has listed once.
    pub async fn ready(&self) {
        for (kind, s) in &self.stores {
            if let Err(e) = s.wait_until_ready().await {
                tracing::warn!(%kind, error = %e, "watch ended before it listed");
            }
        }
    }

    fn state(&self) -> Vec<(Kind, Vec<Arc<DynamicObject>>)> {
        self.stores.iter().map(|(k, s)| (*k, s.state())).collect()
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone)]
pub struct PassReport {
    /// Objects seen.
    pub objects: usize,
    /// Objects Ready.
    pub ready: usize,
    /// Ledger entries after the pass.
    pub ledger_entries: usize,
    /// Ledger writes refused (409) and retried.
    pub conflicts: u64,
    /// Status patches sent.
    pub patched: usize,
}

/// The reconciler: client, caches, settings, metrics, events.
pub struct Reconciler {
    client: Client,
    caches: Caches,
    settings: Settings,
    metrics: Arc<Metrics>,
    recorder: Recorder,
    warned: std::sync::Mutex<HashSet<(String, String)>>,
    devices: Arc<Devices>,
}

/// The inventory object a cluster object is, as diagnostics name it.
fn object_ref(key: &ObjKey) -> ObjectRef {
    ObjectRef::new(key.kind, &key.name).in_namespace(key.namespace.as_deref())
}

/// Errors reported on a data center about a rack a lease occupies, by lease name: a lease on
/// an over-full rack hears about it, with the rack's name. `errors` are by object.
fn lease_rack_errors(
    inventory: &hatang_core::Inventory,
    errors: &BTreeMap<&ObjectRef, Vec<&hatang_core::Diagnostic>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in &inventory.colo_leases {
        let dc = ObjectRef::new(Kind::DataCenter, &l.spec.data_center);
        for d in errors.get(&dc).into_iter().flatten() {
            let on_its_racks = d.racks().any(|(in_dc, rack)| {
                in_dc == l.spec.data_center && l.spec.space.iter().any(|s| s.rack == rack)
            });
            if on_its_racks {
                out.entry(l.metadata.name.clone())
                    .or_default()
                    .push(d.message.clone());
            }
        }
    }
    out
}

impl Reconciler {
    /// For a graceful shutdown: no new device transaction starts, and this returns once the
    /// one under way (if any) has ended.
    pub async fn drain(&self) {
        self.devices.drain().await;
    }

    /// A reconciler over started caches.
    pub fn new(client: Client, caches: Caches, settings: Settings, metrics: Arc<Metrics>) -> Self {
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "hatang-operator".into(),
                instance: Some(settings.identity.clone()),
            },
        );
        let devices = Arc::new(Devices::new(
            client.clone(),
            settings.namespace.clone(),
            settings.identity.clone(),
            settings.devices.clone(),
            metrics.clone(),
            recorder.clone(),
        ));
        Reconciler {
            client,
            caches,
            settings,
            metrics,
            recorder,
            warned: Default::default(),
            devices,
        }
    }

    /// Waits for the caches.
    pub async fn ready(&self) {
        self.caches.ready().await;
        self.metrics.synced.store(true, Ordering::SeqCst);
    }

    /// One pass over the estate as of `today`.
    pub async fn pass(&self, today: NaiveDate) -> Result<PassReport, PassError> {
        let snap = snapshot(self.caches.state());
        let locator = hatang_core::load::Locator::new(&[], Default::default());
        let mut options = ValidateOptions::on(today);
        options.lease_warning_days = self.settings.lease_warning_days;
        let diagnostics = validate::validate(&snap.inventory, &locator, &options);

        // Allocate on top of the cluster ledger; on a conflicting write, re-read and redo.
        let cms: Api<ConfigMap> = Api::namespaced(self.client.clone(), &self.settings.namespace);
        let mut report = PassReport {
            objects: snap.objects.len(),
            ..PassReport::default()
        };
        let (ledger, alloc_error) = loop {
            let stored = ledger::read(&cms, &self.settings.ledger).await?;
            let allocated = ipam::allocate(&snap.inventory, stored.ledger.clone(), &locator, today);
            if let Ok(a) = &allocated {
                self.metrics.set_pools(&a.pools);
            }
            match allocated {
                Err(problems) => {
                    let msg = problems
                        .iter()
                        .map(|d| d.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ");
                    break (stored.ledger, Some(msg));
                }
                Ok(a) if a.ledger == stored.ledger => break (a.ledger, None),
                Ok(a) => {
                    match ledger::write(
                        &cms,
                        &self.settings.ledger,
                        &a.ledger,
                        stored.resource_version.as_deref(),
                    )
                    .await?
                    {
                        Written::Stored(_) => {
                            Metrics::inc(&self.metrics.ledger_writes);
                            tracing::info!(
                                changes = a.changes.len(),
                                entries = a.ledger.entries.len(),
                                "ledger written"
                            );
                            break (a.ledger, None);
                        }
                        Written::Conflict => {
                            report.conflicts += 1;
                            Metrics::inc(&self.metrics.ledger_conflicts);
                            tracing::info!("ledger changed under us; allocating again");
                        }
                    }
                }
            }
        };
        report.ledger_entries = ledger.entries.len();

        // The ledger now holds whatever deleted objects owned: let them go.
        if alloc_error.is_none() {
            for key in &snap.deleting {
                let o = &snap.objects[key];
                if o.finalizers().iter().any(|f| f == FINALIZER) {
                    let rest: Vec<&String> =
                        o.finalizers().iter().filter(|f| *f != FINALIZER).collect();
                    let patch = json!({"metadata": {"finalizers": rest, "resourceVersion": o.resource_version()}});
                    match api(&self.client, key.kind, key.namespace.as_deref())
                        .patch(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                    {
                        Ok(_) => {}
                        // Gone already: nothing left to release.
                        Err(kube::Error::Api(e)) if e.code == 404 => {}
                        // Refused (changed meanwhile): its next event brings another pass.
                        Err(kube::Error::Api(e)) => {
                            tracing::warn!(object = %owner(key), error = %e, "finalizer not removed (retried next pass)");
                        }
                        Err(e) => return Err(PassError::Api(owner(key), e)),
                    }
                }
            }
        }

        let current = current_statuses(&snap);
        let (rendered, expect) = rendered_devices(
            &snap.inventory,
            &ledger,
            alloc_error.is_none(),
            &diagnostics,
            &self.settings.templates,
        );
        let mut statuses = self.desired_statuses(
            &snap,
            &current,
            &diagnostics,
            &ledger,
            alloc_error.as_deref(),
            &rendered,
        );
        report.ready = statuses
            .values()
            .filter(|s| {
                s.condition(ConditionType::Ready)
                    .is_some_and(|c| c.status == ConditionStatus::True)
            })
            .count();
        let by_device: BTreeMap<String, RenderedDevice<'_>> = rendered
            .iter()
            .filter_map(|(d, r)| {
                let (hashes, files) = r.as_ref().ok()?;
                Some((
                    d.clone(),
                    RenderedDevice {
                        sha256: hashes.sha256.as_str(),
                        candidate: files
                            .iter()
                            .find(|(f, _)| f == "frr.conf")
                            .map(|(_, t)| t.as_str()),
                        expect: expect.get(d),
                    },
                ))
            })
            .collect();
        let device_events = self.devices.plan(&snap, &by_device, &mut statuses);
        self.devices.publish(device_events).await;
        self.events(&snap, &diagnostics).await;
        // Configurations before statuses: a hash in a status means its ConfigMap holds it.
        self.store_configs(&current, &statuses, &rendered).await;
        report.patched = self.write_back(&snap, &current, statuses).await;
        Ok(report)
    }

    fn desired_statuses(
        &self,
        snap: &Snapshot,
        current: &BTreeMap<ObjKey, HatangStatus>,
        diagnostics: &[hatang_core::Diagnostic],
        ledger: &Ledger,
        alloc_error: Option<&str>,
        rendered: &BTreeMap<String, Rendering>,
    ) -> BTreeMap<ObjKey, HatangStatus> {
        let mut by_owner: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
        for (k, e) in &ledger.entries {
            if e.held.is_none() {
                by_owner
                    .entry(e.owner.as_str())
                    .or_default()
                    .insert(k.clone(), e.value.to_string());
            }
        }
        let mut errors: BTreeMap<&ObjectRef, Vec<&hatang_core::Diagnostic>> = BTreeMap::new();
        for d in diagnostics.iter().filter(|d| d.severity == Severity::Error) {
            if let Some(o) = &d.object {
                errors.entry(o).or_default().push(d);
            }
        }
        let lease_racks = lease_rack_errors(&snap.inventory, &errors);
        let mut out = BTreeMap::new();
        for (key, o) in &snap.objects {
            if snap.deleting.contains(key) {
                continue;
            }
            let generation = o.metadata.generation;
            let mut status = current.get(key).cloned().unwrap_or_default();
            status.observed_generation = generation;
            let name = owner(key);
            let allocations = by_owner.get(name.as_str()).cloned().unwrap_or_default();
            let (allocated, reason, msg) = match (snap.invalid.get(key), alloc_error) {
                (Some(e), _) => (false, "InvalidSpec", e.clone()),
                (None, Some(e)) => (false, "AllocationFailed", e.to_owned()),
                (None, None) => (
                    true,
                    "Allocated",
                    format!(
                        "{} values in ledger {}",
                        allocations.len(),
                        self.settings.ledger
                    ),
                ),
            };
            status.set(Condition::observed(
                ConditionType::Allocated,
                allocated.into(),
                reason,
                msg,
                generation,
            ));
            let mut problems: Vec<String> = errors
                .get(&object_ref(key))
                .into_iter()
                .flatten()
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            let capacity = key.kind == Kind::ColoLease && lease_racks.contains_key(&key.name);
            problems.extend(
                lease_racks
                    .get(&key.name)
                    .into_iter()
                    .flatten()
                    .filter(|_| key.kind == Kind::ColoLease)
                    .cloned(),
            );
            let ready = allocated && problems.is_empty();
            let (reason, msg) = match (ready, allocated, capacity) {
                (true, _, _) => ("Reconciled", String::new()),
                (false, false, _) => ("NotAllocated", "see the Allocated condition".to_owned()),
                (false, true, true) => ("CapacityExceeded", problems.join("; ")),
                (false, true, false) => ("Invalid", problems.join("; ")),
            };
            status.set(Condition::observed(
                ConditionType::Ready,
                ready.into(),
                reason,
                msg,
                generation,
            ));
            status.allocations = allocations;
            if key.kind == Kind::Device {
                let (ok, reason, msg) = match rendered.get(&key.name) {
                    Some(Ok((r, _))) => {
                        status.rendered = Some(r.clone());
                        (
                            true,
                            "Rendered",
                            format!("{} files, {} bytes", r.files.len(), r.bytes),
                        )
                    }
                    Some(Err((reason, msg))) => {
                        status.rendered = None;
                        (false, *reason, msg.clone())
                    }
                    None => {
                        status.rendered = None;
                        (false, "NotRendered", "not compiled".to_owned())
                    }
                };
                status.set(Condition::observed(
                    ConditionType::Rendered,
                    ok.into(),
                    reason,
                    msg,
                    generation,
                ));
            }
            out.insert(key.clone(), status);
        }
        out
    }

    /// Warning events for temporary leases that end soon or have ended (once per process).
    async fn events(&self, snap: &Snapshot, diagnostics: &[hatang_core::Diagnostic]) {
        for d in diagnostics {
            let Some(end) = d.lease_end() else {
                continue;
            };
            let Some(lease) = d.object.as_ref().filter(|o| o.kind == Kind::ColoLease) else {
                continue;
            };
            let Some((_, o)) = snap
                .objects
                .iter()
                .find(|(k, _)| d.concerns(&object_ref(k)))
            else {
                continue;
            };
            let mark = (o.uid().unwrap_or_default(), d.message.clone());
            if !self
                .warned
                .lock()
                .map(|mut w| w.insert(mark))
                .unwrap_or(false)
            {
                continue;
            }
            let ev = Event {
                type_: EventType::Warning,
                reason: match end {
                    LeaseEnd::Expired => "LeaseExpired".into(),
                    LeaseEnd::Expiring => "LeaseExpiring".into(),
                },
                note: Some(d.message.clone()),
                action: "Reconcile".into(),
                secondary: None,
            };
            let reference = o.object_ref(&api_resource(Kind::ColoLease));
            if let Err(e) = self.recorder.publish(&ev, &reference).await {
                tracing::warn!(error = %e, lease = %lease.name, "could not publish event");
            }
        }
    }

    /// Patches statuses that differ, then adds missing finalizers, `concurrency` requests at a
    /// time. Statuses go first: they are what users wait for; finalizers only matter on delete.
    /// Writes `hatang-config-<device>` ConfigMaps (in the operator's namespace) for devices whose
    /// rendered hash differs from their current status: the files, and the hash as an annotation.
    async fn store_configs(
        &self,
        current: &BTreeMap<ObjKey, HatangStatus>,
        statuses: &BTreeMap<ObjKey, HatangStatus>,
        rendered: &BTreeMap<String, Rendering>,
    ) {
        let mut work = Vec::new();
        for (key, desired) in statuses {
            let Some(hash) = desired.rendered.as_ref() else {
                continue;
            };
            if current.get(key).and_then(|s| s.rendered.as_ref()) == Some(hash) {
                continue;
            }
            if let Some(Ok((_, files))) = rendered.get(&key.name) {
                work.push((key.name.clone(), hash.sha256.clone(), files));
            }
        }
        let cms: Api<ConfigMap> = Api::namespaced(self.client.clone(), &self.settings.namespace);
        let width = self.settings.concurrency.max(1);
        futures::stream::iter(work)
            .map(|(device, sha256, files)| {
                let cms = cms.clone();
                async move {
                    let cm = config_map(&device, &sha256, files);
                    let name = cm.metadata.name.clone().unwrap_or_default();
                    let written = match cms.create(&Default::default(), &cm).await {
                        Err(kube::Error::Api(e)) if e.code == 409 => match cms.get(&name).await {
                            Ok(old) => {
                                let mut cm = cm;
                                cm.metadata.resource_version = old.metadata.resource_version;
                                cms.replace(&name, &Default::default(), &cm).await.map(|_| ())
                            }
                            Err(e) => Err(e),
                        },
                        other => other.map(|_| ()),
                    };
                    if let Err(e) = written {
                        tracing::warn!(device = %device, error = %e, "rendered configuration not stored (retried next pass)");
                    }
                }
            })
            .buffer_unordered(width)
            .collect::<Vec<()>>()
            .await;
    }

    async fn write_back(
        &self,
        snap: &Snapshot,
        current: &BTreeMap<ObjKey, HatangStatus>,
        statuses: BTreeMap<ObjKey, HatangStatus>,
    ) -> usize {
        let mut status_work = Vec::new();
        let mut finalizer_work = Vec::new();
        for (key, desired) in statuses {
            let o = &snap.objects[&key];
            if ALLOCATING.contains(&key.kind) && !o.finalizers().iter().any(|f| f == FINALIZER) {
                finalizer_work.push(key.clone());
            }
            let current = current.get(&key);
            if current != Some(&desired) {
                status_work.push((key, desired.merge_patch(current)));
            }
        }
        let client = &self.client;
        let metrics = &self.metrics;
        let width = self.settings.concurrency.max(1);
        let patched = futures::stream::iter(status_work)
            .map(|(key, body)| async move {
                let a = api(client, key.kind, key.namespace.as_deref());
                let patch = json!({"status": body});
                match a.patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                    Ok(_) => {
                        Metrics::inc(&metrics.status_patches);
                        1
                    }
                    Err(e) => {
                        tracing::warn!(object = %owner(&key), error = %e, "status not written (retried next pass)");
                        0
                    }
                }
            })
            .buffer_unordered(width)
            .fold(0usize, |n, x| async move { n + x })
            .await;
        futures::stream::iter(finalizer_work)
            .map(|key| async move {
                let a = api(client, key.kind, key.namespace.as_deref());
                // Server-side apply under a field manager of its own: finalizers are a set, so
                // this adds ours beside anyone else's without a resourceVersion precondition
                // (which the status patch just moved on).
                let patch = json!({"apiVersion": hatang_kube_api::api_version(),
                    "kind": key.kind.as_str(),
                    "metadata": {"name": key.name, "namespace": key.namespace, "finalizers": [FINALIZER]}});
                let pp = PatchParams::apply(FINALIZER_MANAGER);
                if let Err(e) = a.patch(&key.name, &pp, &Patch::Apply(&patch)).await {
                    tracing::warn!(object = %owner(&key), error = %e, "finalizer not added (retried next pass)");
                }
            })
            .buffer_unordered(width)
            .collect::<Vec<()>>()
            .await;
        patched
    }
}

/// The status every object carries now, read once per pass. One that is not a hatang status
/// is treated as none (the pass writes a whole new one), and said so.
fn current_statuses(snap: &Snapshot) -> BTreeMap<ObjKey, HatangStatus> {
    let mut out = BTreeMap::new();
    for (key, o) in &snap.objects {
        match HatangStatus::of(o) {
            Ok(Some(status)) => {
                out.insert(key.clone(), status);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(object = %owner(key), error = %e, "status unreadable: replaced");
            }
        }
    }
    out
}

/// Wait after the first failed pass.
const PASS_RETRY_FIRST: Duration = Duration::from_secs(1);

/// Longest wait between failed passes: an API server back after an outage is used within this.
const PASS_RETRY_MAX: Duration = Duration::from_secs(60);

/// How long to wait before the next pass after `failures` failed in a row (API server
/// unreachable, ledger unreadable): doubled per failure, so an outage costs a few requests a
/// minute rather than one a second.
fn pass_retry(failures: u32) -> Duration {
    policy::doubling(PASS_RETRY_FIRST, failures, PASS_RETRY_MAX)
}

/// Runs passes for as long as the process lives: after each change (coalesced), and at least
/// every `resync`; only while `metrics.leader` is set.
pub async fn run(reconciler: Arc<Reconciler>, changed: Arc<Notify>, resync: Duration) {
    reconciler.ready().await;
    tracing::info!("caches synced");
    let metrics = reconciler.metrics.clone();
    if let Some(every) = reconciler.settings.devices.audit_every {
        let (devices, changed, metrics) =
            (reconciler.devices.clone(), changed.clone(), metrics.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if metrics.leader.load(Ordering::SeqCst) {
                    devices.audit(&changed).await;
                }
            }
        });
    }
    let mut recovered = false;
    // Passes failed in a row: each waits longer before the next try.
    let mut failures = 0u32;
    loop {
        let _ = tokio::time::timeout(resync, changed.notified()).await;
        // Let a burst of changes land before the pass.
        tokio::time::sleep(Duration::from_millis(200)).await;
        if !metrics.leader.load(Ordering::SeqCst) {
            continue;
        }
        let started = Instant::now();
        match reconciler.pass(Utc::now().date_naive()).await {
            Ok(r) => {
                failures = 0;
                Metrics::inc(&metrics.passes);
                metrics.objects.store(r.objects as u64, Ordering::Relaxed);
                metrics.ready.store(r.ready as u64, Ordering::Relaxed);
                metrics
                    .ledger_entries
                    .store(r.ledger_entries as u64, Ordering::Relaxed);
                metrics
                    .last_pass_ms
                    .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                tracing::info!(
                    objects = r.objects,
                    ready = r.ready,
                    ledger = r.ledger_entries,
                    conflicts = r.conflicts,
                    patched = r.patched,
                    ms = started.elapsed().as_millis() as u64,
                    "pass"
                );
                if r.patched > 0 {
                    // Our own status writes come back as watch events; one more pass settles.
                    changed.notify_one();
                }
                // A transaction a killed process left is finished first (rolled back, or its
                // save completed), so no device is pushed over a half-applied change.
                if !recovered || reconciler.devices.owes_recovery() {
                    recovered = reconciler.devices.recover().await;
                }
                // Devices due for a push go into one transaction, beside the passes (which show
                // them as Applying); it wakes the pass when it ends.
                if recovered && let Some(due) = reconciler.devices.take_due() {
                    tokio::spawn(reconciler.devices.clone().push(due, changed.clone()));
                    changed.notify_one();
                }
            }
            Err(e) => {
                Metrics::inc(&metrics.errors);
                failures = failures.saturating_add(1);
                let wait = pass_retry(failures);
                tracing::error!(error = %e, failures, retry_in_ms = wait.as_millis() as u64, "pass failed");
                tokio::time::sleep(wait).await;
                changed.notify_one();
            }
        }
    }
}

/// Name of the ConfigMap holding a device's rendered configuration.
pub fn config_map_name(device: &str) -> String {
    format!("hatang-config-{device}")
}

/// A device's rendered files as a ConfigMap, with the hash the Device status names.
fn config_map(device: &str, sha256: &str, files: &[(String, String)]) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(config_map_name(device));
    cm.metadata.labels = Some(
        [
            ("app.kubernetes.io/part-of".to_owned(), "hatang".to_owned()),
            ("hatang.io/device".to_owned(), device.to_owned()),
        ]
        .into(),
    );
    cm.metadata.annotations = Some([("hatang.io/sha256".to_owned(), sha256.to_owned())].into());
    cm.data = Some(files.iter().cloned().collect());
    cm
}

/// What each device renders to with the operator's templates (the CLI's `hatang render`), or
/// why it does not: the same compile and render code, on the cluster ledger.
type Rendering = Result<(RenderedConfig, Vec<(String, String)>), (&'static str, String)>;

fn rendered_devices(
    inventory: &hatang_core::Inventory,
    ledger: &Ledger,
    allocated: bool,
    diagnostics: &[hatang_core::Diagnostic],
    templates: &hatang_core::render::Templates,
) -> (BTreeMap<String, Rendering>, BTreeMap<String, Expectation>) {
    let every = |reason: &'static str, msg: String| -> BTreeMap<String, Rendering> {
        inventory
            .devices
            .iter()
            .map(|d| (d.name().to_owned(), Err((reason, msg.clone()))))
            .collect()
    };
    if !allocated {
        return (
            every("NotAllocated", "see the Allocated condition".to_owned()),
            BTreeMap::new(),
        );
    }
    let models = match hatang_core::compile::compile(inventory, ledger) {
        Ok(m) => m,
        Err(problems) => {
            let msg = problems
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            return (every("CompileFailed", msg), BTreeMap::new());
        }
    };
    // What a push verifies on each device: the apply transaction's expectations, as the CLI's.
    let expect = hatang_core::apply::expectations(&models);
    // Devices on their own: one that cannot be rendered holds no other back.
    let per_device = match hatang_core::render::render_devices(&models, templates) {
        Ok(r) => r,
        Err(e) => return (every("RenderFailed", e.to_string()), expect),
    };
    // Validation problems that keep a Device from being rendered at all (so never pushed):
    // text that could inject configuration lines. (Other problems show in `Ready`; the
    // rendering, if it compiles, is still shown.)
    let mut blocked: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for d in diagnostics
        .iter()
        .filter(|d| d.is_error() && d.could_inject_configuration())
    {
        if let Some(device) = d.object.as_ref().filter(|o| o.kind == Kind::Device) {
            blocked
                .entry(device.name.as_str())
                .or_default()
                .push(format!("{}: {}", d.code, d.message));
        }
    }
    let mut out = BTreeMap::new();
    for (m, files) in models.iter().zip(per_device) {
        let rendering = match (blocked.get(m.name.as_str()), files) {
            (Some(problems), _) => Err((
                "InvalidSpec",
                format!("not rendered: {}", problems.join("; ")),
            )),
            (None, Err(e)) => Err(("RenderFailed", e.to_string())),
            (None, Ok(None)) => Err((
                "NoTemplates",
                "no templates for the device's platform".to_owned(),
            )),
            (None, Ok(Some(files))) => {
                let fs: Vec<(String, String)> =
                    files.into_iter().map(|f| (f.file, f.text)).collect();
                let hashes = RenderedConfig::of(fs.iter().map(|(f, t)| (f.as_str(), t.as_str())));
                Ok((hashes, fs))
            }
        };
        out.insert(m.name.clone(), rendering);
    }
    (out, expect)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lab inventory, allocated on an empty ledger, with `edit` applied to its objects.
    fn lab(edit: impl FnOnce(&mut hatang_core::Inventory)) -> (hatang_core::Inventory, Ledger) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../inventories/lab");
        let loaded = hatang_core::load_paths(&[dir], &Default::default()).unwrap();
        assert!(!loaded.has_errors());
        let mut inventory = loaded.inventory;
        edit(&mut inventory);
        let locator = hatang_core::load::Locator::new(&[], Default::default());
        let today = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
        let ledger = ipam::allocate(&inventory, Ledger::default(), &locator, today)
            .unwrap()
            .ledger;
        (inventory, ledger)
    }

    #[test]
    fn a_lease_hears_of_errors_on_the_racks_it_occupies_only() {
        let mut inventory = hatang_core::Inventory::default();
        let lease = |name: &str, rack: &str| {
            let text = format!(
                "apiVersion: hatang.io/v1alpha1\nkind: ColoLease\nmetadata:\n  name: {name}\n  namespace: t\nspec:\n  tenant: t\n  dataCenter: dc-main\n  space:\n    - rack: {rack}\n  powerKw: 1\n  start: 2025-01-01\n"
            );
            let loaded = hatang_core::load::load_str(
                std::path::Path::new("lease.yaml"),
                &text,
                &Default::default(),
            );
            assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
            loaded.inventory.colo_leases.into_iter().next().unwrap()
        };
        inventory.colo_leases = vec![lease("on-a02", "A02"), lease("on-a03", "A03")];
        let dc = ObjectRef::new(Kind::DataCenter, "dc-main");
        let other_dc = ObjectRef::new(Kind::DataCenter, "dc-backup");
        use hatang_core::{Diagnostic, Subject};
        let over = Diagnostic::error("rack-power", "rack A02 is over budget")
            .object(dc.clone())
            .subject(Subject::rack("dc-main", "A02"));
        // The same rack name in another data center, and a finding that names no rack.
        let elsewhere = Diagnostic::error("rack-power", "rack A03 elsewhere")
            .object(other_dc.clone())
            .subject(Subject::rack("dc-backup", "A03"));
        let feed =
            Diagnostic::error("feed-power", "rack `A03` in the text only").object(dc.clone());
        let errors: BTreeMap<&ObjectRef, Vec<&Diagnostic>> =
            [(&dc, vec![&over, &feed]), (&other_dc, vec![&elsewhere])].into();
        let heard = lease_rack_errors(&inventory, &errors);
        assert_eq!(
            heard,
            BTreeMap::from([(
                "on-a02".to_owned(),
                vec!["rack A02 is over budget".to_owned()]
            )])
        );
    }

    fn describe(inventory: &mut hatang_core::Inventory, device: &str, text: &str) {
        let d = inventory
            .devices
            .iter_mut()
            .find(|d| d.name() == device)
            .unwrap();
        d.spec.interfaces[0].description = Some(text.to_owned());
    }

    #[test]
    fn a_device_with_a_control_character_is_not_rendered_and_the_others_are() {
        let (inventory, ledger) = lab(|inv| describe(inv, "hub-002", "uplink\nreload"));
        let locator = hatang_core::load::Locator::new(&[], Default::default());
        let today = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
        let diagnostics = validate::validate(&inventory, &locator, &ValidateOptions::on(today));
        let templates = hatang_core::render::Templates::builtin();

        // As the pass does it: validation names the problem, the device is not rendered.
        let (rendered, _) = rendered_devices(&inventory, &ledger, true, &diagnostics, &templates);
        let Err((reason, message)) = &rendered["hub-002"] else {
            panic!("hub-002 rendered: {:?}", rendered["hub-002"]);
        };
        assert_eq!(*reason, "InvalidSpec");
        assert!(
            message.contains("control-character")
                && message.contains("spec.interfaces[0].description")
                && message.contains("line feed"),
            "{message}"
        );
        assert_eq!(rendered.len(), inventory.devices.len());
        for (d, r) in &rendered {
            if d != "hub-002" {
                let (_, files) = r.as_ref().unwrap_or_else(|e| panic!("{d}: {e:?}"));
                assert!(!files.is_empty(), "{d}");
            }
        }

        // Without validation's word, rendering itself refuses the text, for that device only.
        let (rendered, _) = rendered_devices(&inventory, &ledger, true, &[], &templates);
        let Err((reason, message)) = &rendered["hub-002"] else {
            panic!("hub-002 rendered without validation");
        };
        assert_eq!(*reason, "RenderFailed");
        assert!(
            message.contains("hub-002") && message.contains("line feed"),
            "{message}"
        );
        assert_eq!(rendered.values().filter(|r| r.is_err()).count(), 1);
    }

    #[test]
    fn failed_passes_back_off_and_are_capped() {
        let waits: Vec<u64> = (1..=8).map(|n| pass_retry(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(pass_retry(u32::MAX), PASS_RETRY_MAX);
    }
}
