//! Against a real kube-apiserver (tests/cluster): the install manifests, the lab inventory as
//! custom resources, CEL rules, tenant isolation and the read-only auditor, with real requests
//! authenticated by service-account tokens from the TokenRequest API.

use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;

use hatang_core::Kind;
use hatang_kube_api::{client, manifests, rbac};
use hatang_test_support::cluster::{Cluster, code, root};

fn lease(ns: &str, name: &str, temporary: bool, end: Option<&str>) -> DynamicObject {
    let mut spec = json!({"tenant": "lab-tenant", "dataCenter": "dc-lab-main",
        "space": [{"rack": "r1", "fromU": 1, "toU": 2}], "powerKw": 0.5,
        "start": "2026-01-01", "temporary": temporary});
    if let Some(e) = end {
        spec["end"] = json!(e);
    }
    serde_json::from_value(
        json!({"apiVersion": "hatang.io/v1alpha1", "kind": "ColoLease",
        "metadata": {"name": name, "namespace": ns}, "spec": spec}),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_samples_tenancy_and_auditor_against_a_real_apiserver() {
    let c = Cluster::up();
    let manifests_dir = root().join("manifests");

    // 1. The install manifests apply and every CRD is established.
    hatang_test_support::cluster::install(&c);
    let crds = c.kubectl(&[
        "get",
        "crd",
        "-l",
        "app.kubernetes.io/part-of=hatang",
        "-o",
        "name",
    ]);
    assert_eq!(crds.lines().count(), Kind::ALL.len(), "{crds}");
    let served = c.kubectl(&["api-resources", "--api-group=hatang.io", "-o", "name"]);
    for plural in manifests::plurals() {
        assert!(
            served.lines().any(|l| l == format!("{plural}.hatang.io")),
            "{plural}: {served}"
        );
    }

    // 2. The lab inventory as custom resources: namespaces, then every object (server-side apply).
    c.kubectl(&[
        "apply",
        "-f",
        manifests_dir
            .join("samples/namespaces.yaml")
            .to_str()
            .unwrap(),
    ]);
    let loaded =
        hatang_core::load_paths(&[root().join("inventories/lab")], &Default::default()).unwrap();
    let docs = manifests::resources(&loaded.inventory);
    let admin = c.client(None).await;
    assert_eq!(client::apply(&admin, &docs).await.unwrap(), docs.len());
    assert_eq!(
        client::apply(&admin, &docs).await.unwrap(),
        0,
        "re-applying changes nothing"
    );
    for &kind in Kind::ALL {
        let n = client::api(&admin, kind, None)
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .len();
        assert_eq!(n, loaded.inventory.count(kind), "{kind}");
    }
    // The committed samples kustomization is the same set and applies cleanly too.
    c.kubectl(&[
        "apply",
        "-k",
        manifests_dir.join("samples").to_str().unwrap(),
    ]);
    let hatang = c.kubectl(&["get", "hatang", "-A", "-o", "name"]);
    assert_eq!(hatang.lines().count(), loaded.inventory.len());

    // CEL rules refuse what the schema alone cannot say.
    let leases = client::api(&admin, Kind::ColoLease, Some("lab-tenant"));
    let err = leases
        .create(
            &PostParams::default(),
            &lease("lab-tenant", "no-end", true, None),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some(422));
    assert!(
        err.to_string()
            .contains("a temporary lease needs an end date"),
        "{err}"
    );
    let err = leases
        .create(
            &PostParams::default(),
            &lease("lab-tenant", "backwards", false, Some("2025-12-31")),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("end is on or after start"),
        "{err}"
    );
    // Unknown fields: strict field validation refuses them, as `deny_unknown_fields` does.
    let mut bad = lease("lab-tenant", "typo", false, None);
    bad.data["spec"]["tennant"] = json!("x");
    let out = c.kubectl_as(
        None,
        &["create", "--validate=strict", "-f", "-"],
        Some(&serde_json::to_string(&bad).unwrap()),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tennant"));
    // A level-3 system without a replica is a finding about the estate, not a malformed
    // object: admission takes it (validation and the report count it).
    let unprotected: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "hatang.io/v1alpha1", "kind": "InformationSystem",
        "metadata": {"name": "no-replica", "namespace": "lab-tenant"},
        "spec": {"displayName": "Hệ thống chưa có dự phòng", "owner": "lab-tenant",
                 "dataCenter": "dc-lab-main", "securityLevel": 3}}))
    .unwrap();
    let systems = client::api(&admin, Kind::InformationSystem, Some("lab-tenant"));
    systems
        .create(&PostParams::default(), &unprotected)
        .await
        .expect("findings do not block admission");
    systems
        .delete("no-replica", &Default::default())
        .await
        .unwrap();

    // 3. Tenants: a second tenant namespace bound the same way as the samples.
    c.apply_stdin(
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tenant-b"}})
            .to_string(),
    );
    c.apply_stdin(&rbac::tenant_binding("tenant-b").to_string());
    for ns in ["lab-tenant", "tenant-b"] {
        c.kubectl(&["-n", ns, "create", "serviceaccount", "app"]);
    }
    let a = c.client(Some(&c.token("lab-tenant", "app"))).await;
    let b = c.client(Some(&c.token("tenant-b", "app"))).await;
    let a_own = client::api(&a, Kind::ColoLease, Some("lab-tenant"));
    let a_other = client::api(&a, Kind::ColoLease, Some("tenant-b"));
    let b_own = client::api(&b, Kind::ColoLease, Some("tenant-b"));
    let b_other = client::api(&b, Kind::ColoLease, Some("lab-tenant"));
    assert!(
        !a_own
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    a_own
        .create(
            &PostParams::default(),
            &lease("lab-tenant", "a-new", false, None),
        )
        .await
        .unwrap();
    b_own
        .create(
            &PostParams::default(),
            &lease("tenant-b", "b-new", true, Some("2026-06-30")),
        )
        .await
        .unwrap();
    assert_eq!(
        b_own.list(&Default::default()).await.unwrap().items.len(),
        1
    );
    for (api, ns) in [(&a_other, "tenant-b"), (&b_other, "lab-tenant")] {
        assert_eq!(
            code(&api.list(&Default::default()).await.unwrap_err()),
            Some(403),
            "list {ns}"
        );
        let name = if ns == "tenant-b" {
            "b-new"
        } else {
            "lab-tenant-l02"
        };
        assert_eq!(
            code(&api.get(name).await.unwrap_err()),
            Some(403),
            "get {ns}/{name}"
        );
        let err = api
            .create(&PostParams::default(), &lease(ns, "intruder", false, None))
            .await
            .unwrap_err();
        assert_eq!(code(&err), Some(403), "create in {ns}");
    }
    // Not across all namespaces, not cluster-scoped infrastructure, no deletes even of its own.
    let all_leases = client::api(&a, Kind::ColoLease, None);
    assert_eq!(
        code(&all_leases.list(&Default::default()).await.unwrap_err()),
        Some(403)
    );
    assert_eq!(
        code(
            &client::api(&a, Kind::Site, None)
                .list(&Default::default())
                .await
                .unwrap_err()
        ),
        Some(403)
    );
    assert_eq!(
        code(
            &a_own
                .delete("a-new", &Default::default())
                .await
                .unwrap_err()
        ),
        Some(403)
    );

    // 4. The auditor reads everything including status and writes nothing.
    c.kubectl(&["create", "namespace", "audit"]);
    c.kubectl(&["-n", "audit", "create", "serviceaccount", "auditor"]);
    c.kubectl(&[
        "create",
        "clusterrolebinding",
        "auditor",
        "--clusterrole",
        rbac::AUDITOR,
        "--serviceaccount",
        "audit:auditor",
    ]);
    // Give one object a status, as the operator would.
    let status = json!({"status": {"observedGeneration": 1, "conditions": [{"type": "Ready",
        "status": "True", "reason": "Reconciled", "message": "", "lastTransitionTime": "2026-11-24T00:00:00Z"}]}});
    leases
        .patch_status(
            "lab-tenant-l02",
            &PatchParams::default(),
            &Patch::Merge(&status),
        )
        .await
        .unwrap();
    let auditor = c.client(Some(&c.token("audit", "auditor"))).await;
    for &kind in Kind::ALL {
        let n = client::api(&auditor, kind, None)
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .len();
        assert!(n >= loaded.inventory.count(kind), "{kind}");
    }
    let aud_leases = client::api(&auditor, Kind::ColoLease, Some("lab-tenant"));
    let st = aud_leases.get_status("lab-tenant-l02").await.unwrap();
    assert_eq!(st.data["status"]["conditions"][0]["type"], "Ready");
    let forbidden = [
        code(
            &aud_leases
                .create(
                    &PostParams::default(),
                    &lease("lab-tenant", "aud", false, None),
                )
                .await
                .unwrap_err(),
        ),
        code(
            &aud_leases
                .patch(
                    "lab-tenant-l02",
                    &PatchParams::default(),
                    &Patch::Merge(&json!({"spec": {"powerKw": 9}})),
                )
                .await
                .unwrap_err(),
        ),
        code(
            &aud_leases
                .patch_status(
                    "lab-tenant-l02",
                    &PatchParams::default(),
                    &Patch::Merge(&status),
                )
                .await
                .unwrap_err(),
        ),
        code(
            &aud_leases
                .delete("lab-tenant-l02", &Default::default())
                .await
                .unwrap_err(),
        ),
        code(
            &client::api(&auditor, Kind::Site, None)
                .delete("dc-lab-main", &Default::default())
                .await
                .unwrap_err(),
        ),
    ];
    assert_eq!(forbidden, [Some(403); 5]);
    // kubectl's own authorizer view agrees.
    let auditor_token = c.token("audit", "auditor");
    let can = |verb: &str, res: &str| {
        let out = c.kubectl_as(
            Some(&auditor_token),
            &["auth", "can-i", verb, res, "-A"],
            None,
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(can("list", "informationsystems.hatang.io"), "yes");
    assert_eq!(can("update", "sites.hatang.io"), "no");
    assert_eq!(can("create", "secrets"), "no");

    // The operator's ServiceAccount reads its SSH Secret and no other, and lists none.
    let operator_token = c.token("hatang-system", "hatang-operator");
    let op_can = |args: &[&str]| {
        let mut all = vec!["auth", "can-i"];
        all.extend_from_slice(args);
        let out = c.kubectl_as(Some(&operator_token), &all, None);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(
        op_can(&["get", "secret/hatang-ssh", "-n", "hatang-system"]),
        "yes"
    );
    assert_eq!(
        op_can(&["get", "secret/other", "-n", "hatang-system"]),
        "no"
    );
    assert_eq!(op_can(&["list", "secrets", "-n", "hatang-system"]), "no");
    assert_eq!(op_can(&["watch", "secrets", "-n", "hatang-system"]), "no");
    assert_eq!(op_can(&["get", "secret/hatang-ssh", "-n", "default"]), "no");
}
