//! `hatang apply --cluster` and `hatang plan --cluster` against a real kube-apiserver + etcd
//! (tests/cluster, built by scripts/test.sh; built here too when missing — never skipped).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use hatang_test_support::{repo, text};

fn script(name: &str) -> PathBuf {
    repo().join("tests/cluster").join(name)
}

/// A running control plane; stopped (and its state removed) on drop.
struct Cluster {
    env: HashMap<String, String>,
}

impl Cluster {
    fn up() -> Cluster {
        let build = Command::new(script("build.sh"))
            .stdout(Stdio::null())
            .status()
            .expect("run tests/cluster/build.sh");
        assert!(build.success(), "tests/cluster/build.sh failed");
        let out = Command::new(script("cluster.sh"))
            .arg("up")
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/cluster/cluster.sh up");
        let env: HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        let cluster = Cluster { env };
        assert!(out.status.success(), "cluster.sh up failed");
        cluster
    }

    fn kubeconfig(&self) -> &str {
        &self.env["KUBECONFIG"]
    }

    fn kubectl(&self, args: &[&str]) -> String {
        let bin = Path::new(&self.env["HATANG_CLUSTER_BIN"]).join("kubectl");
        let out = Command::new(bin)
            .current_dir(repo())
            .env("KUBECONFIG", self.kubeconfig())
            .args(args)
            .output()
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn hatang(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hatang"))
            .current_dir(repo())
            .env("KUBECONFIG", self.kubeconfig())
            .args(args)
            .output()
            .expect("run hatang")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script("cluster.sh"))
            .arg("down")
            .arg(
                self.env
                    .get("HATANG_CLUSTER_STATE")
                    .cloned()
                    .unwrap_or_default(),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[test]
fn apply_and_plan_the_lab_inventory_against_a_real_apiserver() {
    let c = Cluster::up();
    c.kubectl(&["apply", "-f", "manifests/crds/"]);
    c.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd",
        "--all",
        "--timeout=60s",
    ]);
    c.kubectl(&["apply", "-f", "manifests/samples/namespaces.yaml"]);
    let objects = c
        .kubectl(&[
            "get",
            "-f",
            "manifests/samples/resources.yaml",
            "--ignore-not-found",
            "-o",
            "name",
        ])
        .lines()
        .count();
    assert_eq!(objects, 0, "nothing of the lab is in the cluster yet");
    let expected = std::fs::read_to_string(repo().join("manifests/samples/resources.yaml"))
        .unwrap()
        .matches("\napiVersion: hatang.io/")
        .count();
    assert!(expected > 20, "the lab has {expected} objects");

    // Before: everything is to be created; the JSON lists each object.
    let plan = c.hatang(&[
        "plan",
        "--cluster",
        "inventories/lab",
        "--today",
        "2026-11-23",
        "-o",
        "json",
    ]);
    assert!(plan.status.success(), "{}", text(&plan));
    let v: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("plan JSON");
    assert_eq!(v["summary"]["create"], expected, "{v}");
    assert_eq!(v["summary"]["update"], 0);
    assert!(
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["kind"] == "ColoLease" && o["namespace"] == "lab-tenant")
    );

    let apply = c.hatang(&[
        "apply",
        "--cluster",
        "inventories/lab",
        "--today",
        "2026-11-23",
    ]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(
        text(&apply).contains(&format!("{expected} objects applied")),
        "{}",
        text(&apply)
    );
    // Server-side apply under the field manager `hatang`.
    let managers = c.kubectl(&[
        "get",
        "devices.hatang.io",
        "-o",
        "jsonpath={.items[*].metadata.managedFields[*].manager}",
    ]);
    assert!(
        managers.split_whitespace().all(|m| m == "hatang"),
        "{managers}"
    );

    // After: nothing left to do; applying again changes nothing.
    let plan = c.hatang(&[
        "plan",
        "--cluster",
        "inventories/lab",
        "--today",
        "2026-11-23",
    ]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(
        text(&plan).contains(&format!("0 to create, 0 to update, {expected} unchanged")),
        "{}",
        text(&plan)
    );
    let again = c.hatang(&[
        "apply",
        "--cluster",
        "inventories/lab",
        "--today",
        "2026-11-23",
    ]);
    assert!(
        text(&again).contains(", 0 created or changed"),
        "{}",
        text(&again)
    );

    // A change in the cluster by hand shows up as an update of that field.
    c.kubectl(&[
        "patch",
        "devices.hatang.io",
        "hub-001",
        "--type=merge",
        "-p",
        r#"{"spec":{"platform":"iosxe"}}"#,
    ]);
    let plan = c.hatang(&[
        "plan",
        "--cluster",
        "inventories/lab",
        "--today",
        "2026-11-23",
    ]);
    let out = text(&plan);
    assert!(
        out.contains("update    Device/hub-001: spec.platform"),
        "{out}"
    );
    assert!(out.contains("0 to create, 1 to update"), "{out}");

    // An invalid inventory never reaches the cluster.
    let dir = tempfile::tempdir().unwrap();
    hatang_test_support::copy_dir(&repo().join("inventories/lab"), dir.path(), &|t: String| {
        t.replacen("  site: ", "  site: no-such-", 1)
    });
    let bad = c.hatang(&[
        "apply",
        "--cluster",
        dir.path().to_str().unwrap(),
        "--today",
        "2026-11-23",
    ]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(
        text(&bad).contains("nothing was sent to the cluster"),
        "{}",
        text(&bad)
    );
}
