//! `--limits`: the functions run under the Fn server's per-container limits,
//! as far as this machine allows, and the report says which ones held.
//!
//! * **Open files, 350**: `RLIMIT_NOFILE` (soft and hard), set by the
//!   sandbox's trampoline between `fork` and `exec`, exactly what
//!   `prlimit --nofile=350` does; each function's report reads the limit
//!   back from `/proc/<pid>/limits`.
//! * **Threads, 50**: the server's `FN_MAX_PIDS` is docker's `--pids-limit`,
//!   i.e. the cgroup's `pids.max`, which counts the container's tasks
//!   (threads included). `RLIMIT_NPROC` (`prlimit --nproc=50`) is not the
//!   same thing: it counts every process and thread of the *real uid*
//!   machine-wide, and root ignores it, so it would either not bind (as
//!   root) or count a developer's browser against the function. So threads
//!   are bounded by the cgroup only.
//! * **Memory, 128 MiB**: the cgroup's memory limit with no swap, as the
//!   server's `FN_MEMORY` default.
//!
//! The cgroups need root and writable hierarchies. Without them the two
//! limits are skipped and the output says why, except under CI (`CI=true`),
//! where a benchmark that silently ran without the limits would prove
//! nothing: there it is an error.

use std::sync::Arc;

use serde::Serialize;

use crate::Error;
use fn_emulator::sandbox::{self, DEFAULT_MEMORY_MB, NOFILE, PIDS_MAX, Sandbox};

/// The limits a run asked for and what it got, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LimitsReport {
    /// `RLIMIT_NOFILE` set before `exec` (`None`: no trampoline to set it).
    pub nofile: Option<u64>,
    /// The cgroup's `pids.max` (`None`: skipped).
    pub pids_max: Option<u64>,
    /// The cgroup's memory limit in MiB, without swap (`None`: skipped).
    pub memory_mib: Option<u64>,
    /// Why a limit was skipped (`None`: every limit held).
    pub skipped: Option<String>,
    /// The sandbox's own description.
    pub sandbox: String,
}

impl LimitsReport {
    /// One line for the output: what held, what was skipped and why.
    pub(crate) fn summary(&self) -> String {
        let mut held = Vec::new();
        if let Some(n) = self.nofile {
            held.push(format!("open files {n} (RLIMIT_NOFILE)"));
        }
        if let Some(n) = self.pids_max {
            held.push(format!("pids.max {n} (threads included)"));
        }
        if let Some(mib) = self.memory_mib {
            held.push(format!("memory {mib} MiB without swap"));
        }
        let held = if held.is_empty() {
            "none".to_owned()
        } else {
            held.join(", ")
        };
        match &self.skipped {
            Some(why) => format!("limits: {held}; skipped: {why}"),
            None => format!("limits: {held}, as the Fn server's defaults"),
        }
    }
}

/// Whether this is a CI run (`CI=true`, as GitHub Actions and most CI
/// services set it).
pub(crate) fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| v == "true")
}

/// Opens the sandbox every function starts in under `--limits`. `Err` when
/// cgroups cannot be used and `ci` is set.
pub(crate) fn open(ci: bool) -> Result<(Arc<Sandbox>, LimitsReport), Error> {
    let sandbox = crate::suite::open_sandbox(sandbox::Mode::Auto)?;
    let report = decide(
        sandbox.uses_cgroups(),
        sandbox.fallback_reason(),
        sandbox.sets_ulimits(),
        ci,
        sandbox.describe(),
    )
    .map_err(Error::Limits)?;
    Ok((Arc::new(sandbox), report))
}

/// What `--limits` amounts to, given whether the sandbox has cgroups (or why
/// not) and a trampoline; `Err` (the reason) for a CI run without cgroups.
fn decide(
    cgroups: bool,
    fallback: Option<&str>,
    ulimits: bool,
    ci: bool,
    sandbox: String,
) -> Result<LimitsReport, String> {
    let mut skipped = Vec::new();
    if !cgroups {
        let why = fallback.unwrap_or("unavailable");
        if ci {
            return Err(format!(
                "--limits under CI (CI=true): cgroups cannot be used ({why}), so pids.max \
                 {PIDS_MAX} and the {DEFAULT_MEMORY_MB} MiB memory limit would not hold; run \
                 as root with the cgroup v1 freezer, pids and memory controllers writable (or \
                 v2 with memory and pids)"
            ));
        }
        skipped.push(format!(
            "pids.max {PIDS_MAX} and the {DEFAULT_MEMORY_MB} MiB memory limit (no cgroups: \
             {why}; RLIMIT_NPROC is no substitute, it counts the whole uid and root ignores it)"
        ));
    }
    if !ulimits {
        skipped.push(format!(
            "open files {NOFILE} (functions do not start through the trampoline)"
        ));
    }
    Ok(LimitsReport {
        nofile: ulimits.then_some(NOFILE),
        pids_max: cgroups.then_some(PIDS_MAX),
        memory_mib: cgroups.then_some(DEFAULT_MEMORY_MB),
        skipped: (!skipped.is_empty()).then(|| skipped.join("; ")),
        sandbox,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroups_hold_every_limit() {
        let r = decide(true, None, true, true, "sandbox: cgroup v1".into()).unwrap();
        assert_eq!(
            (r.nofile, r.pids_max, r.memory_mib, r.skipped.as_deref()),
            (Some(350), Some(50), Some(128), None)
        );
        assert_eq!(
            r.summary(),
            "limits: open files 350 (RLIMIT_NOFILE), pids.max 50 (threads included), \
             memory 128 MiB without swap, as the Fn server's defaults"
        );
    }

    #[test]
    fn without_cgroups_a_developer_run_skips_and_says_why() {
        let r = decide(false, Some("not root"), true, false, String::new()).unwrap();
        assert_eq!(
            (r.nofile, r.pids_max, r.memory_mib),
            (Some(350), None, None)
        );
        let text = r.summary();
        assert!(text.starts_with("limits: open files 350 (RLIMIT_NOFILE); skipped: "));
        assert!(text.contains("no cgroups: not root"), "{text}");
    }

    #[test]
    fn without_cgroups_a_ci_run_fails() {
        let why = decide(false, Some("not root"), true, true, String::new()).unwrap_err();
        assert!(why.contains("CI=true") && why.contains("not root"), "{why}");
    }

    #[test]
    fn without_a_trampoline_no_ulimit_is_claimed() {
        let r = decide(true, None, false, false, String::new()).unwrap();
        assert_eq!(r.nofile, None);
        assert!(r.summary().contains("skipped: open files 350"));
    }
}
