//! `fdk-conformance oracle`: the three steps `scripts/oracle.sh` runs.

use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{Row, compare, emulated, parse_rows, real};
use crate::Error;
use crate::error::display_chain;

/// Plays one fixed call sequence on a real Fn server and in the harness's
/// emulation, and compares the two call by call.
#[derive(Debug, clap::Args)]
pub(crate) struct OracleArgs {
    #[command(subcommand)]
    step: OracleStep,
}

/// What both sides of the oracle play, and where the rows go.
#[derive(Debug, clap::Args)]
struct Play {
    /// Where to write the rows (tab-separated).
    #[arg(long)]
    out: PathBuf,
    /// How many modes to play at once (each has its own function and
    /// process; the calls of one mode stay in order).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    jobs: u16,
    /// The fixture modes.
    #[arg(required = true)]
    modes: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum OracleStep {
    /// Play the sequence on a real Fn server; write one row per call.
    Real {
        /// The server's API, http://host:port.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        api: String,
        /// The fixture image, loaded into the server's docker; each mode
        /// runs a tag of it named after the mode.
        #[arg(long)]
        image: String,
        /// The app the functions are created in.
        #[arg(long, default_value = "oracle")]
        app: String,
        #[command(flatten)]
        play: Play,
    },
    /// Play the sequence in the harness's emulation; write one row per call.
    /// The fixture is a command (--fixture), an image run daemonless in the
    /// server's sandbox (--image) or an image run on a Docker daemon in the
    /// server's container (--docker); its mode in the environment either way.
    Emulate {
        /// The fixture binary.
        #[arg(long, required_unless_present_any = ["image", "docker"],
              conflicts_with_all = ["image", "docker"])]
        fixture: Option<PathBuf>,
        /// The fixture image: an OCI layout, oci-archive or docker-archive
        /// (as `run --image`).
        #[arg(long, value_name = "REF", conflicts_with_all = ["docker", "uid", "cwd"])]
        image: Option<String>,
        /// The fixture image in a Docker daemon (as `run --docker`).
        #[arg(long, value_name = "IMAGE", conflicts_with_all = ["uid", "cwd"])]
        docker: Option<String>,
        /// The daemon for --docker (default DOCKER_HOST).
        #[arg(long, value_name = "URL", requires = "docker")]
        docker_host: Option<String>,
        /// Run the fixture as this uid and gid, as the server runs
        /// containers (root only).
        #[arg(long)]
        uid: Option<u32>,
        /// Run the fixture in this working directory (the server's is
        /// read-only).
        #[arg(long)]
        cwd: Option<PathBuf>,
        #[command(flatten)]
        play: Play,
    },
    /// Say, per mode, whether the real server served every call as the
    /// fixture meant it (`served MODE` or `failed MODE: first call`).
    Served {
        /// The real server's rows.
        real: PathBuf,
    },
    /// Compare the two sides' rows; exit 1 on any difference.
    Compare {
        /// The real server's rows.
        real: PathBuf,
        /// The harness's rows.
        emulated: PathBuf,
        /// Also write the side-by-side table (Markdown) here.
        #[arg(long)]
        table: Option<PathBuf>,
        /// Modes whose real-server rows vary from run to run (a race inside
        /// the server): shown, their differences not counted. Repeatable or
        /// comma-separated.
        #[arg(long, value_delimiter = ',')]
        unsettled: Vec<String>,
    },
}

/// Runs `fdk-conformance oracle`, parsed.
pub(crate) fn run(parsed: OracleArgs) -> ExitCode {
    match execute(parsed.step) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fdk-conformance oracle: {}", display_chain(&e));
            ExitCode::from(2)
        }
    }
}

