//! The emulator's HTTP/1.1 response reader (what the harness and `cargo
//! fdk run` read every function answer with) on arbitrary bytes. Besides
//! not panicking: the first byte picks a cut, and the rest read in two
//! parts split there (and through a buffer of that size) reads exactly as
//! it does whole, as a sans-IO reader must.

#![no_main]

use std::io::{BufReader, Read};

use fn_emulator::http1::read_response;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let whole = read_response(&mut &rest[..]);
    let cut = usize::from(cut) % (rest.len() + 1);
    let parts = (&rest[..cut]).chain(&rest[cut..]);
    let mut reader = BufReader::with_capacity(cut.max(1), parts);
    let split = read_response(&mut reader);
    match (&whole, &split) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "cut at {cut}"),
        (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "cut at {cut}"),
        _ => panic!("cut at {cut}: whole {whole:?}, split {split:?}"),
    }
});
