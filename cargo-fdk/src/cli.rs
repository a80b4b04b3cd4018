//! The command line: `cargo fdk <command> [options]`, declared with clap's
//! derive API.
//!
//! [`Cli`] is the whole command line and [`Command`] has one variant per
//! subcommand, each with its options struct; [`main`] parses with clap, turns
//! clap's errors into this crate's one-line usage errors (exit 2) and runs the
//! command. A new subcommand is a new variant and the function that runs it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory as _, Parser, Subcommand};

use crate::commands::{self, BuildOptions, ImageOptions};
use crate::error::{Error, Result};
use crate::scaffold::{FdkSource, NewFunction};

/// The help page of every command: its usage, what it does, its options.
const COMMAND_HELP: &str = "{usage-heading} {usage}\n\n{before-help}{all-args}{after-help}";

/// `cargo fdk` (cargo runs `cargo-fdk fdk …`; [`main`] drops that `fdk`).
#[derive(Debug, Parser)]
#[command(
    name = "cargo-fdk",
    bin_name = "cargo fdk",
    version,
    about = "Fn Project functions in Rust, from a new crate to an image the Fn server runs,\n\
             with no Docker daemon.",
    override_usage = "cargo fdk <command> [options]",
    help_template = "{name} {version}: {about-with-newline}\n\
                     {usage-heading} {usage}\n\n{all-args}{after-help}",
    after_help = "Run `cargo fdk <command> --help` for a command's options.\n\
                  A new function: cargo fdk new hello && cd hello && cargo test && cargo fdk image",
    disable_help_subcommand = true
)]
pub struct Cli {
    /// The command; without one, the help goes to stderr and the exit code
    /// is 2.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// One command and its options. Repeating an option keeps the last value.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// `cargo fdk new`: a function crate.
    #[command(
        about = "create a function crate: Cargo.toml, src/main.rs with a test, func.yaml, Dockerfile",
        override_usage = "cargo fdk new <path> [options]",
        help_template = COMMAND_HELP,
        before_help = NEW_ABOUT,
        args_override_self = true
    )]
    New(NewArgs),
    /// `cargo fdk build`: a static release binary.
    #[command(
        about = "build the function as a static release binary, and check that it is static",
        override_usage = "cargo fdk build [options]",
        help_template = COMMAND_HELP,
        before_help = BUILD_ABOUT,
        args_override_self = true
    )]
    Build(BuildArgs),
    /// `cargo fdk image`: an OCI image layout and an archive.
    #[command(
        about = "build, then write an OCI image layout and an image.tar for docker load or skopeo",
        override_usage = "cargo fdk image [options]",
        help_template = COMMAND_HELP,
        before_help = IMAGE_ABOUT,
        after_help = IMAGE_AFTER,
        args_override_self = true
    )]
    Image(ImageArgs),
    /// `cargo fdk run`: the function behind a local stand-in for the Fn server.
    #[command(
        about = "serve the function on 127.0.0.1 as the Fn server would: /invoke and triggers",
        override_usage = "cargo fdk run [options]",
        help_template = COMMAND_HELP,
        before_help = RUN_ABOUT,
        args_override_self = true
    )]
    Run(RunArgs),
    /// `cargo fdk invoke`: one call to `cargo fdk run`.
    #[command(
        about = "send one call to a function served by `cargo fdk run`, like `fn invoke`",
        override_usage = "cargo fdk invoke [options]",
        help_template = COMMAND_HELP,
        before_help = INVOKE_ABOUT,
        args_override_self = true
    )]
    Invoke(InvokeArgs),
    /// `cargo fdk deploy`: the image into a Docker daemon, the function
    /// into an Fn server.
    #[command(
        about = "build the image, load it into the server's Docker daemon, create or update the function and its triggers",
        override_usage = "cargo fdk deploy --app <app> [options]",
        help_template = COMMAND_HELP,
        before_help = DEPLOY_ABOUT,
        args_override_self = true
    )]
    Deploy(DeployArgs),
    /// `cargo fdk help [command]`: the same text as `--help` (not listed).
    #[command(hide = true, disable_help_flag = true)]
    Help(HelpArgs),
}

const NEW_ABOUT: &str = "\
Creates a function crate in <path> (which must not exist, or be empty):
  Cargo.toml      the package, a [[bin]], fn-fdk, a release profile for small binaries
  src/main.rs     a #[fdk::handler] function and a test using fdk::testing
  func.yaml       Fn's schema 20180708: name, version 0.0.1, runtime docker, memory,
                  timeout, an http trigger, and a `build:` step for the stock fn CLI
  Dockerfile      FROM scratch, for `fn build`/`fn deploy` where a Docker daemon exists
  .dockerignore, .gitignore
