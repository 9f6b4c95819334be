//! `hatang apply --cluster` and `hatang plan --cluster`: the inventory as custom resources in the
//! Kubernetes cluster of `KUBECONFIG` (the operator reconciles them). The cluster calls live in
//! `hatang-kube-api`; this module checks the inventory first and prints. A cluster that cannot be
//! reached is a runtime failure (exit code 3).

use anyhow::{Context, Result};
use serde::Serialize;

use super::{InventoryArgs, check};
use crate::args::Output;
use crate::exit::Verdict;
use crate::output::print_json;
use hatang_kube_api::client::{self, ObjectDiff, ObjectState};

/// The inventory loaded and validated, as the resource documents the cluster gets; the verdict
/// (after printing the problems) when it has errors.
fn documents(
    args: &InventoryArgs,
    output: Output,
) -> Result<std::result::Result<Vec<serde_json::Value>, Verdict>> {
    let checked = check(args)?;
    if checked.errors() > 0 {
        let message = format!(
            "{} errors: nothing was sent to the cluster",
            checked.errors()
        );
        return Ok(Err(crate::output::invalid_inventory(
            &checked,
            output,
            args.max_problems,
            message,
        )?));
    }
    Ok(Ok(hatang_kube_api::manifests::resources(
        &checked.loaded.inventory,
    )))
}

/// `hatang apply --cluster -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Applied {
    /// Objects applied.
    applied: usize,
    /// Of those, created or changed.
    created_or_changed: usize,
}

/// `hatang plan --cluster -o json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterPlan<'a> {
    objects: &'a [ObjectDiff],
    summary: ClusterSummary,
}

/// How many objects `apply --cluster` would create, update or leave.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterSummary {
    create: usize,
    update: usize,
    unchanged: usize,
}

async fn kube_client() -> Result<kube::Client> {
    kube::Client::try_default()
        .await
        .context("cannot reach the cluster (KUBECONFIG, or the in-cluster service account)")
}

/// `hatang apply --cluster PATH`: server-side apply with field manager `hatang`.
pub(super) fn apply(args: &InventoryArgs, output: Output) -> Result<Verdict> {
    let docs = match documents(args, output)? {
        Ok(docs) => docs,
        Err(verdict) => return Ok(verdict),
    };
    let changed = super::fleet::runtime()?.block_on(async {
        let client = kube_client().await?;
        client::apply(&client, &docs)
            .await
            .context("server-side apply")
    })?;
    match output {
        Output::Json => print_json(&Applied {
            applied: docs.len(),
            created_or_changed: changed,
        })?,
        Output::Text => println!(
            "{} objects applied to the cluster (field manager `{}`), {changed} created or changed",
            docs.len(),
            client::FIELD_MANAGER
        ),
    }
    Ok(Verdict::Ok)
}

/// `hatang plan --cluster PATH`: what `apply --cluster` would create or change; exit 0 either
/// way (like `plan`), reading only.
pub(super) fn plan(args: &InventoryArgs, output: Output) -> Result<Verdict> {
    let docs = match documents(args, output)? {
        Ok(docs) => docs,
        Err(verdict) => return Ok(verdict),
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
        Output::Json => print_json(&ClusterPlan {
            objects: &diffs,
            summary: ClusterSummary {
                create,
                update,
                unchanged,
            },
        })?,
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
    Ok(Verdict::Ok)
}
