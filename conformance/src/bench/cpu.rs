//! The driver's CPU: pinning it (and, by inheritance, every function it
//! spawns afterwards) to one CPU, and measuring its own CPU time.
//!
//! On a 2-vCPU virtual machine a wake-up that crosses CPUs costs tens of
//! microseconds, more than a whole call to a fast function, so by default the
//! driver and the functions share one CPU: each call is then a plain
//! same-CPU hand-off, the way a single-CPU container sees it.

use std::time::Duration;

use nix::sched::{CpuSet, sched_setaffinity};
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeValLike;
use nix::unistd::Pid;

use crate::Error;

/// Pins the calling thread to `cpu`. Processes it spawns later inherit the
/// mask (`sched_setaffinity(2)`).
pub(crate) fn pin_to(cpu: usize) -> Result<(), Error> {
    let mut set = CpuSet::new();
    set.set(cpu).map_err(|source| Error::Pin { cpu, source })?;
    sched_setaffinity(Pid::from_raw(0), &set).map_err(|source| Error::Pin { cpu, source })
}

/// The user plus system CPU time this process has used (`getrusage(RUSAGE_SELF)`).
/// `None` if the call fails.
pub(crate) fn own_cpu_time() -> Option<Duration> {
    let usage = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let micros = usage.user_time().num_microseconds() + usage.system_time().num_microseconds();
    Some(Duration::from_micros(u64::try_from(micros).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_advances() {
        let before = own_cpu_time().unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        assert!(own_cpu_time().unwrap() >= before);
    }

    #[test]
    fn a_cpu_that_does_not_exist_is_an_error() {
        assert!(matches!(
            pin_to(CpuSet::count() + 1),
            Err(Error::Pin { .. })
        ));
    }
}