fn execute(step: OracleStep) -> Result<ExitCode, Error> {
    match step {
        OracleStep::Real {
            api,
            image,
            app,
            play: Play { out, jobs, modes },
        } => {
            // The app once; then a client per worker.
            let server = real::Server::new(&api, &app, &image)?;
            let rows = each_mode(
                &modes,
                jobs,
                || server.another_client(),
                |server, mode| {
                    eprintln!("oracle: real server, mode {mode}");
                    server.run_mode(mode)
                },
            )?;
            write_rows(&out, &rows)?;
            Ok(ExitCode::SUCCESS)
        }
        OracleStep::Emulate {
            fixture,
            image,
            docker,
            docker_host,
            uid,
            cwd,
            play: Play { out, jobs, modes },
        } => {
            // Ctrl-C kills the functions (frozen ones too) and their
            // directories, as `run` does.
            crate::suite::stop_on_signals()
                .map_err(|e| Error::io("could not watch for SIGINT/SIGTERM", e))?;
            let subject = match (fixture, image, docker) {
                (Some(fixture), ..) => emulated::Subject::command(&fixture, uid, cwd)?,
                (None, Some(image), _) => emulated::Subject::image(&image)?,
                (None, None, Some(docker)) => {
                    emulated::Subject::docker(&docker, docker_host.as_deref())?
                }
                (None, None, None) => {
                    return Err(Error::Usage("give --fixture, --image or --docker".into()));
                }
            };
            eprintln!("oracle: {}", subject.container.sandbox.describe());
            let rows = each_mode(
                &modes,
                jobs,
                || Ok(()),
                |(), mode| {
                    eprintln!("oracle: harness, mode {mode}");
                    emulated::run_mode(&subject.command, mode, &subject.container)
                },
            )?;
            write_rows(&out, &rows)?;
            Ok(ExitCode::SUCCESS)
        }
        OracleStep::Served { real } => {
            let rows = read_rows(&real)?;
            let mut modes: Vec<&str> = rows.iter().map(|r| r.mode.as_str()).collect();
            modes.dedup();
            for mode in modes {
                match super::served_as_meant(&rows, mode) {
                    Ok(()) => println!("served {mode}"),
                    Err(why) => println!("failed {mode}: {why}"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OracleStep::Compare {
            real,
            emulated,
            table,
            unsettled,
        } => {
            let real = read_rows(&real)?;
            let emulated = read_rows(&emulated)?;
            let mut comparison = compare(&real, &emulated);
            comparison.unsettled = unsettled;
            let text = comparison.markdown();
            if let Some(table) = table {
                std::fs::write(&table, &text)
                    .map_err(|e| Error::io(format!("could not write {}", table.display()), e))?;
            }
            for (mode, step, r, e) in &comparison.calls {
                if r != e && !comparison.unsettled.contains(mode) {
                    let show =
                        |row: &Option<Row>| row.as_ref().map_or("(no row)".into(), Row::outcome);
                    println!(
                        "DIFFERENT {mode} {step}: real server {} | harness {}",
                        show(r),
                        show(e)
                    );
                }
            }
            println!(
                "oracle: {} modes x {} calls compared, {} differences",
                comparison.modes(),
                super::sequence().len(),
                comparison.differences()
            );
            Ok(if comparison.differences() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// One mode's rows, or why it could not be played.
type ModeRows = Result<Vec<Row>, Error>;

/// Runs `play` for every mode, `jobs` modes at a time, each worker with its
/// own context from `setup`; the rows come back in the modes' order.
fn each_mode<C>(
    modes: &[String],
    jobs: u16,
    setup: impl Fn() -> Result<C, Error> + Sync,
    play: impl Fn(&C, &str) -> Result<Vec<Row>, Error> + Sync,
) -> Result<Vec<Row>, Error> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<ModeRows>>> =
        Mutex::new((0..modes.len()).map(|_| None).collect());
    let store = |i: usize, result| {
        results
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(result);
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(u16::try_from(modes.len()).unwrap_or(u16::MAX)) {
            scope.spawn(|| {
                let context = setup();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(mode) = modes.get(i) else { break };
                    let result = match &context {
                        Ok(context) => play(context, mode),
                        Err(e) => Err(Error::Usage(format!(
                            "could not start: {}",
                            display_chain(e)
                        ))),
                    };
                    store(i, result);
                }
            });
        }
    });
    let mut rows = Vec::new();
    for (mode, result) in modes.iter().zip(
        results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    ) {
        match result {
            Some(Ok(more)) => rows.extend(more),
            Some(Err(e)) => {
                return Err(Error::Usage(format!("mode {mode}: {}", display_chain(&e))));
            }
            None => return Err(Error::Usage(format!("mode {mode} was not played"))),
        }
    }
    Ok(rows)
}

fn write_rows(path: &std::path::Path, rows: &[Row]) -> Result<(), Error> {
    let mut text = String::from("# mode\tcall\tstatus\tmessage\tcontainer\n");
    for row in rows {
        text.push_str(&row.to_tsv());
        text.push('\n');
    }
    std::fs::write(path, text)
        .map_err(|e| Error::io(format!("could not write {}", path.display()), e))
}

fn read_rows(path: &std::path::Path) -> Result<Vec<Row>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("could not read {}", path.display()), e))?;
    parse_rows(&text).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
}
