//! `cargo-fdk`: run as `cargo fdk <command>` once on `PATH`.

fn main() -> std::process::ExitCode {
    cargo_fdk::cli::main(std::env::args_os())
}