`cargo test` passes in it as created.";

const BUILD_ABOUT: &str = "\
Builds the function in the current directory (Cargo.toml and func.yaml) as a static
release binary: --target <arch>-unknown-linux-musl when its standard library is
installed, else the host's gnu target with -C target-feature=+crt-static. It always
passes --target, and reads the result's ELF headers to check that it is static (no
program interpreter, no shared libraries) before saying so.";

const IMAGE_ABOUT: &str = "\
Builds the function as `cargo fdk build` does, then writes an OCI image with no base
image and no daemon into <target dir>/fdk-image/<name>-<version>/:
  layout/      an OCI image layout (skopeo: oci:<dir>/layout:<version>)
  image.tar    one file that is both an OCI archive and a `docker load` archive
The image holds /function/func and /tmp, runs /function/func in /function, and has
no VOLUME and no USER. Its name and tag are func.yaml's name and version, after
$FN_REGISTRY/ when that is set. The same binary gives the same digests; timestamps
are 1970-01-01, or $SOURCE_DATE_EPOCH.";

const IMAGE_AFTER: &str = "\
Then, to a real Fn server:
  docker load -i <dir>/image.tar                     (where a Docker daemon runs), or
  skopeo copy oci:<dir>/layout:<version> docker://<registry>/<name>:<version>
  fn create function <app> <name> <image>";

