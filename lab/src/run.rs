//! The lab's effects: `up`, `down` and `status` of a [`LabPlan`].

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::LabError;
use super::files;
use super::plan::{FRR_DAEMONS, FRR_RUN_ROOT, LabPlan, Node};
use super::sys::{self, Enter};
use hatang_driver::hostkey::PublicKey;

const FRRINIT: &str = "/usr/lib/frr/frrinit.sh";
const SSHD: &str = "/usr/sbin/sshd";

/// Programs the lab runs, with the Debian package that provides each.
const PROGRAMS: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("unshare", "util-linux"),
    ("hostname", "hostname"),
    ("chown", "coreutils"),
    ("ssh-keygen", "openssh-client"),
    (SSHD, "openssh-server"),
    (FRRINIT, "frr"),
    ("/usr/lib/frr/watchfrr", "frr"),
    ("vtysh", "frr"),
];

/// The steps of `up`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// State directory, plan, keys, known_hosts and overlay.
    State,
    /// Network and UTS namespaces.
    Namespaces,
    /// One veth pair per circuit, dummy interfaces.
    Links,
    /// Host bridge, management veths, addresses and routes.
    Management,
    /// FRR (watchfrr, zebra, bgpd, staticd) per namespace.
    Frr,
    /// sshd per namespace.
    Sshd,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 6] = [
        Step::State,
        Step::Namespaces,
        Step::Links,
        Step::Management,
        Step::Frr,
        Step::Sshd,
    ];

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::State => "state",
            Step::Namespaces => "namespaces",
            Step::Links => "links",
            Step::Management => "management",
            Step::Frr => "frr",
            Step::Sshd => "sshd",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// How `up` runs.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Devices started at once (FRR, sshd).
    pub workers: usize,
    /// How long each FRR instance and sshd may take to answer.
    pub timeout: Duration,
    /// Stop with an error after this step (to test cleanup after a failed `up`).
    pub fail_after: Option<Step>,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions {
            workers: 8,
            timeout: Duration::from_secs(60),
            fail_after: None,
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// The step.
    pub step: Step,
    /// Things created (namespaces, links, daemons…).
    pub created: usize,
    /// Things that were already there.
    pub kept: usize,
    /// Wall time.
    pub seconds: f64,
}

/// What `up` did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpReport {
    /// The lab.
    pub lab: String,
    /// Its state directory.
    pub state_dir: PathBuf,
    /// Devices.
    pub devices: usize,
    /// Circuits.
    pub circuits: usize,
    /// Per step.
    pub steps: Vec<StepReport>,
    /// Wall time.
    pub seconds: f64,
    /// Key to log in with.
    pub identity_file: PathBuf,
    /// Pinned host keys.
    pub known_hosts: PathBuf,
    /// The overlay.
    pub overlay: PathBuf,
}

impl UpReport {
    /// Whether this `up` found everything already running.
    pub fn unchanged(&self) -> bool {
        self.steps.iter().all(|s| s.created == 0)
    }
}

/// Brings the lab up; what already runs is kept (idempotent). On error the lab may be partly
/// up: [`down`] removes it.
pub fn up(plan: &LabPlan, options: &UpOptions) -> Result<UpReport, LabError> {
    let start = Instant::now();
    preflight()?;
    let _lock = sys::Lock::acquire(&plan.lock_file())?;
    check_routes(plan)?;
    let mut steps = Vec::new();
    for step in Step::ALL {
        let t = Instant::now();
        let (created, kept) = match step {
            Step::State => state(plan)?,
            Step::Namespaces => count(sys::parallel(&plan.nodes, options.workers, |n| {
                namespace(plan, n)
            }))?,
            Step::Links => links(plan)?,
            Step::Management => management(plan)?,
            Step::Frr => count(sys::parallel(&plan.nodes, options.workers, |n| {
                frr(plan, n, options.timeout)
            }))?,
            Step::Sshd => count(sys::parallel(&plan.nodes, options.workers, |n| {
                sshd(plan, n, options.timeout)
            }))?,
        };
        steps.push(StepReport {
            step,
            created,
            kept,
            seconds: t.elapsed().as_secs_f64(),
        });
        if options.fail_after == Some(step) {
            return Err(LabError::Injected(step.as_str()));
        }
    }
    Ok(UpReport {
        lab: plan.name.clone(),
        state_dir: plan.state_dir.clone(),
        devices: plan.nodes.len(),
        circuits: plan.links.len(),
        steps,
        seconds: start.elapsed().as_secs_f64(),
        identity_file: plan.user_key(),
        known_hosts: plan.known_hosts(),
        overlay: plan.overlay_file(),
    })
}

