//! What the server takes from an image's config (the OCI/Docker config
//! JSON's `config` object): the command, the environment, the working
//! directory, and the declarations that make it refuse the image.

use serde_json::Value;

use super::ImageError;

/// An image's run settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// `Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `Cmd`.
    pub cmd: Vec<String>,
    /// `Env`, `NAME=value` each.
    pub env: Vec<String>,
    /// `WorkingDir` (empty: `/`).
    pub working_dir: String,
    /// `Volumes`' paths.
    pub volumes: Vec<String>,
    /// `User` (the server runs every container as 1000:1000 whatever it
    /// says; kept for reports).
    pub user: String,
    /// `architecture` and `os`.
    pub platform: (String, String),
}

impl ImageConfig {
    /// Reads a config JSON.
    pub fn parse(bytes: &[u8]) -> Result<Self, ImageError> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| ImageError::new(format!("the image config is not JSON: {e}")))?;
        let config = doc.get("config").cloned().unwrap_or(Value::Null);
        let strings = |key: &str| -> Vec<String> {
            config
                .get(key)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let text = |value: &Value, key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let volumes = config
            .get("Volumes")
            .and_then(Value::as_object)
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default();
        Ok(Self {
            entrypoint: strings("Entrypoint"),
            cmd: strings("Cmd"),
            env: strings("Env"),
            working_dir: text(&config, "WorkingDir"),
            volumes,
            user: text(&config, "User"),
            platform: (text(&doc, "architecture"), text(&doc, "os")),
        })
    }

    /// What the container runs: entrypoint then cmd, as Docker joins them.
    pub fn command(&self) -> Vec<String> {
        self.entrypoint.iter().chain(&self.cmd).cloned().collect()
    }

    /// The working directory (`/` when the image sets none).
    pub fn working_dir(&self) -> &str {
        if self.working_dir.is_empty() {
            "/"
        } else {
            &self.working_dir
        }
    }

    /// Why the server would refuse the image, if it would.
    pub fn refused_by_server(&self) -> Option<String> {
        if !self.volumes.is_empty() {
            // The server's driver refuses an image that declares a volume
            // (images.md §0: "the image must have no VOLUME").
            return Some(format!(
                "the image declares VOLUME {}: the Fn server refuses images with volumes",
                self.volumes.join(", ")
            ));
        }
        if self.command().is_empty() {
            return Some("the image has neither Entrypoint nor Cmd: nothing to run".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_server_uses_and_refuses_volumes() {
        let config = ImageConfig::parse(
            br#"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/function/func"],
                "Cmd":["-v"],"Env":["PATH=/bin"],"WorkingDir":"/function","User":"0"}}"#,
        )
        .unwrap();
        assert_eq!(config.command(), ["/function/func", "-v"]);
        assert_eq!(config.working_dir(), "/function");
        assert_eq!(config.env, ["PATH=/bin"]);
        assert_eq!(config.refused_by_server(), None);
        let volume =
            ImageConfig::parse(br#"{"config":{"Entrypoint":["/f"],"Volumes":{"/data":{}}}}"#)
                .unwrap();
        assert!(volume.refused_by_server().unwrap().contains("VOLUME /data"));
        let empty = ImageConfig::parse(br#"{"config":{}}"#).unwrap();
        assert_eq!(empty.working_dir(), "/");
        assert!(
            empty
                .refused_by_server()
                .unwrap()
                .contains("nothing to run")
        );
        assert!(ImageConfig::parse(b"{").is_err());
    }
}