const DEPLOY_ABOUT: &str = "\
What `fn deploy --local` does, without the docker or fn CLIs: bumps func.yaml's
version (patch; --no-bump keeps it), builds the image as `cargo fdk image` does, loads
it into the Docker daemon at $DOCKER_HOST (default unix:///var/run/docker.sock) through
the Engine API, then creates or updates the function (image, memory, timeout,
idle_timeout, config) and its HTTP triggers in <app> through the Fn API at
$FN_API_URL (default http://127.0.0.1:8080). The daemon must be the one the Fn server
starts containers from: the server pulls any image its daemon lacks. With --registry
the image is pushed there instead (plain HTTP, anonymous) for the server's daemon to
pull. A tag that already names another image is refused, not moved.";

const RUN_ABOUT: &str = "\
Builds the function as `cargo fdk build` does and serves it on 127.0.0.1 the way the
Fn server does: POST /invoke/<name> and the HTTP triggers /t/<app>/<source> of
func.yaml (the gateway transform both ways). The function runs hot, started with the
server's environment (FN_LISTENER in a fresh directory, FN_FORMAT=http-stream,
FN_APP_ID, FN_FN_ID, FN_MEMORY from func.yaml, func.yaml's config), judged ready by
the same inotify event, frozen between calls, called with the server's exact bytes
and its deadline (func.yaml timeout, default 30 s). Each answer is classified as the
server classifies it, and the client gets the server's status, headers and exact
error bodies ({\"message\":\"...\"} and a newline). Each call is logged with its call
id, the client's status, and what the server would do to the container; a container
the server would kill is replaced for the next call. The function's output is shown
prefixed with its name. Ctrl-C stops.";

const INVOKE_ABOUT: &str = "\
Sends one call to the function `cargo fdk run` serves, like `fn invoke`: the body
from --body, else stdin (when it is not a terminal), with Content-Type text/plain
unless --content-type says otherwise. Prints the answer's body on stdout. A status
other than 2xx is printed on stderr, with the server's error message, and the exit
status is 1; so is an answer whose body ends before its Content-Length.";

// Every option that takes a value accepts one that starts with `-`
// (`--body -x`); one that starts with `--` is refused by `precheck`.

/// The options of `cargo fdk new`.
#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    // Optional for clap: `run_new` says what is missing, as it always has.
    /// The new function's directory; it must not exist, or be empty
    #[arg(value_name = "path")]
    pub path: Option<PathBuf>,
    /// The function, package and binary name (default: the last
    /// component of <path>); lowercase letters, digits, `-`, `_`
    #[arg(
        long,
        value_name = "NAME",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub name: Option<String>,
    /// Depend on the FDK at DIR (a checkout's fdk/ directory)
    #[arg(long, value_name = "DIR", allow_hyphen_values = true)]
    pub fdk_path: Option<PathBuf>,
    /// Depend on fn-fdk VER from the registry
    /// (default: this repository's fdk/ when cargo-fdk was built from
    /// it and it is still there, else fn-fdk at cargo-fdk's version)
    #[arg(
        long,
        value_name = "VER",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub fdk_version: Option<String>,
}

/// Which binary to build: the options `build`, `image` and `run` share.
#[derive(Debug, Clone, Default, Args)]
pub struct BuildTarget {
    /// The function's Cargo.toml (default ./Cargo.toml); func.yaml is
    /// read from the same directory
    #[arg(
        long,
        value_name = "PATH",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub manifest_path: Option<PathBuf>,
    /// The binary, when the package has several
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub bin: Option<String>,
    /// Build for TRIPLE (its standard library must be installed)
    #[arg(long, value_name = "TRIPLE", allow_hyphen_values = true)]
    pub target: Option<String>,
}

impl From<BuildTarget> for BuildOptions {
    fn from(args: BuildTarget) -> Self {
        BuildOptions {
            manifest_path: args.manifest_path,
            bin: args.bin,
            target: args.target,
        }
    }
}

/// The options of `cargo fdk deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// Which binary to build.
    #[command(flatten)]
    pub build: BuildTarget,
    /// The app to deploy into
    #[arg(long, value_name = "APP", allow_hyphen_values = true, required = true)]
    pub app: String,
    /// Create the app if the server has none of that name
    #[arg(long)]
    pub create_app: bool,
    /// Keep func.yaml's version instead of bumping its patch number
    #[arg(long)]
    pub no_bump: bool,
    /// The Fn API (default: $FN_API_URL, else http://127.0.0.1:8080)
    #[arg(long, value_name = "URL", allow_hyphen_values = true)]
    pub api_url: Option<String>,
    /// Push the image to this registry (HOST[:PORT][/NAMESPACE], plain
    /// HTTP, anonymous) instead of loading it into $DOCKER_HOST
    #[arg(
        long,
        value_name = "REGISTRY",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub registry: Option<String>,
}

/// The options of `cargo fdk build`.
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Which binary to build.
    #[command(flatten)]
    pub build: BuildTarget,
    /// Also copy the binary to FILE, mode 0755 (func.yaml's build
    /// step uses --out .fn/func for the Dockerfile)
    #[arg(
        long,
        value_name = "FILE",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub out: Option<PathBuf>,
}

/// The options of `cargo fdk image`.
#[derive(Debug, Clone, Args)]
pub struct ImageArgs {
    /// Which binary to build.
    #[command(flatten)]
    pub build: BuildTarget,
    /// Use this static binary instead of building one
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub binary: Option<PathBuf>,
    /// The image reference, [registry/]name:tag (default: func.yaml's
    /// name and version, after $FN_REGISTRY/ when that is set)
    #[arg(
        long,
        value_name = "REF",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub tag: Option<String>,
    /// Write the layout and image.tar into DIR
    #[arg(long, value_name = "DIR", allow_hyphen_values = true)]
    pub out: Option<PathBuf>,
}

/// The options of `cargo fdk run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Which binary to build.
    #[command(flatten)]
    pub build: BuildTarget,
    /// Serve this binary instead of building one
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub binary: Option<PathBuf>,
    /// Where to listen
    #[arg(
        long,
        value_name = "HOST:PORT",
        default_value_t = crate::server::default_addr(),
        value_parser = host_port,
        allow_hyphen_values = true
    )]
    pub addr: SocketAddr,
    /// The app in trigger URLs
    #[arg(
        long,
        value_name = "NAME",
        default_value = "app",
        allow_hyphen_values = true
    )]
    pub app: String,
    /// Do not freeze the function between calls
    #[arg(long)]
    pub no_freeze: bool,
    /// Rebuild when the crate's files change (with --binary: restart when
    /// that file changes) and serve the new build; a failed build is shown
    /// and the last good one keeps serving
    #[arg(long, verbatim_doc_comment)]
    pub watch: bool,
    /// Run the function on the host as this user, not in the server's
    /// container (uid 1000, read-only root, no network; needs root)
    #[arg(long, verbatim_doc_comment)]
    pub no_sandbox: bool,
}

