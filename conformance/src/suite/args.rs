//! `fdk-conformance run`'s command line ([`RunCli`]) and what it asks for
//! ([`Args`]): the function, the selection, the outputs and the limits.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::Error;
use crate::level::Level;
use crate::report::Format;
use crate::stdio::StdioFormat;
use fn_emulator::FunctionCommand;
use fn_emulator::sandbox;

/// What the help of `fdk-conformance run` says after the options.
const RUN_AFTER_HELP: &str = "\
Levels: MUST: the real Fn server would fail a call or kill the container; SHOULD: what
only a good FDK does (the server never exercises it or does not care); MAY: informational.
A failure shows its level; the summary counts the failures of each level.

Exit codes: 0 no failure at the --fail-on level or stricter (MUST by default; with
              --expect: every verdict as expected),
            1 a failure at that level (with --expect: a verdict changed),
            2 could not run (usage, or the function never became ready),
            130, 143 stopped by SIGINT, SIGTERM (the function killed, the work directory
            removed).";

/// The run's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// A call without a usable deadline of its own.
    pub call: Duration,
    /// One case.
    pub case: Duration,
    /// The whole run.
    pub run: Duration,
}

/// Parses `500ms`, `30s`, `2m`, `1h` or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        _ => return None,
    };
    (!d.is_zero()).then_some(d)
}

/// What `run` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    pub(super) command: Option<FunctionCommand>,
    /// `--image`: the image to run instead of a command.
    pub(super) image: Option<String>,
    /// What the outputs say of that image, once it is unpacked.
    pub(super) image_info: Option<crate::report::ImageInfo>,
    /// `--docker`: the image, in a daemon, to run instead of a command.
    pub(super) docker: Option<String>,
    /// `--docker-host`: the daemon (`DOCKER_HOST` by default).
    pub(super) docker_host: Option<String>,
    /// The daemon's container every start runs in, once `--docker` found
    /// its image.
    pub(super) docker_sandbox: Option<std::sync::Arc<sandbox::Sandbox>>,
    pub(super) probe: bool,
    pub(super) only: Vec<String>,
    pub(super) level: Level,
    pub(super) fail_on: Option<Level>,
    pub(super) outputs: Vec<(Format, OsString)>,
    pub(super) expect: Option<OsString>,
    pub(super) write_expect: Option<OsString>,
    pub(super) freeze: bool,
    /// `--config`: the fn's config, as environment variables.
    pub(super) config: Vec<(String, String)>,
    pub(super) uid: Option<u32>,
    pub(super) list: bool,
    /// `--format`: a stdin/stdout format, or `None` for http-stream.
    pub(super) format: Option<StdioFormat>,
    /// `--sandbox`.
    pub(super) sandbox: sandbox::Mode,
    /// `--call-timeout`, `--case-timeout`, `--run-timeout`.
    pub(super) limits: Limits,
}

