//! UI tests of `#[fdk::handler]`: what compiles, and what each mistake looks
//! like to the user. After a change, regenerate the snapshots with
//! `TRYBUILD=overwrite cargo test -p fn-fdk-macros --test ui`, then read them.

use std::process::Command;

#[test]
fn ui() {
    // trybuild runs every pass case once it builds (`cargo run`). A pass
    // case is a function binary: its `main` wants the Fn server's
    // environment (`FN_LISTENER`, ...) and exits with an error without it.
    // So cargo's runner for the target is `true`: the cases are built and
    // linked, never run.
    let host = host_tuple().expect("`rustc -vV` names the host");
    let runner = format!(
        "CARGO_TARGET_{}_RUNNER",
        host.to_uppercase().replace(['-', '.'], "_")
    );
    // SAFETY: this is the only test of this binary, and no other thread
    // has been started that could read or write the environment meanwhile.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var(runner, "true");
    }

    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

/// The host's target tuple, as `rustc -vV` prints it.
fn host_tuple() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("-vV").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?;
    version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
}