/// Per-node results → (created, kept), or every device's error.
fn count(results: Vec<Result<bool, (String, LabError)>>) -> Result<(usize, usize), LabError> {
    let mut created = 0;
    let mut kept = 0;
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(true) => created += 1,
            Ok(false) => kept += 1,
            Err((device, e)) => errors.push(format!("{device}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok((created, kept))
    } else {
        Err(LabError::Devices(errors))
    }
}

fn at(node: &Node) -> impl Fn(LabError) -> (String, LabError) + '_ {
    move |e| (node.device.clone(), e)
}

/// Checks that every program the lab runs is installed.
pub(crate) fn preflight() -> Result<(), LabError> {
    let missing: Vec<(&str, &str)> = PROGRAMS
        .iter()
        .copied()
        .filter(|(p, _)| sys::find_program(p).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let programs: Vec<&str> = missing.iter().map(|(p, _)| *p).collect();
    let packages: BTreeSet<&str> = missing.iter().map(|(_, k)| *k).collect();
    Err(LabError::Missing(format!(
        "{} (install with: apt-get install {})",
        programs.join(", "),
        packages.into_iter().collect::<Vec<_>>().join(" ")
    )))
}

/// The plan saved by `up` in `state_dir`, if there is one.
pub fn read_saved_plan(state_dir: &Path) -> Option<LabPlan> {
    let text = std::fs::read_to_string(state_dir.join("plan.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn mkdir(path: &Path, mode: u32) -> Result<(), LabError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .map_err(|e| LabError::io(format!("create {}", path.display()), e))
}

fn remove_file(path: &Path) -> Result<bool, LabError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(LabError::io(format!("remove {}", path.display()), e)),
    }
}

fn remove_dir_all(path: &Path) -> Result<bool, LabError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(LabError::io(format!("remove {}", path.display()), e)),
    }
}

fn public_half(key: &Path) -> PathBuf {
    PathBuf::from(format!("{}.pub", key.display()))
}

/// Generates an ed25519 key pair at `path` unless both halves exist; whether it did.
fn ensure_key(path: &Path, comment: &str) -> Result<bool, LabError> {
    let public = public_half(path);
    if path.exists() && public.exists() {
        return Ok(false);
    }
    remove_file(path)?;
    remove_file(&public)?;
    sys::run(
        "ssh-keygen",
        &[
            "-q".as_ref(),
            "-t".as_ref(),
            "ed25519".as_ref(),
            "-N".as_ref(),
            "".as_ref(),
            "-C".as_ref(),
            comment.as_ref(),
            "-f".as_ref(),
            path.as_os_str(),
        ],
    )?;
    Ok(true)
}

fn read_public_key(path: &Path) -> Result<PublicKey, LabError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LabError::io(format!("read {}", path.display()), e))?;
    text.trim()
        .parse()
        .map_err(|e| LabError::Conflict(format!("{}: {e}", path.display())))
}

/// State directory, saved plan, keys, known_hosts and overlay.
fn state(plan: &LabPlan) -> Result<(usize, usize), LabError> {
    mkdir(&plan.state_dir, 0o700)?;
    if let Some(saved) = read_saved_plan(&plan.state_dir)
        && saved != *plan
    {
        return Err(LabError::Conflict(format!(
            "lab `{}` is already up from a different inventory or name (see {}): run `hatang lab down` first",
            plan.name,
            plan.plan_file().display()
        )));
    }
    let json = serde_json::to_string_pretty(plan).expect("plan serializes");
    sys::write_atomic(&plan.plan_file(), &json)?;
    mkdir(&plan.uts_dir(), 0o700)?;
    mkdir(&plan.state_dir.join("overlay"), 0o700)?;
    // sshd's privilege-separation directory (normally made by its init script).
    mkdir(Path::new("/run/sshd"), 0o755)?;

    let mut created = 0;
    let mut kept = 0;
    let mut tally = |made: bool| {
        if made { created += 1 } else { kept += 1 }
    };
    tally(ensure_key(
        &plan.user_key(),
        &format!("hatang-lab-{}", plan.name),
    )?);
    let user = read_public_key(&public_half(&plan.user_key()))?;
    sys::write_atomic(
        &plan.authorized_keys(),
        &format!(
            "{} {} hatang-lab-{}\n",
            user.algorithm, user.body, plan.name
        ),
    )?;
    let mut keys = BTreeMap::new();
    for n in &plan.nodes {
        mkdir(&plan.node_dir(n), 0o700)?;
        tally(ensure_key(
            &plan.host_key(n),
            &format!("root@{}", n.device),
        )?);
        keys.insert(
            n.device.clone(),
            read_public_key(&public_half(&plan.host_key(n)))?,
        );
    }
    sys::write_atomic(&plan.known_hosts(), &files::known_hosts(plan, &keys))?;
    sys::write_atomic(&plan.overlay_file(), &files::overlay(plan, &keys).to_yaml())?;
    Ok((created, kept))
}

