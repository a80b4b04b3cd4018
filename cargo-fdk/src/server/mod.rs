//! `cargo fdk run`: a local stand-in for the Fn server.
//!
//! The front end is HTTP/1.1 on 127.0.0.1 with the server's two entry
//! points, `POST /invoke/<function>` and the HTTP triggers
//! `/t/<app>/<source>`. The back end is the server emulator's agent
//! ([`fn_emulator::Agent`], shared with `fdk-conformance`): the function runs hot, started
//! with the server's environment and judged ready by the same inotify
//! event, frozen between calls, called with the server's exact bytes, and
//! every answer classified as the server would (the client's status and
//! message, and whether the container is kept or killed). Nothing about
//! the classification is written twice: this module only turns the
//! agent's view of a call into the bytes the server's front end writes
//! ([`wire`]), with the server's exact error bodies and head order.
//!
//! One call at a time reaches the function, as on the server: the agent
//! lives on a thread of its own and takes calls from a queue.
//!
//! The front end is on a developer's machine but may still meet hostile
//! clients: its limits (head size as Go's, header and body timeouts, at
//! most `BODY_SLOTS` bodies in memory, a quiet backoff when `accept`
//! fails) are the constants of `accept` and `front`, and
//! cargo-fdk/README.md compares each with the Fn server.
//!
//! The parts, one a file:
//!
//! * `options`: what `cargo fdk run` serves ([`RunOptions`]) and where it
//!   listens by default;
//! * `accept`: the accept loop, hyper's connection settings, and the
//!   backoff and rate-limited log when `accept` fails;
//! * `front`: one client request: the route, the body, the call handed to
//!   the function's thread, and the answer as hyper sends it;
//! * `function`: the thread that owns the function (the agent), one call
//!   at a time, and the server's answer when a call fails before the
//!   function answers;
//! * `answer`: the function's answer turned into the client's, as the
//!   server turns it (gzip, the function's headers, the trigger's filter);
//! * `log_tail`: the function's log, printed as it grows;
//! * `wire`: the bytes written to the client, as Go writes them.

mod accept;
mod answer;
mod front;
mod function;
mod log_tail;
mod options;
mod wire;

use std::sync::mpsc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::sandbox::Sandbox;
use function::{Msg, function_thread};

pub use options::{RunOptions, default_addr};

/// Serves until Ctrl-C (SIGINT) or SIGTERM. Prints where, and each call.
pub fn run(options: RunOptions) -> Result<()> {
    let started = options.started;
    let (jobs, queue) = mpsc::channel::<Msg>();
    let (ready_tx, ready_rx) = mpsc::channel::<std::result::Result<(Duration, u32), String>>();
    let sandbox = Sandbox::choose(options.sandbox);
    println!("{}", sandbox.describe());
    let worker_options = options.clone();
    let worker = std::thread::Builder::new()
        .name("fdk-run-function".into())
        .spawn(move || function_thread(worker_options, sandbox, queue, ready_tx))
        .map_err(|e| Error::new(format!("could not start the function thread: {e}")))?;
    match ready_rx.recv() {
        Ok(Ok((ready, pid))) => println!(
            "{} is ready (pid {pid}, {} ms after exec, {} ms after `cargo fdk run` started)",
            options.func.name,
            ready.as_millis(),
            started.elapsed().as_millis()
        ),
        Ok(Err(why)) => return Err(Error::new(why)),
        Err(_) => return Err(Error::new("the function thread ended before the start")),
    }

    if let Some(source) = options.watch.clone() {
        let swaps = jobs.clone();
        crate::watch::spawn(source, move |build| {
            let _ = swaps.send(Msg::Swap(build));
        })
        .map_err(|e| Error::new(format!("could not start the watcher: {e}")))?;
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("could not build the async runtime: {e}")))?;
    let served = runtime.block_on(accept::serve(options, jobs.clone(), started));
    // The connections' tasks still hold senders: ask the thread to stop
    // rather than wait for them, and wait until the function is gone (the
    // agent kills it and removes its directory when dropped).
    let _ = jobs.send(Msg::Stop);
    drop(runtime);
    let _ = worker.join();
    served
}
