//! The SSH transport (russh): connect with a timeout, verify the host key through
//! [`KnownHosts`], log in with a key file or ssh-agent, run commands with a timeout, upload files,
//! and fan out over many devices with bounded concurrency.
//!
//! Everything here is async (tokio); callers own the runtime (`hatang` builds one per command).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::client::{self, Handle};
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect};
use serde::Serialize;
use thiserror::Error;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::hostkey::{KnownHosts, PublicKey, Trust};

/// Where a device listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Device name (for reports).
    pub device: String,
    /// Address or host name.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Target {
    /// The name known_hosts uses for this endpoint: `host` on port 22, `[host]:port` otherwise.
    pub fn known_hosts_name(&self) -> String {
        if self.port == 22 {
            self.host.clone()
        } else {
            format!("[{}]:{}", self.host, self.port)
        }
    }

    fn socket_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }
}

/// How to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// An OpenSSH private key file (unencrypted).
    KeyFile(PathBuf),
    /// A private key held in memory (the operator reads it from a Kubernetes Secret and never
    /// writes it to disk).
    Key(LoginKey),
    /// The keys of the ssh-agent at `$SSH_AUTH_SOCK`, tried in turn.
    Agent,
}

/// A private key in memory. Its `Debug` shows the public key's fingerprint only, so a key
/// never reaches a log through a `{:?}` of the options that hold it.
#[derive(Clone)]
pub struct LoginKey(Arc<russh::keys::PrivateKey>);

impl LoginKey {
    /// Reads an unencrypted OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`). The
    /// error says why without quoting the text.
    pub fn from_openssh(text: &str) -> Result<LoginKey, SshError> {
        russh::keys::decode_secret_key(text, None)
            .map(|k| LoginKey(Arc::new(k)))
            .map_err(|e| SshError::Key {
                path: "(in memory)".to_owned(),
                message: e.to_string(),
            })
    }

    /// SHA-256 fingerprint of the public half (`SHA256:…`), safe to show.
    pub fn fingerprint(&self) -> String {
        self.0
            .public_key()
            .fingerprint(russh::keys::HashAlg::Sha256)
            .to_string()
    }
}

impl std::fmt::Debug for LoginKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LoginKey({})", self.fingerprint())
    }
}

impl PartialEq for LoginKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.public_key() == other.0.public_key()
    }
}

impl Eq for LoginKey {}

/// Session options shared by every device of a run.
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// User to log in as.
    pub user: String,
    /// Login methods, tried in order.
    pub auth: Vec<Auth>,
    /// Known host keys (pins and known_hosts files).
    pub known_hosts: Arc<KnownHosts>,
    /// Trust a host nothing is known about (the key is reported as new). A *changed* key is
    /// refused regardless.
    pub accept_new: bool,
    /// Limit for TCP connect, key exchange and login together.
    pub connect_timeout: Duration,
    /// Limit for each command.
    pub command_timeout: Duration,
}

/// Why a device could not be used. Host-key refusals are their own variants so callers can
/// tell interception risks from network trouble.
#[derive(Debug, Error, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SshError {
    /// TCP connection failed (refused, unreachable).
    #[error("cannot connect to {endpoint}: {message}")]
    Connect {
        /// `host:port`.
        endpoint: String,
        /// Why.
        message: String,
    },
    /// Something took longer than allowed.
    #[error("timed out after {seconds} s {what}")]
    Timeout {
        /// What was being done.
        what: String,
        /// The limit.
        seconds: u64,
    },
    /// Nothing is known about the host's key and new keys were not accepted.
    #[error(
        "host key of {host} is unknown ({presented}); pin it in the inventory \
         (spec.management.sshHostKey) or a known_hosts file, or pass --accept-new"
    )]
    HostKeyUnknown {
        /// known_hosts name of the endpoint.
        host: String,
        /// The key the host presented.
        presented: String,
    },
    /// The host presented a different key than the one known: refused always.
    #[error(
        "HOST KEY CHANGED for {host}: expected {expected}, presented {presented} \
         (possible interception; refused)"
    )]
    HostKeyChanged {
        /// known_hosts name of the endpoint.
        host: String,
        /// The key on record.
        expected: String,
        /// The key the host presented.
        presented: String,
    },
    /// No login method was accepted.
    #[error("authentication as {user} failed: {message}")]
    Auth {
        /// The user.
        user: String,
        /// What was tried.
        message: String,
    },
    /// A private key could not be read.
    #[error("cannot read private key {path}: {message}")]
    Key {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// A command ran and exited with an error.
    #[error("`{command}` failed (exit {}): {output}", exit.map(|s| s.to_string()).unwrap_or_else(|| "none".into()))]
    CommandFailed {
        /// The command line.
        command: String,
        /// Its exit status, if the device sent one.
        exit: Option<u32>,
        /// Its error output (or standard output when that is all it printed), trimmed.
        output: String,
    },
    /// The SSH session failed.
    #[error("ssh: {0}")]
    Protocol(String),
}