/// `fdk-conformance run`'s command line.
///
/// Plays the Fn server against <COMMAND> (a function built with any FDK)
/// and reports one verdict per conformance case
/// (protocol-spec/http-stream.md).
#[derive(Debug, clap::Args)]
#[command(after_help = RUN_AFTER_HELP, args_override_self = true)]
pub(crate) struct RunCli {
    /// The contract to play: http-stream, or one of the stdin/stdout formats
    /// of Fn 0.3.602, json, http, default or cloudevent (protocol-spec/stdio.md;
    /// cases json.*, http.*, ...).
    #[arg(long, value_name = "FORMAT", default_value = "http-stream", value_parser = format_arg)]
    format: FormatArg,
    /// The function speaks the probe protocol (protocol-spec/probe.md); without
    /// it, behaviour cases are reported not applicable.
    #[arg(long)]
    probe: bool,
    /// Run only matching cases (e.g. sock.mode, resp.); repeatable.
    #[arg(long, value_name = "ID|PREFIX")]
    only: Vec<String>,
    /// Run only cases of LEVEL or stricter: must, should, may.
    #[arg(long, value_name = "LEVEL", default_value = "may", value_parser = level_arg)]
    level: Level,
    /// Fail the run on a failure at LEVEL or stricter: must (the default: only
    /// what the real server would fail), should (also what only a good FDK
    /// does) or may (any failure). With --expect, a failure at LEVEL fails the
    /// run even if the file expects it.
    #[arg(long, value_name = "LEVEL", value_parser = level_arg)]
    fail_on: Option<Level>,
    /// Also write results as json (JSON Lines), tap or junit to FILE; repeatable.
    #[arg(long, value_name = "FMT=FILE", value_parser = output_arg)]
    output: Vec<(Format, PathBuf)>,
    /// Compare every verdict with FILE (lines `<case id> <pass|fail|n/a|skip>`,
    /// `#` comments); any difference, either way, fails the run.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Write this run's verdicts in that format.
    #[arg(long, value_name = "FILE")]
    write_expect: Option<PathBuf>,
    /// Do not stop the function (SIGSTOP) between calls; by default it is
    /// stopped after every call and continued (SIGCONT) before the next, as
    /// the server's freezer does.
    #[arg(long)]
    no_freeze: bool,
    /// The fn's config KEY=VALUE, which the server gives every container as
    /// an environment variable (a fixture's FIXTURE_MODE, say); repeatable.
    #[arg(long, value_name = "KEY=VALUE", value_parser = config_arg)]
    config: Vec<(String, String)>,
    /// Start the function as uid N, gid N, no supplementary groups (the server
    /// runs it as 1000:1000); needs root. The command must be executable by
    /// that uid (copy it out of a 0700 home first). life.unprivileged, which
    /// also gives it a read-only working directory, is skipped without this
    /// option.
    #[arg(long, value_name = "N")]
    uid: Option<u32>,
    /// The function's container: auto (cgroups when root and they are
    /// writable, else a process group and signals), cgroup (exit 2 without),
    /// or signals (SIGSTOP/SIGCONT to the process group as the freezer, no
    /// pids or memory limit).
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = sandbox_arg)]
    sandbox: sandbox::Mode,
    /// A call whose Fn-Deadline is garbled or absent waits this long, as the
    /// server's fn timeout (D is 500ms, 30s, 2m, ...).
    #[arg(long, value_name = "D", default_value = "30s", value_parser = duration_arg)]
    call_timeout: Duration,
    /// A case's limit: past it nothing more is sent, and the case fails.
    #[arg(long, value_name = "D", default_value = "120s", value_parser = duration_arg)]
    case_timeout: Duration,
    /// The run's limit: the cases left fail as not run.
    #[arg(long, value_name = "D", default_value = "30m", value_parser = duration_arg)]
    run_timeout: Duration,
    /// List the cases and exit.
    #[arg(long)]
    list: bool,
    /// Run the function image REF as the server runs it, instead of a
    /// command: an OCI image layout directory, an oci-archive or a
    /// docker-archive (docker save, cargo fdk image), optionally :TAG. It is
    /// unpacked and started in the server's container (uid 1000, read-only
    /// root, tmpfs /tmp, no network, 50 processes, 350 files); needs root.
    #[arg(long, value_name = "REF", conflicts_with_all = ["command", "uid", "docker"])]
    image: Option<String>,
    /// Run the image IMAGE (a reference the Docker daemon has, never
    /// pulled) in a container created through the daemon's Engine API
    /// exactly as fnserver 0.3.753 creates one (uid 1000, no capabilities,
    /// read-only root, tmpfs /tmp, docker-init, no network, 50 pids, 350
    /// files, the fn memory without swap), frozen with docker pause; the
    /// http-stream suite only.
    #[arg(long, value_name = "IMAGE", conflicts_with_all = ["command", "uid", "sandbox"])]
    docker: Option<String>,
    /// The daemon for --docker, on this machine: unix:///PATH (default
    /// DOCKER_HOST, else unix:///var/run/docker.sock; tcp:// is refused, as
    /// the socket directory is bound into the container).
    #[arg(long, value_name = "URL", requires = "docker")]
    docker_host: Option<String>,
    /// The function's command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// `--format`: http-stream, or a stdin/stdout format.
#[derive(Debug, Clone, Copy)]
struct FormatArg(Option<StdioFormat>);

fn format_arg(v: &str) -> Result<FormatArg, String> {
    match v {
        "http-stream" => Ok(FormatArg(None)),
        name => StdioFormat::parse(name)
            .map(|f| FormatArg(Some(f)))
            .ok_or_else(|| "takes http-stream, json, http, default or cloudevent".to_owned()),
    }
}

fn config_arg(v: &str) -> Result<(String, String), String> {
    match v.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("takes KEY=VALUE".to_owned()),
    }
}

fn level_arg(v: &str) -> Result<Level, String> {
    Level::parse(v).ok_or_else(|| "takes must, should or may".to_owned())
}

fn sandbox_arg(v: &str) -> Result<sandbox::Mode, String> {
    sandbox::Mode::parse(v).ok_or_else(|| "takes auto, cgroup or signals".to_owned())
}

fn duration_arg(v: &str) -> Result<Duration, String> {
    parse_duration(v).ok_or_else(|| "takes a duration such as 500ms, 30s or 2m".to_owned())
}

fn output_arg(v: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = v
        .split_once('=')
        .ok_or_else(|| "takes FMT=FILE".to_owned())?;
    let format = Format::parse(format)
        .ok_or_else(|| format!("unknown output format {format:?}: json, tap or junit"))?;
    Ok((format, PathBuf::from(file)))
}

impl TryFrom<RunCli> for Args {
    type Error = Error;

