//! The loopback control plane of `tests/cluster` for integration tests: builds the binaries when
//! they are missing (never skips), starts etcd + kube-apiserver, stops them on drop; and the
//! operator binary as a child process against it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

pub use crate::repo as root;

/// Control planes of one test binary run one at a time: each is a real etcd + kube-apiserver,
/// and CI machines have two cores.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A running control plane; `down` on drop.
pub struct Cluster {
    /// The environment `cluster.sh up` exported (KUBECONFIG, HATANG_CLUSTER_* …).
    pub env: HashMap<String, String>,
    /// Its state directory (certificates, tokens, logs, kubeconfig).
    pub state: PathBuf,
    /// Where the built binaries are (kubectl among them).
    pub bin: PathBuf,
    _serial: std::sync::MutexGuard<'static, ()>,
}

fn script(name: &str) -> PathBuf {
    root().join("tests/cluster").join(name)
}

impl Cluster {
    /// Builds (or finds cached) binaries and starts a fresh control plane.
    pub fn up() -> Cluster {
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let build = Command::new(script("build.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/cluster/build.sh");
        assert!(build.status.success(), "tests/cluster/build.sh failed");
        let out = Command::new(script("cluster.sh"))
            .arg("up")
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/cluster/cluster.sh up");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let env: HashMap<String, String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        let state = PathBuf::from(env.get("HATANG_CLUSTER_STATE").cloned().unwrap_or_default());
        let cluster = Cluster {
            bin: PathBuf::from(env.get("HATANG_CLUSTER_BIN").cloned().unwrap_or_default()),
            env,
            state,
            _serial: serial,
        };
        assert!(out.status.success(), "cluster.sh up failed");
        cluster
    }

    /// The admin kubeconfig.
    pub fn kubeconfig(&self) -> PathBuf {
        self.state.join("kubeconfig")
    }

    /// Runs kubectl as admin (or with `token`), returning the output.
    pub fn kubectl_as(&self, token: Option<&str>, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(self.bin.join("kubectl"));
        cmd.env("KUBECONFIG", self.kubeconfig());
        if let Some(t) = token {
            // A kubeconfig without credentials, so only the token authenticates.
            cmd.args([
                "--kubeconfig=/dev/null",
                &format!("--server={}", self.env["HATANG_CLUSTER_SERVER"]),
                &format!("--certificate-authority={}", self.env["HATANG_CLUSTER_CA"]),
                &format!("--token={t}"),
            ]);
        }
        cmd.args(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn kubectl");
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().expect("kubectl")
    }

    /// Runs kubectl as admin and asserts success; returns stdout.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let out = self.kubectl_as(None, args, None);
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Applies a YAML or JSON document as admin.
    pub fn apply_stdin(&self, doc: &str) {
        let out = self.kubectl_as(None, &["apply", "-f", "-"], Some(doc));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A TokenRequest token for a service account.
    pub fn token(&self, namespace: &str, sa: &str) -> String {
        self.kubectl(&["-n", namespace, "create", "token", sa])
            .trim()
            .to_owned()
    }

    /// A kubeconfig file that authenticates with `token` only (no admin credentials).
    pub fn kubeconfig_for(&self, name: &str, token: &str) -> PathBuf {
        let path = self.state.join(format!("kubeconfig-{name}"));
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority: {}\n\
             users:\n- name: u\n  user:\n    token: {token}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n\
             current-context: x\n",
            self.env["HATANG_CLUSTER_SERVER"], self.env["HATANG_CLUSTER_CA"]
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A kube client as admin, or authenticating with `token` only.
    pub async fn client(&self, token: Option<&str>) -> Client {
        let mut kc = Kubeconfig::read_from(self.kubeconfig()).expect("kubeconfig");
        if let Some(t) = token {
            for a in &mut kc.auth_infos {
                if let Some(info) = a.auth_info.as_mut() {
                    info.token = Some(t.to_owned().into());
                }
            }
        }
        let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .expect("client config");
        Client::try_from(config).expect("client")
    }

    /// Restarts kube-apiserver (etcd untouched).
    pub fn restart_apiserver(&self) {
        let st = Command::new(script("cluster.sh"))
            .arg("restart-apiserver")
            .arg(&self.state)
            .stdout(Stdio::null())
            .status()
            .expect("restart-apiserver");
        assert!(st.success());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.state.as_os_str().is_empty() {
            return;
        }
        let _ = Command::new(script("cluster.sh"))
            .arg("down")
            .arg(&self.state)
            .stdout(Stdio::null())
            .status();
    }
}

/// HTTP status of a refused request.
pub fn code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// A `hatang-operator run` child process; killed (SIGKILL) on drop.
pub struct Operator {
    /// The process.
    pub child: std::process::Child,
    /// Its health and metrics port on 127.0.0.1.
    pub port: u16,
    /// Its log file (stdout and stderr).
    pub log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Operator {
    /// Starts the operator binary against `cluster` (as admin) with extra `args`.
    pub fn start(cluster: &Cluster, name: &str, args: &[&str]) -> Operator {
        Self::start_with(cluster, &cluster.kubeconfig(), name, args)
    }

    /// Starts the operator binary with the credentials in `kubeconfig`.
    pub fn start_with(cluster: &Cluster, kubeconfig: &Path, name: &str, args: &[&str]) -> Operator {
        Self::start_env(cluster, kubeconfig, name, args, &[])
    }

    /// Starts the operator binary with the credentials in `kubeconfig` and extra environment.
    pub fn start_env(
        cluster: &Cluster,
        kubeconfig: &Path,
        name: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Operator {
        let port = free_port();
        let log = cluster.state.join(format!("operator-{name}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(crate::workspace_binary("hatang-operator"))
            .args([
                "run",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--identity",
                name,
            ])
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("start hatang-operator");
        Operator { child, port, log }
    }

    /// GET a path of the health/metrics endpoint: (status code, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, String::new());
        };
        let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (
            code,
            text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned(),
        )
    }

    /// A metric's value from /metrics.
    pub fn metric(&self, name: &str) -> Option<u64> {
        let (_, body) = self.get("/metrics");
        body.lines().find_map(|l| {
            l.strip_prefix(&format!("{name} "))
                .and_then(|v| v.parse().ok())
        })
    }

    /// Sends SIGTERM (what Kubernetes sends a pod) and waits up to `seconds` for the exit.
    pub fn terminate(&mut self, seconds: u64) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().expect("wait for the operator") {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        None
    }

    /// Peak resident set size in KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 250 ms until it returns true or `secs` pass.
pub async fn wait_for<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// Condition `type` of an object's status: (status, reason, message).
pub fn condition(o: &kube::api::DynamicObject, type_: &str) -> Option<(String, String, String)> {
    o.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (s("status"), s("reason"), s("message"))
        })
}

/// Installs CRDs, RBAC and the operator namespace, waiting until the CRDs are established.
pub fn install(c: &Cluster) {
    let dir = root().join("manifests");
    c.kubectl(&["apply", "-k", dir.to_str().unwrap()]);
    c.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd",
        "-l",
        "app.kubernetes.io/part-of=hatang",
        "--timeout=60s",
    ]);
}

/// Installs and applies the lab inventory's sample resources.
pub fn install_with_samples(c: &Cluster) {
    install(c);
    c.kubectl(&[
        "apply",
        "-k",
        root().join("manifests/samples").to_str().unwrap(),
    ]);
}
