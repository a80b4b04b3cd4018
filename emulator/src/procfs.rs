//! What `/proc` tells about a function process: resident memory, threads,
//! open descriptors, its open-files limit, the CPUs it may run on, the CPU
//! time it has used, and who it runs as.

use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

/// Clock ticks per second of the `/proc/<pid>/stat` times (`USER_HZ`, fixed
/// at 100 in the Linux ABI).
const USER_HZ: u64 = 100;

/// A few lines of `/proc/<pid>/status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcStatus {
    /// `VmRSS`, in KiB.
    pub rss_kib: u64,
    /// `Threads`.
    pub threads: u64,
    /// `Cpus_allowed_list`, e.g. `0` or `0-1`.
    pub cpus_allowed: String,
}

/// `/proc/<pid>/<file>`, parsed by `parse`; `lacks` says what it was
/// missing if that fails.
fn read_parsed<T>(
    pid: u32,
    file: &str,
    parse: impl FnOnce(&str) -> Option<T>,
    lacks: &str,
) -> io::Result<T> {
    let path = format!("/proc/{pid}/{file}");
    let text = fs::read_to_string(&path)?;
    parse(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("{path} {lacks}")))
}

/// Reads `/proc/<pid>/status`.
pub fn status(pid: u32) -> io::Result<ProcStatus> {
    read_parsed(pid, "status", parse_status, "lacks VmRSS or Threads")
}

/// The user plus system CPU time of the process (all its threads, live and
/// exited), from `/proc/<pid>/stat`. Its resolution is one clock tick (10 ms).
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    read_parsed(pid, "stat", parse_stat_cpu, "has no utime/stime")
}

/// How many descriptors the process has open: the entries of
/// `/proc/<pid>/fd` (one symlink per descriptor; reading it needs the same
/// rights as `ptrace`, which the harness has over its own children).
pub fn open_fds(pid: u32) -> io::Result<u64> {
    count_entries(Path::new(&format!("/proc/{pid}/fd")))
}

fn count_entries(dir: &Path) -> io::Result<u64> {
    let mut n = 0;
    for entry in fs::read_dir(dir)? {
        // A descriptor closed while the directory is read is just not there.
        if entry.is_ok() {
            n += 1;
        }
    }
    Ok(n)
}

/// The soft `RLIMIT_NOFILE` of the process (`Max open files` in
/// `/proc/<pid>/limits`); `None` inside `Ok` for `unlimited`. Read back
/// rather than trusted, so that a report's limit is the one the function got.
pub fn nofile_limit(pid: u32) -> io::Result<Option<u64>> {
    read_parsed(
        pid,
        "limits",
        |text| parse_soft_limit(text, "Max open files"),
        "has no readable Max open files line",
    )
}

/// The soft limit of the `name` row of `/proc/<pid>/limits`: `Some(None)`
/// for `unlimited`. The kernel prints each row as `%-25s %-20s %-20s %-10s`
/// (name, soft, hard, unit), and every name has single spaces and at most 21
/// characters, so a name is followed by at least two spaces: that tells
/// `Max open files` from a prefix of it such as `Max open`.
fn parse_soft_limit(text: &str, name: &str) -> Option<Option<u64>> {
    let rest = text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        rest.starts_with("  ").then_some(rest)
    })?;
    match rest.split_ascii_whitespace().next()? {
        "unlimited" => Some(None),
        soft => soft.parse().ok().map(Some),
    }
}

/// Who a process runs as, from `/proc/<pid>/status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcIds {
    /// The real, effective, saved and file-system uids.
    pub uids: Vec<u32>,
    /// The real, effective, saved and file-system gids.
    pub gids: Vec<u32>,
    /// The supplementary groups.
    pub groups: Vec<u32>,
}

/// Reads the `Uid`, `Gid` and `Groups` lines of `/proc/<pid>/status`.
pub fn ids(pid: u32) -> io::Result<ProcIds> {
    read_parsed(pid, "status", parse_ids, "lacks Uid or Gid")
}

fn parse_ids(text: &str) -> Option<ProcIds> {
    let numbers = |name: &str| -> Option<Vec<u32>> {
        let value = text
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))?;
        value
            .split_ascii_whitespace()
            .map(|n| n.parse().ok())
            .collect()
    };
    let uids = numbers("Uid").filter(|v| !v.is_empty())?;
    let gids = numbers("Gid").filter(|v| !v.is_empty())?;
    let groups = numbers("Groups").unwrap_or_default();
    Some(ProcIds { uids, gids, groups })
}

