//! A std-only http-stream function for `tests/run.rs`, compiled there with
//! `rustc`: it answers with a head and then cuts its body short, as the
//! request header `X-Cut` (or, through a trigger, `Fn-Http-H-X-Cut`) asks.
//!
//! * no `X-Cut`: `200`, body `pid <its pid>`, keep-alive;
//! * `length`: a `200` head with `Content-Length: 10`, `Fn-Fdk-Version` and
//!   `X-Mine`, 3 body bytes, then the connection closes;
//! * `chunked`: a chunked `200` head, one chunk, then the connection closes;
//! * `stall`: a `200` head with `Content-Length: 100`, 3 body bytes, then
//!   nothing (the call runs into its deadline).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

fn main() {
    let listener = std::env::var("FN_LISTENER").expect("FN_LISTENER");
    let public = PathBuf::from(listener.strip_prefix("unix:").expect("unix:"));
    let name = public
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    let private = public.with_file_name(format!("phony{name}"));
    let _ = std::fs::remove_file(&public);
    let _ = std::fs::remove_file(&private);
    let socket = UnixListener::bind(&private).expect("bind");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    std::os::unix::fs::symlink(format!("phony{name}"), &public).expect("symlink");
    for stream in socket.incoming() {
        let Ok(stream) = stream else { continue };
        serve(stream);
    }
}

/// Serves the calls of one connection, one after another.
fn serve(stream: UnixStream) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut cut = None;
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "x-cut" | "fn-http-h-x-cut" => cut = Some(v.to_owned()),
                "content-length" => length = v.parse().unwrap_or(0),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
        if chunked {
            // Read to the last chunk (the calls of the tests are small).
            let mut seen = Vec::new();
            while !seen.ends_with(b"0\r\n\r\n") {
                let mut byte = [0u8];
                if reader.read_exact(&mut byte).is_err() {
                    return;
                }
                seen.push(byte[0]);
            }
        } else {
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
        }
        let stream = reader.get_mut();
        match cut.as_deref() {
            Some("length") => {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nFn-Fdk-Version: cut/0\r\n\
                      X-Mine: m\r\nContent-Length: 10\r\n\r\nabc",
                );
                return;
            }
            Some("chunked") => {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
                      Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
                );
                return;
            }
            Some("stall") => {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nabc",
                );
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            _ => {
                let body = format!("pid {}", std::process::id());
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if stream.write_all(head.as_bytes()).is_err()
                    || stream.write_all(body.as_bytes()).is_err()
                {
                    return;
                }
            }
        }
    }
}