/// The options of `cargo fdk invoke`.
#[derive(Debug, Clone, Args)]
pub struct InvokeArgs {
    /// The function's Cargo.toml, for its name (default ./Cargo.toml)
    #[arg(long, value_name = "PATH", allow_hyphen_values = true)]
    pub manifest_path: Option<PathBuf>,
    /// The whole URL instead (default http://<addr>/invoke/<name>)
    #[arg(long, value_name = "URL", allow_hyphen_values = true)]
    pub url: Option<String>,
    /// Where `cargo fdk run` listens
    #[arg(
        long,
        value_name = "HOST:PORT",
        default_value_t = crate::server::default_addr().to_string(),
        allow_hyphen_values = true
    )]
    pub addr: String,
    /// The request body (default: stdin, when it is not a terminal)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub body: Option<String>,
    /// The request's Content-Type
    #[arg(
        long,
        value_name = "TYPE",
        default_value = "text/plain",
        allow_hyphen_values = true
    )]
    pub content_type: String,
    /// How long to wait for the answer
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = positive_seconds,
        allow_hyphen_values = true
    )]
    pub timeout: u64,
    /// Print the status line and headers on stderr
    #[arg(short, long)]
    pub verbose: bool,
}

/// The arguments of `cargo fdk help`.
#[derive(Debug, Clone, Args)]
pub struct HelpArgs {
    /// The command whose help to print; without one, the list of commands.
    #[arg(allow_hyphen_values = true)]
    pub command: Option<String>,
    /// Anything after the command, ignored.
    #[arg(hide = true, allow_hyphen_values = true, num_args = 0..)]
    pub rest: Vec<OsString>,
}

/// `--addr` of `run`: the message completes "--addr `VALUE` ".
fn host_port(value: &str) -> std::result::Result<SocketAddr, String> {
    value.parse().map_err(|_| "is not HOST:PORT".to_owned())
}

/// `--timeout` of `invoke`: whole seconds, at least one.
fn positive_seconds(value: &str) -> std::result::Result<u64, String> {
    value
        .parse()
        .ok()
        .filter(|&t: &u64| t > 0)
        .ok_or_else(|| "is not a positive number of seconds".to_owned())
}

/// Runs the command line `args` (as `std::env::args_os()` gives it, the
/// program first) and returns the exit code: 0, 1 for a failure, 2 for a
/// usage mistake.
pub fn main<I>(args: I) -> ExitCode
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut args: Vec<OsString> = args.into_iter().skip(1).map(Into::into).collect();
    // `cargo fdk …` runs `cargo-fdk fdk …`.
    if args.first().is_some_and(|a| a == "fdk") {
        args.remove(0);
    }
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            if err.is_usage() {
                eprintln!("(see cargo fdk --help)");
            }
            ExitCode::from(err.exit_code())
        }
    }
}

/// Parses `args` (after `cargo-fdk` and `fdk`) and runs the command.
fn dispatch(args: &[OsString]) -> Result<()> {
    let Some(cli) = parse(args)? else {
        return Ok(());
    };
    match cli.command {
        None => {
            eprint!("{}", Cli::command().render_help());
            Err(Error::usage("no command given"))
        }
        Some(Command::New(args)) => run_new(args),
        Some(Command::Build(args)) => run_build(args),
        Some(Command::Image(args)) => run_image(args),
        Some(Command::Run(args)) => run_function(args),
        Some(Command::Invoke(args)) => invoke_function(args),
        Some(Command::Deploy(args)) => deploy_function(args),
        Some(Command::Help(help)) => match help.command {
            None => print_help(None),
            Some(name) if command_names().contains(&name) => print_help(Some(&name)),
            Some(name) => Err(no_command(&name)),
        },
    }
}

/// The parsed command line, or `None` when the help or the version was
/// asked for, and printed.
fn parse(args: &[OsString]) -> Result<Option<Cli>> {
    let command = args
        .first()
        .and_then(|a| a.to_str())
        .filter(|a| command_names().iter().any(|name| name == a));
    if let Some(name) = command
        && precheck(name, &args[1..])?
    {
        print_help(Some(name))?;
        return Ok(None);
    }
    let argv = std::iter::once(OsString::from("cargo-fdk")).chain(args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(cli) => Ok(Some(cli)),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            err.print()
                .map_err(|e| Error::new(format!("could not write the help: {e}")))?;
            Ok(None)
        }
        Err(err) => Err(match command {
            Some(name) => usage_error(name, &err),
            // `help` fails only on a name that is not UTF-8.
            None => no_command(
                &args
                    .get(usize::from(args.first().is_some_and(|a| a == "help")))
                    .map(|a| a.to_string_lossy())
                    .unwrap_or_default(),
            ),
        }),
    }
}