impl SshError {
    /// A host-key refusal (unknown or changed)?
    pub fn is_host_key(&self) -> bool {
        matches!(
            self,
            SshError::HostKeyUnknown { .. } | SshError::HostKeyChanged { .. }
        )
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExecOutput {
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
    /// Exit status; `None` when the command was killed by a signal or the server said nothing.
    pub exit_status: Option<u32>,
}

impl ExecOutput {
    /// Exited with status 0.
    pub fn success(&self) -> bool {
        self.exit_status == Some(0)
    }
}

/// The host-key verdict the handler reached, read back after a refused connection.
#[derive(Debug, Default)]
struct Verdict {
    refused: Option<SshError>,
    new_key: Option<PublicKey>,
}

struct Handler {
    host: String,
    known: Arc<KnownHosts>,
    accept_new: bool,
    verdict: Arc<Mutex<Verdict>>,
}

impl client::Handler for Handler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let mut verdict = self.verdict.lock().expect("verdict lock");
        let presented = match server_public_key
            .public_key()
            .to_openssh()
            .map_err(|e| e.to_string())
            .and_then(|t| t.parse::<PublicKey>().map_err(|e| e.to_string()))
        {
            Ok(k) => k,
            Err(e) => {
                verdict.refused = Some(SshError::Protocol(format!(
                    "{}: unreadable host key: {e}",
                    self.host
                )));
                return Ok(false);
            }
        };
        let text = format!("{} {}", presented.algorithm, presented.body);
        match self.known.check(&self.host, &presented) {
            Trust::Trusted => Ok(true),
            Trust::Unknown if self.accept_new => {
                verdict.new_key = Some(presented);
                Ok(true)
            }
            Trust::Unknown => {
                verdict.refused = Some(SshError::HostKeyUnknown {
                    host: self.host.clone(),
                    presented: text,
                });
                Ok(false)
            }
            Trust::Changed { expected } => {
                verdict.refused = Some(SshError::HostKeyChanged {
                    host: self.host.clone(),
                    expected: format!("{} {}", expected.algorithm, expected.body),
                    presented: text,
                });
                Ok(false)
            }
        }
    }
}

/// An authenticated session with one device.
pub struct Session {
    handle: Handle<Handler>,
    target: Target,
    command_timeout: Duration,
    /// The host key, when it was unknown and accepted (`accept_new`): record it.
    pub new_host_key: Option<PublicKey>,
}

fn protocol(e: impl std::fmt::Display) -> SshError {
    SshError::Protocol(e.to_string())
}

async fn with_timeout<T>(
    limit: Duration,
    what: &str,
    f: impl Future<Output = Result<T, SshError>>,
) -> Result<T, SshError> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r,
        Err(_) => Err(SshError::Timeout {
            what: what.to_owned(),
            seconds: limit.as_secs().max(1),
        }),
    }
}

impl Session {
    /// Connects, verifies the host key and logs in, all within `options.connect_timeout`.
    pub async fn connect(target: &Target, options: &SshOptions) -> Result<Session, SshError> {
        with_timeout(
            options.connect_timeout,
            &format!("connecting to {}", target.known_hosts_name()),
            Self::connect_inner(target, options),
        )
        .await
    }