/// Network namespace (with forwarding on, addresses kept on link down) and UTS namespace of one device.
fn namespace(plan: &LabPlan, node: &Node) -> Result<bool, (String, LabError)> {
    let run = || -> Result<bool, LabError> {
        let mut created = false;
        let file = node.netns_file();
        if !sys::is_mount(&file) {
            // A file without its mount is left over from a crash or reboot.
            remove_file(&file)?;
            sys::ip(&["netns", "add", &node.namespace])?;
            created = true;
        }
        sys::ip(&["-n", &node.namespace, "link", "set", "lo", "up"])?;
        sys::in_netns(&file, || {
            // Linux flushes an interface's IPv6 addresses when its link goes down, and zebra
            // does not put them back when it comes up again: a flapped circuit would stay
            // without its /127. Routers keep their addresses, so the lab's do too.
            for (path, value) in [
                ("/proc/sys/net/ipv6/conf/all/keep_addr_on_down", "1"),
                ("/proc/sys/net/ipv6/conf/default/keep_addr_on_down", "1"),
                ("/proc/sys/net/ipv6/conf/all/forwarding", "1"),
                ("/proc/sys/net/ipv6/conf/default/forwarding", "1"),
                ("/proc/sys/net/ipv4/ip_forward", "1"),
            ] {
                std::fs::write(path, value)?;
            }
            Ok(())
        })?;
        let uts = plan.uts_file(node);
        if !sys::is_mount(&uts) {
            std::fs::File::create(&uts)
                .map_err(|e| LabError::io(format!("create {}", uts.display()), e))?;
            sys::run(
                "unshare",
                &[
                    format!("--uts={}", uts.display()).as_str(),
                    "hostname",
                    &node.device,
                ],
            )?;
            created = true;
        }
        Ok(created)
    };
    run().map_err(at(node))
}

/// One veth pair per circuit, named as in the inventory at both ends; dummies for the rest.
fn links(plan: &LabPlan) -> Result<(usize, usize), LabError> {
    let mut existing: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for n in &plan.nodes {
        existing.insert(
            &n.namespace,
            sys::link_names(Some(&n.namespace))?.into_iter().collect(),
        );
    }
    let has = |ns: &str, name: &str| existing.get(ns).is_some_and(|s| s.contains(name));
    let mut created = 0;
    let mut kept = 0;
    for l in &plan.links {
        let (a, z) = (&l.a, &l.z);
        let (has_a, has_z) = (
            has(&a.namespace, &a.interface),
            has(&z.namespace, &z.interface),
        );
        if has_a && has_z {
            kept += 1;
            continue;
        }
        // Half a pair cannot be reused: remove it and make both ends again.
        for (end, there) in [(a, has_a), (z, has_z)] {
            if there {
                sys::ip(&["-n", &end.namespace, "link", "del", &end.interface])?;
            }
        }
        sys::ip(&[
            "link",
            "add",
            &a.interface,
            "netns",
            &a.namespace,
            "type",
            "veth",
            "peer",
            "name",
            &z.interface,
            "netns",
            &z.namespace,
        ])?;
        created += 1;
    }
    // Kernels built without the dummy driver (some VM kernels) still have ifb: an interface
    // that is up, takes addresses and gives them connected routes, which is all a LAN stand-in
    // needs.
    let mut kind = "dummy";
    for n in &plan.nodes {
        for d in &n.dummies {
            if has(&n.namespace, d) {
                kept += 1;
                continue;
            }
            match sys::ip(&["-n", &n.namespace, "link", "add", d, "type", kind]) {
                Err(LabError::Command { output, .. })
                    if kind == "dummy" && kernel_lacks_link_type(&output) =>
                {
                    kind = "ifb";
                    sys::ip(&["-n", &n.namespace, "link", "add", d, "type", kind])?;
                }
                other => {
                    other?;
                }
            }
            created += 1;
        }
        let up: Vec<&str> = plan.interfaces_of(n).into_iter().skip(1).collect();
        batch(
            Some(&n.namespace),
            up.iter().map(|i| format!("link set dev {i} up")),
        )?;
    }
    Ok((created, kept))
}

