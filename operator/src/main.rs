//! `hatang-operator`: prints or writes the generated manifests, and runs the controllers.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use hatang_kube_api::manifests;
use hatang_operator::devices::DeviceSettings;
use hatang_operator::policy::ApplyPolicy;

#[derive(Parser)]
#[command(
    name = "hatang-operator",
    version,
    about = "Kubernetes operator for hatang resources"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the CustomResourceDefinitions as one YAML stream, or write them under --out.
    Crd {
        /// Directory to write `crds/*.yaml` into (the manifests directory).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write every generated manifest (CRDs, RBAC, operator, kustomization, samples).
    Manifests {
        /// The manifests directory.
        #[arg(long, default_value = "manifests")]
        out: PathBuf,
        /// Inventory to render as sample resources under `samples/`.
        #[arg(long, default_value = "inventories/lab")]
        samples: PathBuf,
        /// Do not write: fail when a file differs from what would be written.
        #[arg(long)]
        check: bool,
    },
    /// Run the controllers (leader-elected per shard).
    Run(RunArgs),
    /// Apply an inventory to the cluster as custom resources (server-side apply, KUBECONFIG).
    Apply {
        /// Inventory directory or files.
        path: PathBuf,
    },
    /// Show what the operator would allocate for an inventory on top of the cluster ledger.
    Plan {
        /// Inventory directory or files.
        path: PathBuf,
        /// Namespace of the ledger.
        #[arg(long, default_value = "hatang-system")]
        namespace: String,
        /// Shard whose ledger to read.
        #[arg(long, default_value = "default")]
        shard: String,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Address of /healthz, /readyz and /metrics.
    #[arg(long, default_value = "0.0.0.0:8080")]
    listen: String,
    /// Namespace of the ledger and the leader lease.
    #[arg(long, env = "HATANG_NAMESPACE", default_value = "hatang-system")]
    namespace: String,
    /// Shard name: selects the ledger (`hatang-ledger-<shard>`) and the leader lease.
    #[arg(long, default_value = "default")]
    shard: String,
    /// Label selector of the objects this shard reconciles (e.g. `hatang.io/shard=north`).
    #[arg(long)]
    selector: Option<String>,
    /// Identity in the leader lease and in events.
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Act without holding the leader lease (tests of concurrent writers; never in production).
    #[arg(long)]
    no_leader_election: bool,
    /// Concurrent status requests.
    #[arg(long, default_value_t = DeviceSettings::CONCURRENCY)]
    concurrency: usize,
    /// Seconds between passes when nothing changes (lease expiry is judged by date).
    #[arg(long, default_value_t = 300)]
    resync_seconds: u64,
    /// Warn about temporary leases ending within this many days.
    #[arg(long, default_value_t = 30)]
    lease_warning_days: i64,
    /// Apply policy of Devices without the `hatang.io/apply-policy` annotation: `manual` pushes
    /// a rendered configuration only after an approval (`hatang.io/approve: <sha256>`), `auto`
    /// whenever it changes.
    #[arg(long, value_enum, default_value_t = ApplyPolicy::default())]
    apply_policy: ApplyPolicy,
    /// Where apply transactions keep their journals and backups (`<dir>/applies/<id>/`).
    #[arg(long, default_value = DeviceSettings::STATE_DIR)]
    state_dir: PathBuf,
    /// Secret (in --namespace) with the SSH login key `id_ed25519`, optional `known_hosts` and
    /// `user`. The generated Role may read only `hatang-ssh`.
    #[arg(long, default_value = hatang_operator::credentials::DEFAULT_SECRET)]
    ssh_secret: String,
    /// Seconds between drift audits of applied devices (0: no audits).
    #[arg(long, default_value_t = DeviceSettings::AUDIT_SECONDS)]
    audit_seconds: u64,
    /// Seconds allowed to connect to a device, and again for each command.
    #[arg(long, default_value_t = DeviceSettings::SSH_TIMEOUT_SECONDS)]
    ssh_timeout: u64,
    /// Seconds a transaction's verification may wait for BGP sessions and routes.
    #[arg(long, default_value_t = DeviceSettings::VERIFY_TIMEOUT_SECONDS)]
    verify_timeout: u64,
    /// Seconds before a configuration that failed to apply is pushed again (doubled after each
    /// failure, at most an hour; a new rendering is pushed at once).
    #[arg(long, default_value_t = DeviceSettings::BACKOFF_SECONDS)]
    apply_backoff_seconds: u64,
    /// Directory of templates overriding the built-in ones (`<platform>/<file>.hbs`), as
    /// `hatang render --templates`. Read once at start.
    #[arg(long)]
    templates: Option<PathBuf>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Apply { path } => {
            let inventory = load(&path)?;
            let docs = manifests::resources(&inventory);
            block_on(async move {
                let client = kube::Client::try_default().await?;
                let changed = hatang_kube_api::client::apply(&client, &docs).await?;
                println!(
                    "{} objects applied, {changed} created or changed",
                    docs.len()
                );
                Ok(())
            })
        }
        Command::Plan {
            path,
            namespace,
            shard,
        } => {
            let loaded = hatang_core::load_paths(std::slice::from_ref(&path), &Default::default())?;
            if loaded.has_errors() {
                bail!(
                    "{} does not load cleanly; run `hatang validate`",
                    path.display()
                );
            }
            block_on(async move {
                let client = kube::Client::try_default().await?;
                let allocation = hatang_kube_api::client::plan(
                    &client,
                    &loaded.inventory,
                    &loaded.locator(),
                    &namespace,
                    &format!("hatang-ledger-{shard}"),
                    chrono::Utc::now().date_naive(),
                )
                .await?;
                for c in &allocation.changes {
                    println!(
                        "{:<12} {:<44} {:<26} {}",
                        format!("{:?}", c.kind).to_lowercase(),
                        c.key,
                        c.value,
                        c.owner
                    );
                }
                println!(
                    "{} changes, {} kept (cluster ledger hatang-ledger-{shard})",
                    allocation.changes.len(),
                    allocation.kept
                );
                Ok(())
            })
        }
        Command::Crd { out: None } => {
            let crds = hatang_kube_api::crd::all()?;
            print!("{}", manifests::yaml_stream(&crds)?);
            Ok(())
        }
        Command::Crd { out: Some(dir) } => {
            let files = manifests::install()?
                .into_iter()
                .filter(|(p, _)| p.starts_with("crds"))
                .collect();
            write(&dir, files, false)
        }
        Command::Manifests {
            out,
            samples,
            check,
        } => {
            let mut files = manifests::install()?;
            files.extend(manifests::samples(&load(&samples)?)?);
            write(&out, files, check)
        }
    }
}