    async fn connect_inner(target: &Target, options: &SshOptions) -> Result<Session, SshError> {
        let host = target.socket_host();
        let endpoint = if host.contains(':') {
            format!("[{host}]:{}", target.port)
        } else {
            format!("{host}:{}", target.port)
        };
        let socket = tokio::net::TcpStream::connect((host, target.port))
            .await
            .map_err(|e| SshError::Connect {
                endpoint,
                message: e.to_string(),
            })?;
        let _ = socket.set_nodelay(true);
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(options.command_timeout + options.connect_timeout),
            ..Default::default()
        });
        let verdict = Arc::new(Mutex::new(Verdict::default()));
        let handler = Handler {
            host: target.known_hosts_name(),
            known: options.known_hosts.clone(),
            accept_new: options.accept_new,
            verdict: verdict.clone(),
        };
        let mut handle = match client::connect_stream(config, socket, handler).await {
            Ok(h) => h,
            Err(e) => {
                let refused = verdict.lock().expect("verdict lock").refused.take();
                return Err(refused.unwrap_or_else(|| protocol(e)));
            }
        };
        let new_host_key = verdict.lock().expect("verdict lock").new_key.take();
        let mut tried = Vec::new();
        for auth in &options.auth {
            match auth {
                Auth::KeyFile(path) => {
                    let key = Arc::new(load_key(path)?);
                    if key_login(&mut handle, &options.user, key).await? {
                        return Ok(Session {
                            handle,
                            target: target.clone(),
                            command_timeout: options.command_timeout,
                            new_host_key,
                        });
                    }
                    tried.push(format!("key {} refused", path.display()));
                }
                Auth::Key(key) => {
                    if key_login(&mut handle, &options.user, key.0.clone()).await? {
                        return Ok(Session {
                            handle,
                            target: target.clone(),
                            command_timeout: options.command_timeout,
                            new_host_key,
                        });
                    }
                    tried.push(format!("key {} refused", key.fingerprint()));
                }
                Auth::Agent => match agent_login(&mut handle, &options.user).await {
                    Ok(true) => {
                        return Ok(Session {
                            handle,
                            target: target.clone(),
                            command_timeout: options.command_timeout,
                            new_host_key,
                        });
                    }
                    Ok(false) => tried.push("no ssh-agent key accepted".to_owned()),
                    Err(e) => tried.push(format!("ssh-agent: {e}")),
                },
            }
        }
        if tried.is_empty() {
            tried.push("no login method given".to_owned());
        }
        Err(SshError::Auth {
            user: options.user.clone(),
            message: tried.join("; "),
        })
    }

    /// The device this session is with.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Runs `command` (through the login shell), feeding `stdin` if given, within the command
    /// timeout.
    pub async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, SshError> {
        with_timeout(
            self.command_timeout,
            &format!("running `{command}`"),
            self.exec_inner(command, stdin),
        )
        .await
    }

    async fn exec_inner(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput, SshError> {
        let mut channel = self.handle.channel_open_session().await.map_err(protocol)?;
        channel.exec(true, command).await.map_err(protocol)?;
        if let Some(data) = stdin {
            channel.data(data).await.map_err(protocol)?;
        }
        channel.eof().await.map_err(protocol)?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut out = ExecOutput::default();
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => out.exit_status = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    stderr.extend_from_slice(format!("killed by signal {signal_name:?}").as_bytes())
                }
                _ => {}
            }
        }
        out.stdout = String::from_utf8_lossy(&stdout).into_owned();
        out.stderr = String::from_utf8_lossy(&stderr).into_owned();
        Ok(out)
    }

    /// Writes `contents` to `path` on the device (mode 0600, through `cat`; replaced atomically
    /// by a rename).
    pub async fn upload(&self, path: &str, contents: &[u8]) -> Result<(), SshError> {
        let tmp = format!("{path}.hatang-tmp");
        let command = format!(
            "umask 077 && cat > {} && mv -f {} {}",
            shell_quote(&tmp),
            shell_quote(&tmp),
            shell_quote(path)
        );
        let out = self.exec(&command, Some(contents)).await?;
        if out.success() {
            Ok(())
        } else {
            Err(SshError::Protocol(format!(
                "writing {path} failed ({:?}): {}",
                out.exit_status,
                out.stderr.trim()
            )))
        }
    }

    /// Says goodbye.
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
    }
}

