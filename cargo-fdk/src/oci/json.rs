//! The JSON documents of an image, as structs so that the key order is fixed
//! whatever `serde_json` features the build unifies.

use std::collections::BTreeMap;

use serde::Serialize;

/// A content descriptor.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    pub(crate) media_type: &'static str,
    pub(crate) digest: String,
    pub(crate) size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) platform: Option<Platform>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Platform {
    pub(crate) architecture: String,
    pub(crate) os: &'static str,
}

/// `application/vnd.oci.image.config.v1+json`.
#[derive(Debug, Serialize)]
pub(crate) struct Config {
    pub(crate) created: String,
    pub(crate) architecture: String,
    pub(crate) os: &'static str,
    pub(crate) config: RunConfig,
    pub(crate) rootfs: RootFs,
    pub(crate) history: Vec<History>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RunConfig {
    pub(crate) entrypoint: Vec<String>,
    pub(crate) env: Vec<String>,
    pub(crate) working_dir: String,
    pub(crate) labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RootFs {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) diff_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct History {
    pub(crate) created: String,
    pub(crate) created_by: String,
}

/// `application/vnd.oci.image.manifest.v1+json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    pub(crate) schema_version: u32,
    pub(crate) media_type: &'static str,
    pub(crate) config: Descriptor,
    pub(crate) layers: Vec<Descriptor>,
}

/// `index.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Index {
    pub(crate) schema_version: u32,
    pub(crate) media_type: &'static str,
    pub(crate) manifests: Vec<Descriptor>,
}

/// One entry of Docker's `manifest.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DockerManifest {
    pub(crate) config: String,
    pub(crate) repo_tags: Vec<String>,
    pub(crate) layers: Vec<String>,
}
