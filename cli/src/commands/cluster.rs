//! `hatang apply --cluster` and `hatang plan --cluster`: the inventory as custom resources in the
//! Kubernetes cluster of `KUBECONFIG` (the operator reconciles them). The cluster calls live in
//! `hatang-operator`; this module checks the inventory first and prints.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{InventoryArgs, check};
use crate::args::Output;
use hatang_kube_api::client::{self, ObjectState};

/// The inventory loaded and validated, as the resource documents the cluster gets; `None`
/// (after printing the problems) when it has errors.
fn documents(args: &InventoryArgs) -> Result<Option<Vec<serde_json::Value>>> {
    let checked = check(args)?;
    if checked.errors() > 0 {
        crate::output::print_diagnostics(&checked, args.max_problems);
        println!(
            "{} errors: nothing was sent to the cluster",
            checked.errors()
        );
        return Ok(None);
    }
    Ok(Some(hatang_kube_api::manifests::resources(
        &checked.loaded.inventory,
    )))
}

async fn kube_client() -> Result<kube::Client> {
    kube::Client::try_default()
        .await
        .context("cannot reach the cluster (KUBECONFIG, or the in-cluster service account)")
}

/// `hatang apply --cluster PATH`: server-side apply with field manager `hatang`.
pub fn apply(args: &InventoryArgs, output: Output) -> Result<ExitCode> {
    let Some(docs) = documents(args)? else {
        return Ok(ExitCode::from(1));
    };
    let changed = super::fleet::runtime()?.block_on(async {
        let client = kube_client().await?;
        client::apply(&client, &docs)
            .await
            .context("server-side apply")
    })?;
    match output {
        Output::Json => println!(
            "{}",
            serde_json::json!({"applied": docs.len(), "createdOrChanged": changed})
        ),
        Output::Text => println!(
            "{} objects applied to the cluster (field manager `{}`), {changed} created or changed",
            docs.len(),
            client::FIELD_MANAGER
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `hatang plan --cluster PATH`: what `apply --cluster` would create or change; exit 0 either
/// way (like `plan`), reading only.
pub fn plan(args: &InventoryArgs, output: Output) -> Result<ExitCode> {
    let Some(docs) = documents(args)? else {
        return Ok(ExitCode::from(1));
    };
    let diffs = super::fleet::runtime()?.block_on(async {
        let client = kube_client().await?;
        client::diff(&client, &docs)
            .await
            .context("reading the cluster")
    })?;
    let count = |f: fn(&ObjectState) -> bool| diffs.iter().filter(|d| f(&d.state)).count();
    let create = count(|s| matches!(s, ObjectState::Create));
    let update = count(|s| matches!(s, ObjectState::Update(_)));
    let unchanged = count(|s| matches!(s, ObjectState::Unchanged));
    match output {
        Output::Json => println!(
            "{}",
            serde_json::json!({
                "objects": diffs,
                "summary": {"create": create, "update": update, "unchanged": unchanged},
            })
        ),
        Output::Text => {
            for d in &diffs {
                let name = match &d.namespace {
                    Some(ns) => format!("{}/{ns}/{}", d.kind, d.name),
                    None => format!("{}/{}", d.kind, d.name),
                };
                match &d.state {
                    ObjectState::Create => println!("create    {name}"),
                    ObjectState::Update(fields) => {
                        println!("update    {name}: {}", fields.join(", "))
                    }
                    ObjectState::Unchanged => {}
                }
            }
            println!(
                "{create} to create, {update} to update, {unchanged} unchanged in the cluster"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