fn run(args: RunArgs) -> Result<()> {
    use std::sync::Arc;

    use hatang_operator::controller::{self, Caches, Reconciler, Settings};
    use hatang_operator::metrics::Metrics;

    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let templates = Arc::new(match &args.templates {
            Some(dir) => hatang_core::render::Templates::with_overrides(dir)?,
            None => hatang_core::render::Templates::builtin(),
        });
        // A template that does not parse stops the operator here, not every pass.
        hatang_core::render::render_devices(&[], &templates)?;
        let client = kube::Client::try_default()
            .await
            .context("Kubernetes client (in-cluster or KUBECONFIG)")?;
        let identity = args
            .identity
            .unwrap_or_else(|| format!("hatang-operator-{}", std::process::id()));
        let metrics = Arc::new(Metrics::default());
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        tracing::info!(listen = %listener.local_addr()?, shard = %args.shard, %identity, "starting");
        tokio::spawn(hatang_operator::http::serve(listener, metrics.clone()));
        let lease_name = format!("hatang-operator-{}", args.shard);
        if args.no_leader_election {
            metrics.leader.store(true, std::sync::atomic::Ordering::SeqCst);
        } else {
            let leases = kube::Api::namespaced(client.clone(), &args.namespace);
            tokio::spawn(hatang_operator::leader::run(
                leases,
                lease_name,
                identity.clone(),
                metrics.clone(),
            ));
        }
        let changed = Arc::new(tokio::sync::Notify::new());
        let caches = Caches::start(&client, args.selector.as_deref(), changed.clone());
        let settings = Settings {
            namespace: args.namespace,
            ledger: format!("hatang-ledger-{}", args.shard),
            selector: args.selector,
            concurrency: args.concurrency,
            lease_warning_days: args.lease_warning_days,
            identity,
            templates,
            devices: DeviceSettings {
                policy: args.apply_policy,
                ssh_secret: args.ssh_secret,
                state_dir: args.state_dir,
                audit_every: (args.audit_seconds > 0)
                    .then(|| std::time::Duration::from_secs(args.audit_seconds)),
                ssh_timeout: std::time::Duration::from_secs(args.ssh_timeout),
                verify_timeout: std::time::Duration::from_secs(args.verify_timeout),
                backoff: std::time::Duration::from_secs(args.apply_backoff_seconds),
                concurrency: args.concurrency,
                #[cfg(feature = "fault-injection")]
                fail_after: fail_after()?,
            },
        };
        let reconciler = Arc::new(Reconciler::new(client, caches, settings, metrics));
        tokio::select! {
            _ = controller::run(reconciler.clone(), changed, std::time::Duration::from_secs(args.resync_seconds)) => {}
            signal = shutdown_signal() => {
                // Kubernetes sends SIGTERM, then SIGKILL after the pod's grace period: let the
                // transaction under way end (the journal would let the next leader recover it,
                // but a finished push is better than a recovered one).
                tracing::info!(signal, "shutting down: waiting for the device transaction under way");
                reconciler.drain().await;
                tracing::info!("shut down");
            }
        }
        Ok(())
    })
}

/// `HATANG_APPLY_FAIL_AFTER`, in builds for the recovery tests only.
#[cfg(feature = "fault-injection")]
fn fail_after() -> Result<Option<usize>> {
    use hatang_operator::push::FAIL_AFTER;
    match std::env::var(FAIL_AFTER) {
        Ok(v) => Ok(Some(v.parse().with_context(|| {
            format!("{FAIL_AFTER}={v}: not a number of devices")
        })?)),
        Err(_) => Ok(None),
    }
}

/// SIGTERM or SIGINT, whichever comes first.
async fn shutdown_signal() -> &'static str {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; SIGINT only");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}

fn block_on<F: std::future::Future<Output = Result<()>>>(f: F) -> Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

fn load(path: &Path) -> Result<hatang_core::Inventory> {
    let loaded = hatang_core::load_paths(&[path.to_owned()], &Default::default())
        .with_context(|| format!("loading {}", path.display()))?;
    if loaded.has_errors() {
        bail!(
            "{} does not load cleanly; run `hatang validate {}`",
            path.display(),
            path.display()
        );
    }
    Ok(loaded.inventory)
}

fn write(
    dir: &Path,
    files: std::collections::BTreeMap<PathBuf, String>,
    check: bool,
) -> Result<()> {
    let mut stale = Vec::new();
    for (rel, text) in files {
        let path = dir.join(&rel);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        if check {
            stale.push(rel.display().to_string());
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if !stale.is_empty() {
        bail!(
            "stale: {} (regenerate with `cargo run -p hatang-operator -- manifests`)",
            stale.join(", ")
        );
    }
    Ok(())
}
