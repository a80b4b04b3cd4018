//! `fdk-conformance`: placeholder until the harness lands.

fn main() {}
