//! The command line as clap sees it: [`Cli`], one [`Command`] variant per
//! subcommand with its help texts, and the arguments of `cargo fdk help`.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand};

use super::build::BuildArgs;
use super::deploy::DeployArgs;
use super::image::ImageArgs;
use super::invoke::InvokeArgs;
use super::new::NewArgs;
use super::run::RunArgs;

/// The help page of every command: its usage, what it does, its options.
const COMMAND_HELP: &str = "{usage-heading} {usage}\n\n{before-help}{all-args}{after-help}";

/// `cargo fdk` (cargo runs `cargo-fdk fdk …`; [`main`](super::main) drops that `fdk`).
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn clap_accepts_the_definition() {
        Cli::command().debug_assert();
    }
}
