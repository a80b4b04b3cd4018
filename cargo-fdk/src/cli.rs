//! The command line: `cargo fdk <command> [options]`, parsed by hand.
//!
//! Each subcommand is one entry in [`COMMANDS`]: its name, a summary for
//! `cargo fdk --help`, its own `--help` text and the function that runs it
//! with the arguments after its name. A new subcommand is a new entry.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::commands::{self, BuildOptions, ImageOptions};
use crate::error::{Error, Result};
use crate::scaffold::{FdkSource, NewFunction};

/// One subcommand.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    /// What the user types after `cargo fdk`.
    pub name: &'static str,
    /// One line for the command list.
    pub summary: &'static str,
    /// The full `--help` text.
    pub help: &'static str,
    /// Runs it with the arguments after its name (`--help` is handled before).
    pub run: fn(&[String]) -> Result<()>,
}

/// Every subcommand, in the order `--help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "new",
        summary: "create a function crate: Cargo.toml, src/main.rs with a test, func.yaml, Dockerfile",
        help: NEW_HELP,
        run: run_new,
    },
    Command {
        name: "build",
        summary: "build the function as a static release binary, and check that it is static",
        help: BUILD_HELP,
        run: run_build,
    },
    Command {
        name: "image",
        summary: "build, then write an OCI image layout and an image.tar for docker load or skopeo",
        help: IMAGE_HELP,
        run: run_image,
    },
    Command {
        name: "run",
        summary: "serve the function on 127.0.0.1 as the Fn server would: /invoke and triggers",
        help: RUN_HELP,
        run: run_function,
    },
    Command {
        name: "invoke",
        summary: "send one call to a function served by `cargo fdk run`, like `fn invoke`",
        help: INVOKE_HELP,
        run: invoke_function,
    },
];

/// `cargo fdk --help`.
pub fn main_help() -> String {
    let mut text = format!(
        "cargo-fdk {}: Fn Project functions in Rust, from a new crate to an image the Fn server runs,\n\
         with no Docker daemon.\n\n\
         Usage: cargo fdk <command> [options]\n\nCommands:\n",
        env!("CARGO_PKG_VERSION")
    );
    for command in COMMANDS {
        text += &format!("  {:<8}  {}\n", command.name, command.summary);
    }
    text += "\nRun `cargo fdk <command> --help` for a command's options.\n\
             A new function: cargo fdk new hello && cd hello && cargo test && cargo fdk image\n";
    text
}

const NEW_HELP: &str = "\
Usage: cargo fdk new <path> [options]

Creates a function crate in <path> (which must not exist, or be empty):
  Cargo.toml      the package, a [[bin]], fn-fdk, a release profile for small binaries
  src/main.rs     a #[fdk::handler] function and a test using fdk::testing
  func.yaml       Fn's schema 20180708: name, version 0.0.1, runtime docker, memory,
                  timeout, an http trigger, and a `build:` step for the stock fn CLI
  Dockerfile      FROM scratch, for `fn build`/`fn deploy` where a Docker daemon exists
  .dockerignore, .gitignore
`cargo test` passes in it as created.