    fn try_from(cli: RunCli) -> Result<Self, Error> {
        let mut words = cli.command.into_iter();
        let command = words.next().map(|program| {
            // Absolute, so that cases may start it in another directory.
            let program = if std::path::Path::new(&program).components().count() > 1 {
                std::path::absolute(&program).map_or(program, OsString::from)
            } else {
                program
            };
            let name = std::path::Path::new(&program).file_name().map_or_else(
                || "function".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
            FunctionCommand {
                name,
                program,
                args: words.collect(),
            }
        });
        if cli.docker_host.is_some() && cli.docker.is_none() {
            return Err(Error::Usage(
                "--docker-host names the daemon of --docker IMAGE; give that too".into(),
            ));
        }
        if command.is_none() && cli.image.is_none() && cli.docker.is_none() && !cli.list {
            return Err(Error::Usage(
                "give the function's command after -- (or an image with --image or --docker)"
                    .into(),
            ));
        }
        Ok(Self {
            command,
            image: cli.image,
            image_info: None,
            docker: cli.docker,
            docker_host: cli.docker_host,
            docker_sandbox: None,
            probe: cli.probe,
            only: cli.only,
            level: cli.level,
            fail_on: cli.fail_on,
            outputs: cli
                .output
                .into_iter()
                .map(|(format, file)| (format, file.into_os_string()))
                .collect(),
            expect: cli.expect.map(PathBuf::into_os_string),
            write_expect: cli.write_expect.map(PathBuf::into_os_string),
            freeze: !cli.no_freeze,
            config: cli.config,
            uid: cli.uid,
            list: cli.list,
            format: cli.format.0,
            sandbox: cli.sandbox,
            limits: Limits {
                call: cli.call_timeout,
                case: cli.case_timeout,
                run: cli.run_timeout,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunCli,
    }

    /// `run`'s arguments as the command line parses them.
    fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Args, Error> {
        use clap::Parser as _;
        let argv = std::iter::once(OsString::from("run")).chain(args);
        let cli = Cli::try_parse_from(argv).map_err(|e| Error::Usage(e.to_string()))?;
        Args::try_from(cli.run)
    }

    /// Both `--flag value` and `--flag=value`; the command after `--`.
    #[test]
    fn options_take_both_spellings() {
        let args = parse(
            [
                "--only=sock.",
                "--only",
                "resp.",
                "--fail-on=should",
                "--probe",
                "--",
                "./f",
                "x",
            ]
            .map(OsString::from),
        )
        .unwrap();
        assert_eq!(args.only, ["sock.", "resp."]);
        assert_eq!((args.fail_on, args.probe), (Some(Level::Should), true));
        let command = args.command.unwrap();
        assert_eq!((command.name.as_str(), command.args.len()), ("f", 1));
        assert!(std::path::Path::new(&command.program).is_absolute());
        // No command: a usage error, unless the cases are only listed.
        assert!(matches!(parse([]), Err(Error::Usage(_))));
        assert!(parse(["--list".into()]).unwrap().command.is_none());
        assert!(parse(["--bogus", "--", "f"].map(OsString::from)).is_err());
        assert!(parse(["--level", "often", "--", "f"].map(OsString::from)).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("2 weeks"), None);
        assert_eq!(parse_duration("s"), None);
    }

    #[test]
    fn limits_parse() {
        let args = parse(
            [
                "--call-timeout",
                "2s",
                "--case-timeout",
                "1m",
                "--run-timeout",
                "10m",
                "--sandbox",
                "signals",
                "--",
                "f",
            ]
            .map(OsString::from),
        )
        .unwrap();
        assert_eq!(
            args.limits,
            Limits {
                call: Duration::from_secs(2),
                case: Duration::from_secs(60),
                run: Duration::from_secs(600),
            }
        );
        assert_eq!(args.sandbox, sandbox::Mode::Signals);
        assert!(parse(["--sandbox", "docker", "--", "f"].map(OsString::from)).is_err());
        assert!(parse(["--case-timeout", "soon", "--", "f"].map(OsString::from)).is_err());
    }

    #[test]
    fn docker_and_config_parse() {
        let args = parse(
            [
                "--docker",
                "fdk-fixture:x",
                "--docker-host",
                "unix:///tmp/d.sock",
                "--config",
                "FIXTURE_MODE=good",
                "--config=A=b=c",
            ]
            .map(OsString::from),
        )
        .unwrap();
        assert_eq!(args.docker.as_deref(), Some("fdk-fixture:x"));
        assert_eq!(args.docker_host.as_deref(), Some("unix:///tmp/d.sock"));
        assert!(args.command.is_none() && args.docker_sandbox.is_none());
        assert_eq!(
            args.config,
            [
                ("FIXTURE_MODE".to_owned(), "good".to_owned()),
                ("A".to_owned(), "b=c".to_owned())
            ]
        );
        // Not with a command, --image, --uid or --sandbox; the host only
        // with --docker; a config needs its `=`.
        for bad in [
            &["--docker", "i", "--", "f"][..],
            &["--docker", "i", "--image", "x.tar"],
            &["--docker", "i", "--uid", "1000"],
            &["--docker", "i", "--sandbox", "signals"],
            &["--docker-host", "unix:///d", "--", "f"],
            &["--config", "NOEQUALS", "--", "f"],
            &["--config", "=v", "--", "f"],
        ] {
            assert!(parse(bad.iter().map(OsString::from)).is_err(), "{bad:?}");
        }
    }
}
