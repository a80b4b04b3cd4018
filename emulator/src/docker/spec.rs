//! The container fnserver 0.3.753's docker driver creates for a hot
//! function, as the Engine API's create body. Every field is the server's
//! default configuration (no `FN_DISABLE_*`, no syslog, no CPU or disk
//! quota, `FN_DOCKER_NETWORKS` unset or `none`), read from
//! `api/agent/drivers/docker/{docker,cookie}.go` (`CreateCookie` and the
//! `configure*` steps it runs), `api/agent/{agent,config,call}.go`, and
//! seen on a live container (`../shared/reference/images.md` §1.5).

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::wire::{MEMLOCK, MSGQUEUE, NOFILE, PIDS_MAX, SIGPENDING};

/// `configureSecurity`: `FnDockerUser`, uid and gid 1000, whatever the
/// image's `USER` says.
pub const USER: &str = "1000:1000";
/// The uid (and gid) of [`USER`].
pub const UID: u32 = 1000;
/// `configureSecurity`: every capability dropped.
pub const CAP_DROP: &str = "all";
/// `configureSecurity`: no privilege gained through exec.
pub const SECURITY_OPT: &str = "no-new-privileges";
/// `CreateCookie`: `Init: true`, docker-init as the container's first
/// process, the function its child (it forwards signals and reaps).
pub const INIT: bool = true;
/// `CreateCookie`: `ReadonlyRootfs` is `EnableReadOnlyRootFs`, on unless
/// `FN_DISABLE_READONLY_ROOTFS`.
pub const READ_ONLY_ROOT: bool = true;
/// `configureTmpFs`: with a read-only root, a tmpfs at `/tmp` with no
/// options (`TmpFsSize` 0: no size limit).
pub const TMPFS: &str = "/tmp";
/// `configureIOFS`: the agent's iofs directory is bind-mounted here
/// (`iofsDockerMountDest`); `FN_LISTENER` points into it.
pub const IOFS_DEST: &str = "/tmp/iofs";
/// `configureNetwork`: `none` (the call's `disableNet`, or
/// `FN_DOCKER_NETWORKS=none` as `real-fn.sh` runs the server).
pub const NETWORK_MODE: &str = "none";
/// `configureLogger`: no syslog URL, so logging driver `none`; the server
/// reads the function's output through its attach instead.
pub const LOG_DRIVER: &str = "none";

/// One function container's variable parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// The image, as the fn names it.
    pub image: String,
    /// The environment: the server's `FN_*` and the app's and fn's config
    /// (`configureEnv`), `NAME`, `value`.
    pub env: Vec<(String, String)>,
    /// The host directory bind-mounted at [`IOFS_DEST`].
    pub iofs: PathBuf,
    /// The fn's memory, MB (`configureMem`: memory, swap and kernel memory
    /// all this much, swappiness 0).
    pub memory_mb: u64,
    /// Labels (the server sets none by default: `configureLabels` only with
    /// `FN_CONTAINER_LABEL_TAG`); the harness marks its containers so that
    /// a stray one can be found.
    pub labels: Vec<(String, String)>,
}

impl FunctionSpec {
    /// The `POST /containers/create` body.
    pub fn create_body(&self) -> Value {
        let memory = self.memory_mb.saturating_mul(1024 * 1024);
        let env: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let labels: serde_json::Map<String, Value> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        // `configureULimits`: each a soft and hard limit, the agent's
        // defaults (`config.go`).
        let ulimit = |name: &str, value: u64| json!({"Name": name, "Soft": value, "Hard": value});
        json!({
            "Image": self.image,
            "Env": env,
            "User": USER,
            // `CreateCookie`: the hot container's input is a no-op reader
            // (no stdin); its stdout and stderr go to the server's log.
            "OpenStdin": false,
            "StdinOnce": false,
            "AttachStdin": false,
            "AttachStdout": true,
            "AttachStderr": true,
            "Labels": labels,
            "HostConfig": {
                "ReadonlyRootfs": READ_ONLY_ROOT,
                "Init": INIT,
                "LogConfig": {"Type": LOG_DRIVER, "Config": {}},
                "Memory": memory,
                "MemorySwap": memory,
                "KernelMemory": memory,
                "MemorySwappiness": 0,
                // `configurePIDs`: `FN_MAX_PIDS`, default 50.
                "PidsLimit": PIDS_MAX,
                "Ulimits": [
                    ulimit("nofile", NOFILE),
                    ulimit("memlock", MEMLOCK),
                    ulimit("sigpending", SIGPENDING),
                    ulimit("msgqueue", MSGQUEUE),
                ],
                "Tmpfs": {TMPFS: ""},
                "Binds": [format!("{}:{IOFS_DEST}", self.iofs.display())],
                "NetworkMode": NETWORK_MODE,
                "CapDrop": [CAP_DROP],
                "SecurityOpt": [SECURITY_OPT],
            },
            "NetworkingConfig": {},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_servers_container() {
        let spec = FunctionSpec {
            image: "fdk-fixture:oracle".into(),
            env: vec![
                ("FN_LISTENER".into(), "unix:/tmp/iofs/lsnr.sock".into()),
                ("FIXTURE_MODE".into(), "good".into()),
            ],
            iofs: PathBuf::from("/tmp/work/iofs-1"),
            memory_mb: 128,
            labels: vec![("fdk-conformance".into(), "42".into())],
        };
        let body = spec.create_body();
        let host = &body["HostConfig"];
        assert_eq!(body["Image"], "fdk-fixture:oracle");
        assert_eq!(body["User"], "1000:1000");
        assert_eq!(
            body["Env"],
            json!(["FN_LISTENER=unix:/tmp/iofs/lsnr.sock", "FIXTURE_MODE=good"])
        );
        assert_eq!(body["AttachStdin"], false);
        assert_eq!(body["OpenStdin"], false);
        assert_eq!(body["AttachStderr"], true);
        assert_eq!(body["Labels"], json!({"fdk-conformance": "42"}));
        assert!(
            body.get("Hostname").is_none(),
            "no hostname with a network mode"
        );
        assert_eq!(host["ReadonlyRootfs"], true);
        assert_eq!(host["Init"], true);
        assert_eq!(host["LogConfig"]["Type"], "none");
        let mib128 = 128u64 * 1024 * 1024;
        for key in ["Memory", "MemorySwap", "KernelMemory"] {
            assert_eq!(host[key], mib128, "{key}");
        }
        assert_eq!(host["MemorySwappiness"], 0);
        assert_eq!(host["PidsLimit"], 50);
        assert_eq!(
            host["Ulimits"],
            json!([
                {"Name": "nofile", "Soft": 350, "Hard": 350},
                {"Name": "memlock", "Soft": 65536, "Hard": 65536},
                {"Name": "sigpending", "Soft": 5000, "Hard": 5000},
                {"Name": "msgqueue", "Soft": 819_200, "Hard": 819_200},
            ])
        );
        assert_eq!(host["Tmpfs"], json!({"/tmp": ""}));
        assert_eq!(host["Binds"], json!(["/tmp/work/iofs-1:/tmp/iofs"]));
        assert_eq!(host["NetworkMode"], "none");
        assert_eq!(host["CapDrop"], json!(["all"]));
        assert_eq!(host["SecurityOpt"], json!(["no-new-privileges"]));
        assert!(host.get("Privileged").is_none());
    }
}
