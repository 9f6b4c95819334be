//! The cluster ledger: the allocator's `Ledger` kept in one ConfigMap, written with optimistic
//! concurrency (replace with `resourceVersion`; a 409 means someone else wrote first, so the
//! caller re-reads and allocates again on top of the winner's values).
//!
//! One object, not one per pool, because pools depend on each other (a site's segments come out
//! of the site's prefix): only a single object can be replaced atomically. The text is the CLI's
//! `allocations.lock.yaml` format, gzip-compressed into `binaryData` so 10,000s of entries fit
//! in the 1 MiB object limit.

use std::io::{Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, PostParams};

use hatang_core::ipam::Ledger;

/// Key of the compressed ledger inside the ConfigMap.
pub const DATA_KEY: &str = "allocations.lock.yaml.gz";

/// Why the ledger could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The API server failed.
    #[error("ledger {name}: {source}")]
    Api {
        /// ConfigMap name.
        name: String,
        /// Client error.
        source: kube::Error,
    },
    /// The stored ledger does not decode.
    #[error("ledger {name}: {message}")]
    Corrupt {
        /// ConfigMap name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// A ledger as read, with the version to write against.
#[derive(Debug, Clone)]
pub struct Versioned {
    /// The entries.
    pub ledger: Ledger,
    /// `resourceVersion` of the ConfigMap; `None` when it does not exist yet.
    pub resource_version: Option<String>,
}

/// Result of a conditional write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Stored; the new resourceVersion.
    Stored(String),
    /// Someone else wrote since we read: read again.
    Conflict,
}

/// Compresses the ledger's YAML text.
pub fn encode(ledger: &Ledger) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(ledger.to_yaml().as_bytes());
    enc.finish().unwrap_or_default()
}

/// Decompresses and parses a stored ledger.
pub fn decode(name: &str, bytes: &[u8]) -> Result<Ledger, LedgerError> {
    let corrupt = |message: String| LedgerError::Corrupt {
        name: name.to_owned(),
        message,
    };
    let mut text = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| corrupt(e.to_string()))?;
    Ledger::parse(Path::new(&format!("configmap/{name}")), &text).map_err(|d| corrupt(d.message))
}

/// Reads the ledger `name` (empty when absent).
pub async fn read(api: &Api<ConfigMap>, name: &str) -> Result<Versioned, LedgerError> {
    let cm = api.get_opt(name).await.map_err(|source| LedgerError::Api {
        name: name.to_owned(),
        source,
    })?;
    let Some(cm) = cm else {
        return Ok(Versioned {
            ledger: Ledger::default(),
            resource_version: None,
        });
    };
    let ledger = match cm.binary_data.as_ref().and_then(|d| d.get(DATA_KEY)) {
        Some(bytes) => decode(name, &bytes.0)?,
        None => Ledger::default(),
    };
    Ok(Versioned {
        ledger,
        resource_version: cm.metadata.resource_version,
    })
}

/// Writes `ledger` if the stored version is still `base` (create when `base` is `None`).
pub async fn write(
    api: &Api<ConfigMap>,
    name: &str,
    ledger: &Ledger,
    base: Option<&str>,
) -> Result<Written, LedgerError> {
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            resource_version: base.map(str::to_owned),
            labels: Some(
                [("app.kubernetes.io/part-of".to_owned(), "hatang".to_owned())]
                    .into_iter()
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        binary_data: Some(
            [(DATA_KEY.to_owned(), ByteString(encode(ledger)))]
                .into_iter()
                .collect(),
        ),
        ..ConfigMap::default()
    };
    let pp = PostParams::default();
    let result = match base {
        Some(_) => api.replace(name, &pp, &cm).await,
        None => api.create(&pp, &cm).await,
    };
    match result {
        Ok(stored) => Ok(Written::Stored(
            stored.metadata.resource_version.unwrap_or_default(),
        )),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(Written::Conflict),
        Err(source) => Err(LedgerError::Api {
            name: name.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_lab_ledger_and_compresses_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let path = root.join("inventories/lab/allocations.lock.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let ledger = Ledger::parse(&path, &text).unwrap();
        assert!(!ledger.entries.is_empty());
        let bytes = encode(&ledger);
        assert!(
            bytes.len() * 3 < text.len(),
            "{} vs {}",
            bytes.len(),
            text.len()
        );
        assert_eq!(decode("x", &bytes).unwrap(), ledger);
        assert!(matches!(
            decode("x", b"nope"),
            Err(LedgerError::Corrupt { .. })
        ));
    }
}