/// Whether `ip link add … type T` failed because the kernel has no driver for `T`. `ip` exits
/// 2 for every failure and the kernel's answer (EOPNOTSUPP) is only seen in the text iproute2
/// prints for it, so that text is the one signal there is; it comes from another program, not
/// from hatang.
fn kernel_lacks_link_type(ip_output: &str) -> bool {
    ip_output.contains("Unknown device type")
}

/// Runs `ip -batch -` with `lines` (in `namespace`): one process for many commands. The lines
/// are `ip` commands, not shell, and names are validated by the plan.
fn batch(namespace: Option<&str>, lines: impl Iterator<Item = String>) -> Result<(), LabError> {
    use std::io::Write;
    let text: String = lines.map(|l| l + "\n").collect();
    if text.is_empty() {
        return Ok(());
    }
    let mut cmd = Command::new("ip");
    if let Some(ns) = namespace {
        cmd.args(["-n", ns]);
    }
    cmd.args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| LabError::io("cannot run `ip -batch -`", e))?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(text.as_bytes())
        .map_err(|e| LabError::io("write to `ip -batch -`", e))?;
    let out = child
        .wait_with_output()
        .map_err(|e| LabError::io("wait for `ip -batch -`", e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError::Command {
            command: format!(
                "ip {}-batch - <<{}",
                namespace.map(|n| format!("-n {n} ")).unwrap_or_default(),
                text.trim().replace('\n', "; ")
            ),
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

fn host_route(address: IpAddr) -> String {
    match address {
        IpAddr::V6(a) => format!("{a}/128"),
        IpAddr::V4(a) => format!("{a}/32"),
    }
}

/// Host bridge, one veth per device into its namespace, addresses and routes.
fn management(plan: &LabPlan) -> Result<(usize, usize), LabError> {
    let mut created = 0;
    let mut kept = 0;
    let br = plan.bridge.as_str();
    match sys::host_link_kind(br)?.as_deref() {
        None => {
            sys::ip(&["link", "add", br, "type", "bridge"])?;
            created += 1;
        }
        Some("bridge") => kept += 1,
        Some(kind) => {
            return Err(LabError::Conflict(format!(
                "host link `{br}` exists and is a {} link, not the lab's bridge: remove it or choose another --name",
                if kind.is_empty() { "physical" } else { kind }
            )));
        }
    }
    let host6 = host_route(IpAddr::V6(plan.host_v6));
    let host4 = host_route(IpAddr::V4(plan.host_v4));
    let mut host = vec![
        format!("link set dev {br} up"),
        format!("address replace {host6} dev {br} nodad"),
    ];
    if plan.nodes.iter().any(|n| n.management.address.is_ipv4()) {
        host.push(format!("address replace {host4} dev {br}"));
    }
    let host_links: BTreeSet<String> = sys::link_names(None)?.into_iter().collect();
    for n in &plan.nodes {
        let m = &n.management;
        let inside: BTreeSet<String> = sys::link_names(Some(&n.namespace))?.into_iter().collect();
        if inside.contains(&m.device_interface) && host_links.contains(&m.host_interface) {
            kept += 1;
        } else {
            if host_links.contains(&m.host_interface) {
                sys::ip(&["link", "del", &m.host_interface])?;
            }
            if inside.contains(&m.device_interface) {
                sys::ip(&["-n", &n.namespace, "link", "del", &m.device_interface])?;
            }
            sys::ip(&[
                "link",
                "add",
                &m.host_interface,
                "type",
                "veth",
                "peer",
                "name",
                &m.device_interface,
                "netns",
                &n.namespace,
            ])?;
            created += 1;
        }
        let route = host_route(m.address);
        let (back, nodad) = match m.address {
            IpAddr::V6(_) => (&host6, " nodad"),
            IpAddr::V4(_) => (&host4, ""),
        };
        batch(
            Some(&n.namespace),
            [
                format!("link set dev {} up", m.device_interface),
                format!("address replace {route} dev {}{nodad}", m.device_interface),
                format!("route replace {back} dev {}", m.device_interface),
            ]
            .into_iter(),
        )?;
        host.push(format!("link set dev {} master {br} up", m.host_interface));
        host.push(format!("route replace {route} dev {br}"));
    }
    batch(None, host.into_iter())?;
    Ok((created, kept))
}

/// Refuses management addresses the host already routes elsewhere (another lab of the same
/// inventory, or a real network), before anything is made.
fn check_routes(plan: &LabPlan) -> Result<(), LabError> {
    for n in &plan.nodes {
        let m = &n.management;
        for dev in sys::host_route_devices(&host_route(m.address), m.address.is_ipv6())? {
            if dev != plan.bridge {
                return Err(LabError::Conflict(format!(
                    "management address {} of `{}` is already routed via `{dev}` on this host \
                     (another lab of the same inventory? run `hatang lab down` on it first)",
                    m.address, n.device
                )));
            }
        }
    }
    Ok(())
}

/// The pid in `pid_file` if that process runs in `node`'s network namespace.
fn running_in(node: &Node, pid_file: &Path) -> Option<i32> {
    sys::read_pid(pid_file).filter(|p| sys::alive(*p) && sys::pid_in_netns(*p, &node.netns_file()))
}

fn chown(owner: &str, path: &Path, recursive: bool) -> Result<(), LabError> {
    let mut args = vec![];
    if recursive {
        args.push("-R".as_ref());
    }
    args.push(owner.as_ref());
    args.push(path.as_os_str());
    sys::run("chown", &args).map(drop)
}

/// FRR of one device: `/etc/frr/<ns>/`, then Debian's `frrinit.sh start <ns>` inside the
/// device's namespaces (watchfrr -N <ns> starts zebra, bgpd, staticd), then waits until watchfrr
/// reports every daemon up.
fn frr(plan: &LabPlan, node: &Node, timeout: Duration) -> Result<bool, (String, LabError)> {
    let run = || -> Result<bool, LabError> {
        let conf = node.frr_conf_dir();
        mkdir(&conf, 0o755)?;
        let write = |name: &str, text: &str, always: bool| -> Result<(), LabError> {
            let path = conf.join(name);
            if always || !path.exists() {
                sys::write_atomic(&path, text)?;
            }
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640))
                .map_err(|e| LabError::io(format!("chmod {}", path.display()), e))
        };
        write("daemons", &files::frr_daemons(plan, node), true)?;
        write("vtysh.conf", files::vtysh_conf(), true)?;
        // The running configuration belongs to the router (and `hatang apply`) once it exists.
        write("frr.conf", &files::frr_conf(node), false)?;
        chown("frr:frr", &conf, true)?;
        chown("frr:frrvty", &conf.join("vtysh.conf"), false)?;

        let watchfrr = node.frr_run_dir().join("watchfrr.pid");
        let started = if running_in(node, &watchfrr).is_none() {
            let enter = Enter {
                netns: &node.netns_file(),
                uts: &plan.uts_file(node),
                binds: vec![],
            };
            sys::run_in(
                &enter,
                FRRINIT,
                &["start", node.namespace.as_str()],
                &plan.node_dir(node).join("frrinit.log"),
            )?;
            true
        } else {
            false
        };
        if !sys::wait_for(timeout, || frr_up(node).values().all(|up| *up)) {
            return Err(LabError::Timeout {
                what: format!(
                    "FRR in {} (see `vtysh -N {} -c 'show watchfrr'` and {})",
                    node.namespace,
                    node.namespace,
                    plan.node_dir(node).join("frrinit.log").display()
                ),
                seconds: timeout.as_secs(),
            });
        }
        Ok(started)
    };
    run().map_err(at(node))
}

/// Whether watchfrr and each FRR daemon of `node` run (by pid file, in the namespace) and
/// watchfrr reports them up.
fn frr_up(node: &Node) -> BTreeMap<String, bool> {
    let run_dir = node.frr_run_dir();
    let mut out = BTreeMap::new();
    let watchfrr = running_in(node, &run_dir.join("watchfrr.pid")).is_some();
    out.insert("watchfrr".to_owned(), watchfrr);
    let report = if watchfrr {
        Command::new("vtysh")
            .args(["-N", &node.namespace, "-c", "show watchfrr"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    for d in FRR_DAEMONS {
        let pid = running_in(node, &run_dir.join(format!("{d}.pid"))).is_some();
        let reported = report.lines().any(|l| {
            let mut w = l.split_whitespace();
            w.next() == Some(d) && w.next() == Some("Up")
        });
        out.insert((*d).to_owned(), pid && reported);
    }
    out
}

/// sshd of one device, in its network and UTS namespaces and in a mount namespace where the
/// device's FRR directories are the usual `/etc/frr` and `/var/run/frr`.
fn sshd(plan: &LabPlan, node: &Node, timeout: Duration) -> Result<bool, (String, LabError)> {
    let run = || -> Result<bool, LabError> {
        let config = plan.sshd_config(node);
        sys::write_atomic(&config, &files::sshd_config(plan, node))?;
        let pid_file = plan.sshd_pid(node);
        let started = if running_in(node, &pid_file).is_none() {
            remove_file(&pid_file)?;
            let run_root = Path::new(FRR_RUN_ROOT)
                .canonicalize()
                .map_err(|e| LabError::io(format!("resolve {FRR_RUN_ROOT}"), e))?;
            let run_dir = node.frr_run_dir().canonicalize().map_err(|e| {
                LabError::io(
                    format!("{} (is FRR started?)", node.frr_run_dir().display()),
                    e,
                )
            })?;
            let mut binds = vec![
                (node.frr_conf_dir(), PathBuf::from("/etc/frr")),
                (run_dir, run_root),
            ];
            binds.extend(hidden_login_rc(plan, node)?);
            let enter = Enter {
                netns: &node.netns_file(),
                uts: &plan.uts_file(node),
                binds,
            };
            let log = plan.node_dir(node).join("sshd.log");
            sys::run_in(
                &enter,
                SSHD,
                &[
                    "-f".as_ref(),
                    config.as_os_str(),
                    "-E".as_ref(),
                    log.as_os_str(),
                ],
                &plan.node_dir(node).join("sshd.out"),
            )?;
            true
        } else {
            false
        };
        let address = SocketAddr::new(node.management.address, node.management.port);
        if !sys::wait_for(timeout, || {
            running_in(node, &pid_file).is_some() && ssh_port_open(address)
        }) {
            return Err(LabError::Timeout {
                what: format!(
                    "sshd of {} on {address} (see {})",
                    node.device,
                    plan.node_dir(node).join("sshd.log").display()
                ),
                seconds: timeout.as_secs(),
            });
        }
        Ok(started)
    };
    run().map_err(at(node))
}

/// The host's root `~/.bashrc`, hidden behind an empty file inside the routers' sshd (a router
/// has no such file). Debian's bash reads it for every command run over SSH, and a developer's
/// one (pyenv, conda, …) costs ~100 ms per command and made commands time out under load; the
/// host's own file is untouched.
fn hidden_login_rc(plan: &LabPlan, node: &Node) -> Result<Option<(PathBuf, PathBuf)>, LabError> {
    let home = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines()
                .find(|l| l.starts_with("root:"))
                .and_then(|l| l.split(':').nth(5))
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("/root"));
    let rc = home.join(".bashrc");
    if std::fs::metadata(&rc).map_or(true, |m| !m.is_file() || m.len() == 0) {
        return Ok(None);
    }
    // One per device: devices start in parallel.
    let empty = plan.node_dir(node).join("empty-login-rc");
    sys::write_atomic(&empty, "")?;
    Ok(Some((empty, rc)))
}

fn ssh_port_open(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
}

/// What `down` removed, and anything it could not.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DownReport {
    /// The lab.
    pub lab: String,
    /// Processes stopped (FRR daemons, sshd, sessions).
    pub processes: usize,
    /// Network namespaces deleted.
    pub namespaces: usize,
    /// Host links deleted (bridge and management veths).
    pub host_links: usize,
    /// Directories and files removed (FRR pathspaces, state).
    pub files: usize,
    /// What is still there afterwards (empty when clean).
    pub leftovers: Vec<String>,
    /// Errors met on the way (cleanup goes on past them).
    pub errors: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

impl DownReport {
    /// Whether nothing of the lab is left.
    pub fn clean(&self) -> bool {
        self.leftovers.is_empty()
    }
}

/// Removes everything `up` may have made for `plan`, whatever state it is in (after a failed or
/// interrupted `up`, or when nothing exists). Best effort: goes on past errors and reports what
/// is left.
pub fn down(plan: &LabPlan, workers: usize) -> DownReport {
    let start = Instant::now();
    let mut report = DownReport {
        lab: plan.name.clone(),
        ..DownReport::default()
    };
    let lock = match sys::Lock::acquire(&plan.lock_file()) {
        Ok(l) => Some(l),
        Err(e) => {
            report.errors.push(e.to_string());
            None
        }
    };
    // 1. Processes of every device first: sshd's mount namespace holds copies of the other
    //    devices' namespace mounts, so nothing is freed until all are gone.
    report.processes = sys::parallel(&plan.nodes, workers, |n| stop_processes(plan, n))
        .into_iter()
        .sum();
    // 2. Namespaces and FRR pathspaces.
    for n in &plan.nodes {
        let mut step = || -> Result<(), LabError> {
            let file = n.netns_file();
            if sys::is_mount(&file) {
                sys::ip(&["netns", "del", &n.namespace])?;
                report.namespaces += 1;
            } else if remove_file(&file)? {
                report.files += 1;
            }
            let uts = plan.uts_file(n);
            if sys::is_mount(&uts) {
                sys::unmount(&uts)?;
            }
            for dir in [n.frr_conf_dir(), n.frr_run_dir()] {
                if remove_dir_all(&dir)? {
                    report.files += 1;
                }
            }
            Ok(())
        };
        if let Err(e) = step() {
            report.errors.push(format!("{}: {e}", n.device));
        }
    }
    // 3. Host links: management veths (usually gone with their namespace) and the bridge.
    match sys::link_names(None) {
        Ok(host) => {
            let ours = plan
                .nodes
                .iter()
                .map(|n| n.management.host_interface.as_str())
                .chain([plan.bridge.as_str()]);
            for name in ours {
                if host.iter().any(|h| h == name) {
                    match sys::ip(&["link", "del", name]) {
                        Ok(_) => report.host_links += 1,
                        Err(e) => report.errors.push(e.to_string()),
                    }
                }
            }
        }
        Err(e) => report.errors.push(e.to_string()),
    }
    // 4. State directory: only what the lab writes there, then the directory if empty.
    if let Err(e) = remove_state(plan, &mut report) {
        report.errors.push(e.to_string());
    }
    report.leftovers = leftovers(plan);
    if let (true, Some(lock)) = (report.leftovers.is_empty(), lock) {
        lock.remove();
    }
    report.seconds = start.elapsed().as_secs_f64();
    report
}

/// Stops every process of one device; how many there were.
fn stop_processes(plan: &LabPlan, node: &Node) -> usize {
    let netns = node.netns_file();
    let ns_exists = sys::is_mount(&netns);
    let run_dir = node.frr_run_dir();
    // Pid files are trusted when the process is in the namespace, or (the namespace being gone
    // already) when it has the expected name.
    let owned = |file: PathBuf, name: &str| {
        sys::read_pid(&file).filter(|p| {
            sys::alive(*p)
                && if ns_exists {
                    sys::pid_in_netns(*p, &netns)
                } else {
                    sys::comm(*p).as_deref() == Some(name)
                }
        })
    };
    let mut stopped = 0;
    // watchfrr first, or it restarts the daemons it sees die.
    if let Some(w) = owned(run_dir.join("watchfrr.pid"), "watchfrr") {
        sys::terminate(&[w], Duration::from_secs(3));
        stopped += 1;
    }
    let mut pids: BTreeSet<i32> = if ns_exists {
        sys::pids_in_netns(&netns).into_iter().collect()
    } else {
        BTreeSet::new()
    };
    for d in FRR_DAEMONS {
        pids.extend(owned(run_dir.join(format!("{d}.pid")), d));
    }
    // The sshd pid file lives in the state directory, next to the device's other files.
    pids.extend(owned(plan.sshd_pid(node), "sshd"));
    let pids: Vec<i32> = pids.into_iter().collect();
    sys::terminate(&pids, Duration::from_secs(5));
    stopped + pids.len()
}

fn remove_state(plan: &LabPlan, report: &mut DownReport) -> Result<(), LabError> {
    let dir = &plan.state_dir;
    if !dir.exists() {
        return Ok(());
    }
    for m in sys::mounts_under(dir) {
        sys::unmount(&m)?;
    }
    for f in [
        plan.plan_file(),
        plan.user_key(),
        public_half(&plan.user_key()),
        plan.authorized_keys(),
        plan.known_hosts(),
    ] {
        if remove_file(&f)? {
            report.files += 1;
        }
    }
    for d in [dir.join("overlay"), dir.join("devices"), plan.uts_dir()] {
        if remove_dir_all(&d)? {
            report.files += 1;
        }
    }
    match std::fs::remove_dir(dir) {
        Ok(()) => report.files += 1,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(LabError::io(
                format!("remove {} (files hatang did not write?)", dir.display()),
                e,
            ));
        }
    }
    Ok(())
}

/// What of `plan` still exists on this machine.
fn leftovers(plan: &LabPlan) -> Vec<String> {
    let mut out = Vec::new();
    let host: BTreeSet<String> = sys::link_names(None)
        .unwrap_or_default()
        .into_iter()
        .collect();
    if host.contains(&plan.bridge) {
        out.push(format!("host link {}", plan.bridge));
    }
    for n in &plan.nodes {
        if n.netns_file().exists() {
            out.push(format!("namespace {}", n.namespace));
        }
        if host.contains(&n.management.host_interface) {
            out.push(format!("host link {}", n.management.host_interface));
        }
        for d in FRR_DAEMONS.iter().chain(&["watchfrr"]) {
            if let Some(p) = sys::read_pid(&n.frr_run_dir().join(format!("{d}.pid")))
                && sys::alive(p)
                && sys::comm(p).as_deref() == Some(*d)
            {
                out.push(format!("{d} of {} (pid {p})", n.device));
            }
        }
        for dir in [n.frr_conf_dir(), n.frr_run_dir()] {
            if dir.exists() {
                out.push(dir.display().to_string());
            }
        }
    }
    if plan.state_dir.exists() {
        out.push(plan.state_dir.display().to_string());
    }
    out
}

/// How far a lab is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Readiness {
    /// Every namespace, link, daemon and sshd runs.
    Up,
    /// Some of it exists.
    Partial,
    /// Nothing of it exists.
    Down,
}

/// One device's state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Device name.
    pub device: String,
    /// Network namespace.
    pub namespace: String,
    /// The network namespace exists.
    pub netns: bool,
    /// The UTS namespace exists.
    pub uts: bool,
    /// Interfaces present in the namespace, of those planned.
    pub interfaces: usize,
    /// Interfaces planned (management, circuits, dummies).
    pub interfaces_planned: usize,
    /// watchfrr and each FRR daemon: running and reported up.
    pub frr: BTreeMap<String, bool>,
    /// sshd runs.
    pub sshd: bool,
    /// The SSH port answers on the management address.
    pub ssh: bool,
    /// Management address.
    pub address: IpAddr,
}