/// Two rules this command line had before clap, which clap has no setting
/// for, checked on a command's own arguments (up to `--`) before clap sees
/// them. Returns true when the command's help is asked for.
///
/// - `-h`/`--help` anywhere wins, over a mistake elsewhere and even where
///   it would be an option's value;
/// - an option's value may start with `-` (`--body -x`), but a separate
///   word that starts with `--` is not a value: `--tag --bin` lacks a tag,
///   as a `--tag` at the end does (`--tag=--x` is a value). A mistake
///   before it is the one reported, as clap would report it.
fn precheck(name: &str, args: &[OsString]) -> Result<bool> {
    let words: Vec<&OsString> = args.iter().take_while(|a| *a != "--").collect();
    if words.iter().any(|a| *a == "-h" || *a == "--help") {
        return Ok(true);
    }
    let cli = Cli::command();
    let Some(command) = cli.find_subcommand(name) else {
        return Ok(false);
    };
    let mut words = words.into_iter().enumerate();
    while let Some((at, word)) = words.next() {
        let Some(long) = word.to_str().and_then(|w| w.strip_prefix("--")) else {
            continue;
        };
        let takes_value = command
            .get_arguments()
            .any(|a| a.get_long() == Some(long) && a.get_action().takes_values());
        if takes_value
            && words
                .next()
                .is_none_or(|(_, value)| value.as_encoded_bytes().starts_with(b"--"))
        {
            let before = ["cargo-fdk", name].map(OsString::from);
            if let Err(err) = Cli::try_parse_from(before.into_iter().chain(args[..at].to_vec())) {
                return Err(usage_error(name, &err));
            }
            return Err(usage(name, format!("--{long} needs a value")));
        }
    }
    Ok(false)
}

/// Prints the help of `command`, or of `cargo fdk`, as `--help` does.
fn print_help(command: Option<&str>) -> Result<()> {
    let argv = ["cargo-fdk"].into_iter().chain(command).chain(["--help"]);
    match Cli::try_parse_from(argv) {
        Err(err) if err.kind() == ErrorKind::DisplayHelp => err
            .print()
            .map_err(|e| Error::new(format!("could not write the help: {e}"))),
        Err(err) => Err(Error::new(err.render().to_string())),
        Ok(_) => Ok(()),
    }
}

/// The commands `--help` lists, in its order.
fn command_names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// `no command `NAME``, with the list of commands.
fn no_command(name: &str) -> Error {
    Error::usage(format!(
        "no command `{name}` (commands: {})",
        command_names().join(", ")
    ))
}

/// Clap's error about `command`'s arguments as one line,
/// `cargo fdk <command>: …`.
fn usage_error(command: &str, err: &clap::Error) -> Error {
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    // `--tag <REF>` → `--tag`; `--nope=1` → `--nope`; a positional as it is.
    let arg = context(ContextKind::InvalidArg).map(|a| {
        if a.starts_with('-') {
            a.split([' ', '=']).next().unwrap_or(a)
        } else {
            a
        }
    });
    let message = match (err.kind(), arg) {
        (ErrorKind::UnknownArgument, Some(arg)) if arg.starts_with('-') => {
            format!("unknown option {arg}")
        }
        (ErrorKind::UnknownArgument, Some(arg)) => format!("unexpected argument `{arg}`"),
        (ErrorKind::InvalidValue, Some(arg)) => format!("{arg} needs a value"),
        (ErrorKind::TooManyValues, Some(arg)) => format!("{arg} takes no value"),
        (ErrorKind::MissingRequiredArgument, _) => match err.get(ContextKind::InvalidArg) {
            Some(ContextValue::Strings(missing)) => {
                let names: Vec<&str> = missing
                    .iter()
                    .map(|a| a.split([' ', '=']).next().unwrap_or(a))
                    .collect();
                format!("{} is required", names.join(", "))
            }
            _ => "a required option is missing".to_owned(),
        },
        (ErrorKind::ValueValidation, Some(arg)) => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            match std::error::Error::source(err) {
                Some(reason) => format!("{arg} `{value}` {reason}"),
                None => format!("{arg} `{value}` is not valid"),
            }
        }
        _ => {
            // Anything else: clap's own first line, without its `error: `.
            let text = err.render().to_string();
            let line = text.lines().next().unwrap_or_default();
            line.strip_prefix("error: ").unwrap_or(line).to_owned()
        }
    };
    usage(command, message)
}

