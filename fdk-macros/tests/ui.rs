//! UI tests of `#[fdk::handler]`: what compiles, and what each mistake looks
//! like to the user. After a change, regenerate the snapshots with
//! `TRYBUILD=overwrite cargo test -p fn-fdk-macros --test ui`, then read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