impl NodeStatus {
    fn up(&self) -> bool {
        self.netns
            && self.uts
            && self.interfaces == self.interfaces_planned
            && self.frr.values().all(|v| *v)
            && self.sshd
            && self.ssh
    }

    fn anything(&self) -> bool {
        self.netns || self.uts || self.frr.values().any(|v| *v) || self.sshd
    }
}

/// A lab's state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabStatus {
    /// The lab.
    pub lab: String,
    /// Overall.
    pub readiness: Readiness,
    /// State directory.
    pub state_dir: PathBuf,
    /// The state directory holds the plan.
    pub state: bool,
    /// The management bridge exists.
    pub bridge: bool,
    /// Per device.
    pub nodes: Vec<NodeStatus>,
}

/// Looks at what of `plan` runs.
pub fn status(plan: &LabPlan, workers: usize) -> LabStatus {
    let host: BTreeSet<String> = sys::link_names(None)
        .unwrap_or_default()
        .into_iter()
        .collect();
    let nodes = sys::parallel(&plan.nodes, workers, |n| {
        let netns = sys::is_mount(&n.netns_file());
        let planned = plan.interfaces_of(n);
        let present: BTreeSet<String> = if netns {
            sys::link_names(Some(&n.namespace))
                .unwrap_or_default()
                .into_iter()
                .collect()
        } else {
            BTreeSet::new()
        };
        let sshd = netns && running_in(n, &plan.sshd_pid(n)).is_some();
        NodeStatus {
            device: n.device.clone(),
            namespace: n.namespace.clone(),
            netns,
            uts: sys::is_mount(&plan.uts_file(n)),
            interfaces: planned.iter().filter(|i| present.contains(**i)).count(),
            interfaces_planned: planned.len(),
            frr: if netns {
                frr_up(n)
            } else {
                FRR_DAEMONS
                    .iter()
                    .chain(&["watchfrr"])
                    .map(|d| ((*d).to_owned(), false))
                    .collect()
            },
            sshd,
            ssh: sshd && ssh_port_open(SocketAddr::new(n.management.address, n.management.port)),
            address: n.management.address,
        }
    });
    let state = plan.plan_file().exists();
    let bridge = host.contains(&plan.bridge);
    let readiness = if state && bridge && nodes.iter().all(NodeStatus::up) {
        Readiness::Up
    } else if !state && !bridge && !nodes.iter().any(NodeStatus::anything) {
        Readiness::Down
    } else {
        Readiness::Partial
    };
    LabStatus {
        lab: plan.name.clone(),
        readiness,
        state_dir: plan.state_dir.clone(),
        state,
        bridge,
        nodes,
    }
}