/// A usage error that names the command.
fn usage(command: &str, message: impl std::fmt::Display) -> Error {
    Error::usage(format!("cargo fdk {command}: {message}"))
}

/// `cargo fdk run`: the function behind a local stand-in for the Fn server.
fn run_function(args: RunArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let build = BuildOptions::from(args.build);
    let watch = match (&args.binary, args.watch) {
        (_, false) => None,
        (Some(binary), true) => Some(crate::watch::Source::Binary(binary.clone())),
        (None, true) => Some(crate::watch::Source::Crate(build.clone())),
    };
    let (func, binary) = match args.binary {
        Some(binary) => (
            crate::funcfile::FuncFile::load(&build.function_dir())?,
            binary,
        ),
        None => {
            let (function, built) = commands::build(&build)?;
            println!(
                "Built {} ({} bytes, {})",
                built.path.display(),
                thousands(built.size),
                built.elf.linkage()
            );
            (function.func, built.path)
        }
    };
    crate::server::run(crate::server::RunOptions {
        binary,
        func,
        app: args.app,
        addr: args.addr,
        freeze: !args.no_freeze,
        started,
        watch,
        sandbox: !args.no_sandbox,
    })
}

/// `cargo fdk invoke`: one call to `cargo fdk run`.
fn invoke_function(args: InvokeArgs) -> Result<()> {
    let build = BuildOptions {
        manifest_path: args.manifest_path,
        ..BuildOptions::default()
    };
    let url = match args.url {
        Some(url) => url,
        None => {
            let func = crate::funcfile::FuncFile::load(&build.function_dir())?;
            format!("http://{}/invoke/{}", args.addr, func.name)
        }
    };
    let body = match args.body {
        Some(body) => body.into_bytes(),
        None => {
            use std::io::{IsTerminal, Read};
            let mut stdin = std::io::stdin();
            let mut all = Vec::new();
            if !stdin.is_terminal() {
                stdin
                    .read_to_end(&mut all)
                    .map_err(|e| Error::new(format!("could not read stdin: {e}")))?;
            }
            all
        }
    };
    let answer = crate::invoke::send(
        "POST",
        &url,
        &args.content_type,
        &body,
        std::time::Duration::from_secs(args.timeout),
    )?;
    if args.verbose {
        eprintln!("HTTP/1.1 {}", answer.status);
        for (k, v) in &answer.headers {
            eprintln!("{k}: {v}");
        }
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(&answer.body)
        .and_then(|()| out.flush())
        .map_err(|e| Error::new(format!("could not write the answer: {e}")))?;
    if !(200..300).contains(&answer.status) {
        return Err(Error::new(match crate::invoke::server_message(&answer) {
            Some(message) => format!("the call answered {}: {message}", answer.status),
            None => format!("the call answered {}", answer.status),
        }));
    }
    Ok(())
}

/// `cargo fdk new`: a function crate.
fn run_new(args: NewArgs) -> Result<()> {
    let dir = args.path.ok_or_else(|| {
        usage(
            "new",
            "give the new function's directory, e.g. `cargo fdk new hello`",
        )
    })?;
    let name = match args.name {
        Some(name) => name,
        None => dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                usage(
                    "new",
                    format!("cannot take a name from {}; use --name", dir.display()),
                )
            })?,
    };
    let fdk = match (args.fdk_path, args.fdk_version) {
        (Some(_), Some(_)) => {
            return Err(usage(
                "new",
                "--fdk-path and --fdk-version exclude each other",
            ));
        }
        (Some(path), None) => {
            let abs = path
                .canonicalize()
                .map_err(|err| Error::new(format!("--fdk-path {}: {err}", path.display())))?;
            if !abs.join("Cargo.toml").is_file() {
                return Err(Error::new(format!(
                    "--fdk-path {}: no Cargo.toml there",
                    path.display()
                )));
            }
            FdkSource::Path(abs)
        }
        (None, Some(version)) => FdkSource::Version(version),
        (None, None) => FdkSource::default_for_this_build(),
    };
    let new = NewFunction { dir, name, fdk };
    new.create()?;
    let source = match &new.fdk {
        FdkSource::Path(path) => format!("the FDK at {}", path.display()),
        FdkSource::Version(v) => format!("fn-fdk {v} from the registry"),
    };
    println!(
        "Created function `{}` in {} (with {source})",
        new.name,
        new.dir.display()
    );
    println!("  Cargo.toml  src/main.rs  func.yaml  Dockerfile  .dockerignore  .gitignore");
    println!(
        "Next: cd {} && cargo test && cargo fdk image",
        new.dir.display()
    );
    Ok(())
}

