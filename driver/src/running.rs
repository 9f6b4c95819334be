//! Fetching running configurations: the one way every front-end reads what devices run
//! (`hatang audit` and `plan --against live`, the operator's drift audit).

use crate::platform;
use crate::ssh::{self, DeviceResult, SshError, SshOptions, Target};
use hatang_core::model::Platform;

/// The running configuration of every target (at most `concurrency` at once), one result per
/// target in the order given: its text, or why it could not be read (a command that exits with
/// an error is [`SshError::CommandFailed`]). Each result carries the endpoint, the time taken
/// and a host key accepted as new.
pub async fn fetch(
    targets: Vec<Target>,
    options: SshOptions,
    concurrency: usize,
) -> Vec<DeviceResult<String>> {
    let show = platform::commands(Platform::Frr, "")
        .expect("the FRR adapter exists")
        .show_running;
    let show = std::sync::Arc::new(show);
    ssh::for_each_device(targets, options, concurrency, move |session| {
        let show = show.clone();
        async move { ssh::exec_ok(&session, &show).await }
    })
    .await
}

/// [`fetch`]'s results by device name, text or error only.
pub fn by_device(
    results: Vec<DeviceResult<String>>,
) -> std::collections::BTreeMap<String, Result<String, SshError>> {
    results.into_iter().map(|r| (r.device, r.outcome)).collect()
}