fn parse_status(text: &str) -> Option<ProcStatus> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    let rss_kib = field("VmRSS")?.strip_suffix("kB")?.trim().parse().ok()?;
    let threads = field("Threads")?.parse().ok()?;
    let cpus_allowed = field("Cpus_allowed_list").unwrap_or_default().to_owned();
    Some(ProcStatus {
        rss_kib,
        threads,
        cpus_allowed,
    })
}

fn parse_stat_cpu(text: &str) -> Option<Duration> {
    // `comm` (field 2) is in parentheses and may hold spaces or ')'; the
    // fields after the last ')' start with `state` (field 3).
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace().skip(11); // utime is field 14
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime + stime;
    Some(
        Duration::from_secs(ticks / USER_HZ)
            + Duration::from_millis(ticks % USER_HZ * 1000 / USER_HZ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields() {
        let text = "Name:\thello\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t   10000 kB\n\
            VmRSS:\t    2345 kB\nRssAnon:\t     100 kB\nThreads:\t3\nCpus_allowed:\t1\n\
            Cpus_allowed_list:\t0\n";
        let status = parse_status(text).unwrap();
        assert_eq!(
            status,
            ProcStatus {
                rss_kib: 2345,
                threads: 3,
                cpus_allowed: "0".into()
            }
        );
    }

    #[test]
    fn ids_fields() {
        let text = "Name:\tfn\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n\
            FDSize:\t64\nGroups:\t\nThreads:\t1\n";
        let ids = parse_ids(text).unwrap();
        assert_eq!(ids.uids, [1000; 4]);
        assert_eq!(ids.gids, [1000; 4]);
        assert!(ids.groups.is_empty());
        let root = parse_ids("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t0 4 27 \n").unwrap();
        assert_eq!(root.groups, [0, 4, 27]);
        assert_eq!(parse_ids("Name:\tx\nGid:\t1\n"), None);
        assert_eq!(parse_ids("Uid:\tx\nGid:\t1\n"), None);
    }

    #[test]
    fn status_without_rss() {
        // A zombie has no VmRSS line.
        assert_eq!(parse_status("Name:\tx\nThreads:\t1\n"), None);
    }

    #[test]
    fn stat_cpu_with_awkward_comm() {
        let text =
            "1234 (my fn) (x)) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 37 0 0 20 0 1 0 5 1000 200";
        assert_eq!(parse_stat_cpu(text), Some(Duration::from_millis(2870)));
    }

    #[test]
    fn own_process() {
        let me = std::process::id();
        let status = status(me).unwrap();
        assert!(status.rss_kib > 0 && status.threads >= 1);
        assert!(cpu_time(me).is_ok());
        // stdin, stdout and stderr at least; one more while a file is open.
        let before = open_fds(me).unwrap();
        assert!(before >= 3, "{before}");
        assert!(nofile_limit(me).is_ok());
    }

    #[test]
    fn fd_count_is_the_number_of_entries() {
        let dir = std::env::temp_dir().join(format!("procfs-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).unwrap();
        assert_eq!(count_entries(&dir).unwrap(), 0);
        for name in ["0", "1", "2", "10"] {
            fs::write(dir.join(name), b"").unwrap();
        }
        assert_eq!(count_entries(&dir).unwrap(), 4);
        fs::remove_dir_all(&dir).unwrap();
        assert!(count_entries(&dir).is_err(), "a process that is gone");
    }

    #[test]
    fn limits_rows() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
            Max cpu time              unlimited            unlimited            seconds   \n\
            Max processes             63432                63432                processes \n\
            Max open files            350                  1048576              files     \n\
            Max locked memory         65536                65536                bytes     \n";
        assert_eq!(parse_soft_limit(text, "Max open files"), Some(Some(350)));
        assert_eq!(parse_soft_limit(text, "Max processes"), Some(Some(63432)));
        assert_eq!(parse_soft_limit(text, "Max cpu time"), Some(None));
        assert_eq!(
            parse_soft_limit(text, "Max open"),
            None,
            "a whole name only"
        );
        assert_eq!(parse_soft_limit(text, "Max file locks"), None);
        assert_eq!(
            parse_soft_limit("Max open files  lots  x\n", "Max open files"),
            None
        );
    }
}