/// `cargo fdk build`: a static release binary.
fn run_build(args: BuildArgs) -> Result<()> {
    let options = BuildOptions::from(args.build);
    let (function, built) = commands::build(&options)?;
    println!(
        "Built {} ({}): {}, {} bytes",
        function.project.bin,
        function.func.name,
        built.path.display(),
        thousands(built.size)
    );
    println!("  {}", describe_static(&built.elf, Some(&built.target)));
    if let Some(out) = args.out {
        commands::copy_binary(&built.path, &out)?;
        println!("  copied to {}", out.display());
    }
    Ok(())
}

fn describe_static(
    elf: &crate::elf::ElfInfo,
    target: Option<&crate::build::TargetChoice>,
) -> String {
    let arch = elf.oci_architecture().unwrap_or("unknown architecture");
    match target {
        Some(t) if t.crt_static => format!(
            "{} ({arch}, no interpreter, no shared libraries): {} with +crt-static, because {}",
            elf.linkage(),
            t.triple,
            t.reason
        ),
        Some(t) => format!(
            "{} ({arch}, no interpreter, no shared libraries): {} ({})",
            elf.linkage(),
            t.triple,
            t.reason
        ),
        None => format!(
            "{} ({arch}, no interpreter, no shared libraries)",
            elf.linkage()
        ),
    }
}

/// `cargo fdk image`: an OCI image layout and an archive.
fn deploy_function(args: DeployArgs) -> Result<()> {
    let report = crate::deploy::deploy(&crate::deploy::DeployOptions {
        build: BuildOptions::from(args.build),
        app: args.app.clone(),
        create_app: args.create_app,
        no_bump: args.no_bump,
        api_url: args.api_url,
        registry: args.registry,
    })?;
    let made = |created: bool| if created { "created" } else { "updated" };
    if let Some(from) = &report.bumped_from {
        println!("Bumped   {} {from} -> {}", report.function, report.version);
    }
    println!(
        "Image    {} ({}; {} {})",
        report.image.image.reference,
        report.image.image.image_id(),
        match (
            report.already_there,
            report.destination.starts_with("registry ")
        ) {
            (true, _) => "already in",
            (false, true) => "pushed to",
            (false, false) => "loaded into",
        },
        report.destination
    );
    println!(
        "App      {} ({}{})",
        args.app,
        report.app.0,
        if report.app.1 { ", created" } else { "" }
    );
    println!(
        "Function {} ({}, {})",
        report.function,
        report.function_id.0,
        made(report.function_id.1)
    );
    if let Some(endpoint) = &report.invoke_endpoint {
        println!("invoke   {endpoint}");
    }
    for (name, source, endpoint) in &report.triggers {
        match endpoint {
            Some(endpoint) => println!("trigger  {name} {source}: {endpoint}"),
            None => println!("trigger  {name} {source}"),
        }
    }
    Ok(())
}