fn load_key(path: &Path) -> Result<russh::keys::PrivateKey, SshError> {
    russh::keys::load_secret_key(path, None).map_err(|e| SshError::Key {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

async fn key_login(
    handle: &mut Handle<Handler>,
    user: &str,
    key: Arc<russh::keys::PrivateKey>,
) -> Result<bool, SshError> {
    let hash = handle
        .best_supported_rsa_hash()
        .await
        .map_err(protocol)?
        .flatten();
    let r = handle
        .authenticate_publickey(user.to_owned(), PrivateKeyWithHashAlg::new(key, hash))
        .await
        .map_err(protocol)?;
    Ok(r.success())
}

async fn agent_login(handle: &mut Handle<Handler>, user: &str) -> Result<bool, String> {
    let mut agent = russh::keys::agent::client::AgentClient::connect_env()
        .await
        .map_err(|e| e.to_string())?;
    let identities = agent
        .request_identities()
        .await
        .map_err(|e| e.to_string())?;
    let hash = handle
        .best_supported_rsa_hash()
        .await
        .map_err(|e| e.to_string())?
        .flatten();
    for id in identities {
        let key = id.public_key().into_owned();
        match handle
            .authenticate_publickey_with(user.to_owned(), key, hash, &mut agent)
            .await
        {
            Ok(r) if r.success() => return Ok(true),
            Ok(_) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(false)
}

/// Single-quotes a string for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The result of one device's work in a fan-out; `E` is the work's error, which a failed
/// connection is turned into.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceResult<T, E = SshError> {
    /// The device.
    pub device: String,
    /// Its endpoint (`host` or `[host]:port`).
    pub endpoint: String,
    /// What the work produced, or why the device could not be used.
    pub outcome: Result<T, E>,
    /// The host key accepted as new (`accept_new`), to be recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_host_key: Option<String>,
    /// Wall time for the device, connect included, in milliseconds.
    pub millis: u64,
}

/// Connects to every target (at most `concurrency` at once), runs `work` on each session and
/// closes it. Results come back in the order of `targets`; a failing device never stops the
/// others.
pub async fn for_each_device<T, E, F, Fut>(
    targets: Vec<Target>,
    options: SshOptions,
    concurrency: usize,
    work: F,
) -> Vec<DeviceResult<T, E>>
where
    T: Send + 'static,
    E: From<SshError> + Send + 'static,
    F: Fn(Arc<Session>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    let semaphore = Arc::new(Semaphore::new(concurrency.max(1)));
    let options = Arc::new(options);
    let work = Arc::new(work);
    let mut set = JoinSet::new();
    let n = targets.len();
    for (i, target) in targets.into_iter().enumerate() {
        let (semaphore, options, work) = (semaphore.clone(), options.clone(), work.clone());
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore open");
            let start = Instant::now();
            let endpoint = target.known_hosts_name();
            let (outcome, new_host_key) = match Session::connect(&target, &options).await {
                Ok(session) => {
                    let new_key = session
                        .new_host_key
                        .as_ref()
                        .map(|k| format!("{} {}", k.algorithm, k.body));
                    let session = Arc::new(session);
                    let r = work(session.clone()).await;
                    if let Ok(s) = Arc::try_unwrap(session) {
                        s.close().await;
                    }
                    (r, new_key)
                }
                Err(e) => (Err(E::from(e)), None),
            };
            (
                i,
                DeviceResult {
                    device: target.device,
                    endpoint,
                    outcome,
                    new_host_key,
                    millis: start.elapsed().as_millis() as u64,
                },
            )
        });
    }
    let mut slots: Vec<Option<DeviceResult<T, E>>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.expect("device task does not panic");
        slots[i] = Some(r);
    }
    slots
        .into_iter()
        .map(|r| r.expect("every task reported"))
        .collect()
}

/// Runs one command on every target: its output per device.
/// Runs `command` and returns its standard output, or [`SshError::CommandFailed`] when it exits
/// with an error.
pub async fn exec_ok(session: &Session, command: &str) -> Result<String, SshError> {
    let out = session.exec(command, None).await?;
    if out.success() {
        return Ok(out.stdout);
    }
    let mut output = out.stderr.trim().to_owned();
    if output.is_empty() {
        output = out.stdout.trim().to_owned();
    }
    Err(SshError::CommandFailed {
        command: command.to_owned(),
        exit: out.exit_status,
        output,
    })
}

/// Runs one command on every target, `concurrency` devices at a time, with the same SSH options
/// and host-key trust as every other session; one result per device.
pub async fn run_everywhere(
    targets: Vec<Target>,
    options: SshOptions,
    concurrency: usize,
    command: &str,
) -> Vec<DeviceResult<ExecOutput>> {
    let command = Arc::new(command.to_owned());
    for_each_device(targets, options, concurrency, move |session| {
        let command = command.clone();
        async move { session.exec(&command, None).await }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hosts_names_follow_openssh() {
        let t = |host: &str, port| Target {
            device: "d".into(),
            host: host.into(),
            port,
        };
        assert_eq!(t("2001:db8::1", 22).known_hosts_name(), "2001:db8::1");
        assert_eq!(
            t("2001:db8::1", 2222).known_hosts_name(),
            "[2001:db8::1]:2222"
        );
    }

    #[test]
    fn login_keys_never_show_their_secret() {
        assert!(LoginKey::from_openssh("not a key").is_err());
        let err = LoginKey::from_openssh("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("AAAA"), "{err}");
    }

    #[test]
    fn refused_connections_are_reported_per_device_not_raised() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // A port nothing listens on: bind, learn the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = SshOptions {
            user: "root".into(),
            auth: vec![],
            known_hosts: Arc::new(KnownHosts::default()),
            accept_new: false,
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(5),
        };
        let targets = vec![Target {
            device: "nobody".into(),
            host: "127.0.0.1".into(),
            port,
        }];
        let r = rt.block_on(run_everywhere(targets, options, 4, "true"));
        assert_eq!(r.len(), 1);
        assert!(
            matches!(r[0].outcome, Err(SshError::Connect { .. })),
            "{:?}",
            r[0]
        );
    }
}