Options:
  --name NAME           the function, package and binary name (default: the last
                        component of <path>); lowercase letters, digits, `-`, `_`
  --fdk-path DIR        depend on the FDK at DIR (a checkout's fdk/ directory)
  --fdk-version VER     depend on fn-fdk VER from the registry
                        (default: this repository's fdk/ when cargo-fdk was built from
                        it and it is still there, else fn-fdk at cargo-fdk's version)
  -h, --help            this text
";

const BUILD_HELP: &str = "\
Usage: cargo fdk build [options]

Builds the function in the current directory (Cargo.toml and func.yaml) as a static
release binary: --target <arch>-unknown-linux-musl when its standard library is
installed, else the host's gnu target with -C target-feature=+crt-static. It always
passes --target, and reads the result's ELF headers to check that it is static (no
program interpreter, no shared libraries) before saying so.

Options:
  --manifest-path PATH  the function's Cargo.toml (default ./Cargo.toml); func.yaml is
                        read from the same directory
  --bin NAME            the binary, when the package has several
  --target TRIPLE       build for TRIPLE (its standard library must be installed)
  --out FILE            also copy the binary to FILE, mode 0755 (func.yaml's build step
                        uses --out .fn/func for the Dockerfile)
  -h, --help            this text
";

const IMAGE_HELP: &str = "\
Usage: cargo fdk image [options]

Builds the function as `cargo fdk build` does, then writes an OCI image with no base
image and no daemon into <target dir>/fdk-image/<name>-<version>/:
  layout/      an OCI image layout (skopeo: oci:<dir>/layout:<version>)
  image.tar    one file that is both an OCI archive and a `docker load` archive
The image holds /function/func and /tmp, runs /function/func in /function, and has
no VOLUME and no USER. Its name and tag are func.yaml's name and version, after
$FN_REGISTRY/ when that is set. The same binary gives the same digests; timestamps
are 1970-01-01, or $SOURCE_DATE_EPOCH.

Options:
  --manifest-path PATH  the function's Cargo.toml (default ./Cargo.toml)
  --bin NAME            the binary, when the package has several
  --target TRIPLE       build for TRIPLE
  --binary FILE         use this static binary instead of building one
  --tag REF             the image reference, [registry/]name:tag
  --out DIR             write the layout and image.tar into DIR
  -h, --help            this text

Then, to a real Fn server:
  docker load -i <dir>/image.tar                     (where a Docker daemon runs), or
  skopeo copy oci:<dir>/layout:<version> docker://<registry>/<name>:<version>
  fn create function <app> <name> <image>
";

const RUN_HELP: &str = "\
Usage: cargo fdk run [options]

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
prefixed with its name. Ctrl-C stops.

Options:
  --manifest-path PATH  the function's Cargo.toml (default ./Cargo.toml)
  --bin NAME            the binary, when the package has several
  --target TRIPLE       build for TRIPLE
  --binary FILE         serve this binary instead of building one
  --addr HOST:PORT      where to listen (default 127.0.0.1:8080)
  --app NAME            the app in trigger URLs (default: app)
  --no-freeze           do not freeze the function between calls
  -h, --help            this text
";

const INVOKE_HELP: &str = "\
Usage: cargo fdk invoke [options]

Sends one call to the function `cargo fdk run` serves, like `fn invoke`: the body
from --body, else stdin (when it is not a terminal), with Content-Type text/plain
unless --content-type says otherwise. Prints the answer's body on stdout. A status
other than 2xx is printed on stderr, with the server's error message, and the exit
status is 1; so is an answer whose body ends before its Content-Length.

Options:
  --manifest-path PATH  the function's Cargo.toml, for its name (default ./Cargo.toml)
  --url URL             the whole URL instead (default http://127.0.0.1:8080/invoke/<name>)
  --addr HOST:PORT      where `cargo fdk run` listens (default 127.0.0.1:8080)
  --body TEXT           the request body
  --content-type TYPE   the request's Content-Type (default text/plain)
  --timeout SECONDS     how long to wait for the answer (default 60)
  -v, --verbose         print the status line and headers on stderr
  -h, --help            this text
";

/// Runs the command line `args` (as `std::env::args()` gives it) and
/// returns the exit code: 0, 1 for a failure, 2 for a usage mistake.
pub fn main(args: Vec<String>) -> ExitCode {
    let mut args: &[String] = args.get(1..).unwrap_or_default();
    // `cargo fdk …` runs `cargo-fdk fdk …`.
    if args.first().is_some_and(|a| a == "fdk") {
        args = &args[1..];
    }
    match dispatch(args) {
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

fn dispatch(args: &[String]) -> Result<()> {
    let Some(first) = args.first() else {
        eprint!("{}", main_help());
        return Err(Error::usage("no command given"));
    };
    match first.as_str() {
        "-h" | "--help" => {
            print!("{}", main_help());
            return Ok(());
        }
        "-V" | "--version" => {
            println!("cargo-fdk {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        "help" => {
            match args.get(1) {
                Some(name) => print!("{}", find(name)?.help),
                None => print!("{}", main_help()),
            }
            return Ok(());
        }
        _ => {}
    }
    let command = find(first)?;
    let rest = &args[1..];
    if rest
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-h" || a == "--help")
    {
        print!("{}", command.help);
        return Ok(());
    }
    (command.run)(rest)
}

fn find(name: &str) -> Result<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name).ok_or_else(|| {
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        Error::usage(format!(
            "no command `{name}` (commands: {})",
            names.join(", ")
        ))
    })
}

/// `cargo fdk run`: the function behind a local stand-in for the Fn server.
fn run_function(args: &[String]) -> Result<()> {
    let started = std::time::Instant::now();
    let mut p = ArgParser::new("run", args);
    let mut build = BuildOptions::default();
    let mut binary = None;
    let mut addr = crate::server::default_addr();
    let mut app = "app".to_owned();
    let mut freeze = true;
    while let Some(arg) = p.next_arg()? {
        if parse_build_option(&mut p, &arg, &mut build)? {
            continue;
        }
        match &arg {
            Arg::Option(o) if o == "--binary" => binary = Some(PathBuf::from(p.value(o)?)),
            Arg::Option(o) if o == "--addr" => {
                let value = p.value(o)?;
                addr = value
                    .parse()
                    .map_err(|_| p.usage(format!("--addr `{value}` is not HOST:PORT")))?;
            }
            Arg::Option(o) if o == "--app" => app = p.value(o)?,
            Arg::Option(o) if o == "--no-freeze" => freeze = false,
            _ => return Err(p.unknown(&arg)),
        }
    }
    let (func, binary) = match binary {
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
        app,
        addr,
        freeze,
        started,
    })
}

/// `cargo fdk invoke`: one call to `cargo fdk run`.
fn invoke_function(args: &[String]) -> Result<()> {
    let mut p = ArgParser::new("invoke", args);
    let mut build = BuildOptions::default();
    let mut url = None;
    let mut addr = crate::server::default_addr().to_string();
    let mut body = None;
    let mut content_type = "text/plain".to_owned();
    let mut timeout = 60u64;
    let mut verbose = false;
    while let Some(arg) = p.next_arg()? {
        match &arg {
            Arg::Option(o) if o == "--manifest-path" => {
                build.manifest_path = Some(PathBuf::from(p.value(o)?));
            }
            Arg::Option(o) if o == "--url" => url = Some(p.value(o)?),
            Arg::Option(o) if o == "--addr" => addr = p.value(o)?,
            Arg::Option(o) if o == "--body" => body = Some(p.value(o)?.into_bytes()),
            Arg::Option(o) if o == "--content-type" => content_type = p.value(o)?,
            Arg::Option(o) if o == "--timeout" => {
                let value = p.value(o)?;
                timeout = value.parse().ok().filter(|&t: &u64| t > 0).ok_or_else(|| {
                    p.usage(format!(
                        "--timeout `{value}` is not a positive number of seconds"
                    ))
                })?;
            }
            Arg::Option(o) if o == "-v" || o == "--verbose" => verbose = true,
            _ => return Err(p.unknown(&arg)),
        }
    }
    let url = match url {
        Some(url) => url,
        None => {
            let func = crate::funcfile::FuncFile::load(&build.function_dir())?;
            format!("http://{addr}/invoke/{}", func.name)
        }
    };
    let body = match body {
        Some(body) => body,
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
        &content_type,
        &body,
        std::time::Duration::from_secs(timeout),
    )?;
    if verbose {
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

/// A small hand-written option parser: `--opt value`, `--opt=value`, flags
/// and positionals, with errors that name the command.
#[derive(Debug)]
pub struct ArgParser<'a> {
    command: &'static str,
    args: std::slice::Iter<'a, String>,
    inline_value: Option<(String, String)>,
}

/// One parsed argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// `--name` or `-x` (its value, if any, comes from [`ArgParser::value`]).
    Option(String),
    /// Anything else.
    Positional(String),
}

impl<'a> ArgParser<'a> {
    /// Parses `args` for `cargo fdk <command>`.
    pub fn new(command: &'static str, args: &'a [String]) -> Self {
        ArgParser {
            command,
            args: args.iter(),
            inline_value: None,
        }
    }

    /// The next argument, or `None` at the end.
    pub fn next_arg(&mut self) -> Result<Option<Arg>> {
        if let Some((name, _)) = self.inline_value.take() {
            return Err(self.usage(format!("{name} takes no value")));
        }
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        if let Some(long) = arg.strip_prefix("--").filter(|l| !l.is_empty()) {
            if let Some((name, value)) = long.split_once('=') {
                let name = format!("--{name}");
                self.inline_value = Some((name.clone(), value.to_owned()));
                return Ok(Some(Arg::Option(name)));
            }
            return Ok(Some(Arg::Option(arg.clone())));
        }
        if arg.len() > 1 && arg.starts_with('-') {
            return Ok(Some(Arg::Option(arg.clone())));
        }
        Ok(Some(Arg::Positional(arg.clone())))
    }

    /// The value of the option just returned.
    pub fn value(&mut self, name: &str) -> Result<String> {
        if let Some((_, value)) = self.inline_value.take() {
            return Ok(value);
        }
        match self.args.next() {
            Some(value) if !value.starts_with("--") => Ok(value.clone()),
            _ => Err(self.usage(format!("{name} needs a value"))),
        }
    }

    /// An error for an option this command does not have.
    pub fn unknown(&self, arg: &Arg) -> Error {
        match arg {
            Arg::Option(name) => self.usage(format!("unknown option {name}")),
            Arg::Positional(value) => self.usage(format!("unexpected argument `{value}`")),
        }
    }

    /// A usage error that names the command.
    pub fn usage(&self, message: String) -> Error {
        Error::usage(format!("cargo fdk {}: {message}", self.command))
    }
}

fn run_new(args: &[String]) -> Result<()> {
    let mut p = ArgParser::new("new", args);
    let (mut path, mut name, mut fdk_path, mut fdk_version) = (None, None, None, None);
    while let Some(arg) = p.next_arg()? {
        match &arg {
            Arg::Option(o) if o == "--name" => name = Some(p.value(o)?),
            Arg::Option(o) if o == "--fdk-path" => fdk_path = Some(PathBuf::from(p.value(o)?)),
            Arg::Option(o) if o == "--fdk-version" => fdk_version = Some(p.value(o)?),
            Arg::Positional(value) if path.is_none() => path = Some(PathBuf::from(value)),
            _ => return Err(p.unknown(&arg)),
        }
    }
    let dir = path.ok_or_else(|| {
        p.usage("give the new function's directory, e.g. `cargo fdk new hello`".into())
    })?;
    let name = match name {
        Some(name) => name,
        None => dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                p.usage(format!(
                    "cannot take a name from {}; use --name",
                    dir.display()
                ))
            })?,
    };
    let fdk = match (fdk_path, fdk_version) {
        (Some(_), Some(_)) => {
            return Err(p.usage("--fdk-path and --fdk-version exclude each other".into()));
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

fn parse_build_option(
    p: &mut ArgParser<'_>,
    arg: &Arg,
    options: &mut BuildOptions,
) -> Result<bool> {
    let Arg::Option(name) = arg else {
        return Ok(false);
    };
    match name.as_str() {
        "--manifest-path" => options.manifest_path = Some(PathBuf::from(p.value(name)?)),
        "--bin" => options.bin = Some(p.value(name)?),
        "--target" => options.target = Some(p.value(name)?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn run_build(args: &[String]) -> Result<()> {
    let mut p = ArgParser::new("build", args);
    let mut options = BuildOptions::default();
    let mut out = None;
    while let Some(arg) = p.next_arg()? {
        if parse_build_option(&mut p, &arg, &mut options)? {
            continue;
        }
        match &arg {
            Arg::Option(o) if o == "--out" => out = Some(PathBuf::from(p.value(o)?)),
            _ => return Err(p.unknown(&arg)),
        }
    }
    let (function, built) = commands::build(&options)?;
    println!(
        "Built {} ({}): {}, {} bytes",
        function.project.bin,
        function.func.name,
        built.path.display(),
        thousands(built.size)
    );
    println!("  {}", describe_static(&built.elf, Some(&built.target)));
    if let Some(out) = out {
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

fn run_image(args: &[String]) -> Result<()> {
    let mut p = ArgParser::new("image", args);
    let mut options = ImageOptions::default();
    while let Some(arg) = p.next_arg()? {
        if parse_build_option(&mut p, &arg, &mut options.build)? {
            continue;
        }
        match &arg {
            Arg::Option(o) if o == "--binary" => options.binary = Some(PathBuf::from(p.value(o)?)),
            Arg::Option(o) if o == "--tag" => options.tag = Some(p.value(o)?),
            Arg::Option(o) if o == "--out" => options.out = Some(PathBuf::from(p.value(o)?)),
            _ => return Err(p.unknown(&arg)),
        }
    }
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

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn parser_reads_values_both_ways_and_names_mistakes() {
        let args = strings(&["--tag", "a:1", "--out=dir", "pos", "-x"]);
        let mut p = ArgParser::new("image", &args);
        assert_eq!(p.next_arg().unwrap(), Some(Arg::Option("--tag".into())));
        assert_eq!(p.value("--tag").unwrap(), "a:1");
        assert_eq!(p.next_arg().unwrap(), Some(Arg::Option("--out".into())));
        assert_eq!(p.value("--out").unwrap(), "dir");
        assert_eq!(p.next_arg().unwrap(), Some(Arg::Positional("pos".into())));
        assert_eq!(p.next_arg().unwrap(), Some(Arg::Option("-x".into())));
        assert_eq!(p.next_arg().unwrap(), None);

        let args = strings(&["--flag=1"]);
        let mut p = ArgParser::new("build", &args);
        p.next_arg().unwrap();
        assert_eq!(
            p.next_arg().unwrap_err().message(),
            "cargo fdk build: --flag takes no value"
        );
        let args = strings(&["--target", "--bin"]);
        let mut p = ArgParser::new("build", &args);
        p.next_arg().unwrap();
        let err = p.value("--target").unwrap_err();
        assert!(err.is_usage());
        assert_eq!(err.message(), "cargo fdk build: --target needs a value");
    }

    #[test]
    fn every_command_has_help_and_a_summary() {
        let help = main_help();
        for command in COMMANDS {
            assert!(help.contains(&format!("  {:<8}  {}", command.name, command.summary)));
            assert!(
                command
                    .help
                    .starts_with(&format!("Usage: cargo fdk {}", command.name))
            );
        }
        assert_eq!(dispatch(&strings(&["image", "--help"])), Ok(()));
        assert_eq!(dispatch(&strings(&["help", "build"])), Ok(()));
        let err = dispatch(&strings(&["deploy"])).unwrap_err();
        assert!(
            err.is_usage()
                && err
                    .message()
                    .starts_with("no command `deploy` (commands: new, build, image, run, invoke)")
        );
        let err = dispatch(&strings(&["build", "--nope"])).unwrap_err();
        assert_eq!(
            (err.message(), err.exit_code()),
            ("cargo fdk build: unknown option --nope", 2)
        );
    }

    #[test]
    fn run_and_invoke_refuse_bad_options_with_one_clear_line() {
        let err = dispatch(&strings(&["run", "--addr", "nope"])).unwrap_err();
        assert!(
            err.is_usage() && err.message().contains("HOST:PORT"),
            "{err}"
        );
        let err = dispatch(&strings(&["invoke", "--url", "ftp://x/", "--body", "a"])).unwrap_err();
        assert!(err.is_usage() && err.message().contains("http://"), "{err}");
        // Nothing listens on port 1: the message says what to start.
        let err = dispatch(&strings(&[
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