fn run_image(args: ImageArgs) -> Result<()> {
    let options = ImageOptions {
        build: BuildOptions::from(args.build),
        binary: args.binary,
        tag: args.tag,
        out: args.out,
        version: None,
    };
    let report = commands::image(&options)?;
    let image = &report.image;
    let tag = image.reference.tag();
    let cwd = std::env::current_dir().unwrap_or_default();
    let show = |path: &std::path::Path| {
        path.strip_prefix(&cwd)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    println!("Image    {}", image.reference);
    println!("digest   {} (manifest)", image.manifest.digest);
    println!(
        "id       {} (config; the Docker image ID)",
        image.image_id()
    );
    println!(
        "size     {} bytes compressed (layer {}), {} uncompressed",
        thousands(image.compressed_size()),
        thousands(image.layer.size()),
        thousands(image.uncompressed_size)
    );
    println!(
        "binary   {}, {} bytes, {}",
        show(&report.binary),
        thousands(report.binary_size),
        describe_static(&report.elf, report.target.as_ref())
    );
    println!(
        "layout   {}  (skopeo: oci:{}:{tag})",
        show(&report.layout),
        show(&report.layout)
    );
    println!(
        "archive  {}, {} bytes  (docker load -i; skopeo: oci-archive: or docker-archive:)",
        show(&report.archive),
        thousands(report.archive_size)
    );
    println!(
        "took     {:.1} ms from the binary to the image",
        report.elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn parsed(args: &[&str]) -> Command {
        parse(&os(args)).unwrap().unwrap().command.unwrap()
    }

    #[test]
    fn clap_accepts_the_definition() {
        Cli::command().debug_assert();
    }

    #[test]
    fn values_both_ways_defaults_and_the_last_one_wins() {
        let Command::Image(image) = parsed(&["image", "--tag", "a:1", "--out=dir", "--tag=b:2"])
        else {
            panic!("not image");
        };
        assert_eq!(image.tag.as_deref(), Some("b:2"));
        assert_eq!(image.out, Some(PathBuf::from("dir")));
        assert_eq!(image.build.manifest_path, None);
        let Command::Run(run) = parsed(&["run", "--no-freeze", "--app=x"]) else {
            panic!("not run");
        };
        assert!(run.no_freeze);
        assert_eq!(
            (run.app.as_str(), run.addr),
            ("x", crate::server::default_addr())
        );
        let Command::Invoke(invoke) = parsed(&["invoke", "-v", "--body", "-x"]) else {
            panic!("not invoke");
        };
        assert!(invoke.verbose);
        assert_eq!(invoke.body.as_deref(), Some("-x"));
        assert_eq!(
            (invoke.timeout, invoke.content_type.as_str()),
            (60, "text/plain")
        );
        assert_eq!(invoke.addr, "127.0.0.1:8080");
        let Command::New(new) = parsed(&["new", "hello", "--name=--odd"]) else {
            panic!("not new");
        };
        assert_eq!(new.path, Some(PathBuf::from("hello")));
        assert_eq!(new.name.as_deref(), Some("--odd"));
    }

    #[test]
    fn mistakes_are_one_line_that_names_the_command() {
        let message = |args: &[&str]| {
            let err = dispatch(&os(args)).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{err}");
            err.message().to_owned()
        };
        assert_eq!(
            message(&["build", "--nope"]),
            "cargo fdk build: unknown option --nope"
        );
        assert_eq!(
            message(&["build", "--nope=1"]),
            "cargo fdk build: unknown option --nope"
        );
        assert_eq!(
            message(&["run", "--no-freeze=1"]),
            "cargo fdk run: --no-freeze takes no value"
        );
        assert_eq!(
            message(&["build", "--target", "--bin"]),
            "cargo fdk build: --target needs a value"
        );
        assert_eq!(
            message(&["build", "--nope", "--target", "--bin"]),
            "cargo fdk build: unknown option --nope"
        );
        assert_eq!(
            message(&["image", "--tag"]),
            "cargo fdk image: --tag needs a value"
        );
        assert_eq!(
            message(&["new", "a", "b"]),
            "cargo fdk new: unexpected argument `b`"
        );
        assert_eq!(
            message(&["invoke", "--timeout=0"]),
            "cargo fdk invoke: --timeout `0` is not a positive number of seconds"
        );
        assert_eq!(message(&["deploy"]), "cargo fdk deploy: --app is required");
        for args in [&["publish"][..], &["help", "publish"], &["-x"]] {
            assert_eq!(
                message(args),
                format!(
                    "no command `{}` (commands: new, build, image, run, invoke, deploy)",
                    args[args.len() - 1]
                )
            );
        }
        assert_eq!(message(&[]), "no command given");
    }

    #[test]
    fn help_and_version_are_not_mistakes() {
        for args in [
            &["image", "--help"][..],
            &["build", "--nope", "-h"],
            &["invoke", "--body", "-h"],
            &["help", "build"],
            &["help"],
            &["--help"],
            &["-V"],
        ] {
            assert_eq!(dispatch(&os(args)), Ok(()), "{args:?}");
        }
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        assert_eq!(command_names(), names[..6]);
    }

    #[test]
    fn run_and_invoke_refuse_bad_options_with_one_clear_line() {
        let err = dispatch(&os(&["run", "--addr", "nope"])).unwrap_err();
        assert!(
            err.is_usage() && err.message().contains("HOST:PORT"),
            "{err}"
        );
        let err = dispatch(&os(&["invoke", "--url", "ftp://x/", "--body", "a"])).unwrap_err();
        assert!(err.is_usage() && err.message().contains("http://"), "{err}");
        // Nothing listens on port 1: the message says what to start.
        let err = dispatch(&os(&[
            "invoke",
            "--url",
            "http://127.0.0.1:1/invoke/x",
            "--body",
            "a",
        ]))
        .unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.message().contains("cargo fdk run"), "{err}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
