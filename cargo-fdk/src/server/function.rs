//! The thread that owns the function: the emulator's agent, started with
//! the server's environment, serving the queue one call at a time, swapped
//! for a new build under `--watch`, and the server's answer to a call that
//! failed before the function answered.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use fn_emulator::outcome::{Fate, ServerView};
use fn_emulator::wire as wire_names;
use fn_emulator::{Agent, AgentError, Call, StartOptions};
use tokio::sync::oneshot;

use super::answer::client_answer;
use super::log_tail::LogTail;
use super::options::RunOptions;
use super::wire::{GoHeader, INTERNAL, Wire, server_error};
use crate::funcfile::FuncFile;
use crate::sandbox::Sandbox;

/// What the function's thread is asked to do.
pub(super) enum Msg {
    /// Serve one call.
    Call(Job),
    /// Serve this build from now on (`--watch`): started before the old
    /// one stops, so a build that does not start changes nothing.
    Swap(crate::watch::NewBuild),
    /// Stop: the agent kills the function and removes its directory.
    Stop,
}

/// One request for the function, and where its answer goes.
pub(super) struct Job {
    pub(super) call: Call,
    pub(super) label: String,
    /// The server's transport asked for gzip itself (the call carries no
    /// `Accept-Encoding` of the client's), so it decodes a gzip answer.
    pub(super) transport_gzip: bool,
    pub(super) reply: oneshot::Sender<Wire>,
}

/// The function's thread: owns the agent, serves the queue in order.
pub(super) fn function_thread(
    options: RunOptions,
    sandbox: Sandbox,
    queue: mpsc::Receiver<Msg>,
    ready: mpsc::Sender<std::result::Result<(Duration, u32), String>>,
) {
    let (mut agent, mut start, mut tail) =
        match started_agent(&sandbox, &options.binary, &options.func, options.freeze) {
            Ok((agent, start, tail, ready_after, pid)) => {
                let _ = ready.send(Ok((ready_after, pid)));
                (agent, start, tail)
            }
            Err(why) => {
                let _ = ready.send(Err(why));
                return;
            }
        };
    // Whether a call moved enough bytes that the allocator may be holding
    // freed memory worth returning once the server is idle.
    let mut large_since_trim = false;
    loop {
        let msg = match queue.recv_timeout(TRIM_WHEN_IDLE) {
            Ok(msg) => msg,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if std::mem::take(&mut large_since_trim) {
                    release_freed_memory();
                }
                continue;
            }
        };
        match msg {
            Msg::Call(job) => {
                let answer = serve_one(&mut agent, &start, &job, &mut tail);
                large_since_trim |=
                    job.call.body_len() >= LARGE_CALL || answer.body.len() >= LARGE_CALL;
                let _ = job.reply.send(answer);
            }
            Msg::Swap(build) => {
                let func = build.func.as_ref().unwrap_or(&options.func);
                match started_agent(&sandbox, &build.binary, func, options.freeze) {
                    Ok((new_agent, new_start, new_tail, ready_after, pid)) => {
                        println!(
                            "watch: the new build serves now (pid {pid}, ready {} ms after exec)",
                            ready_after.as_millis()
                        );
                        // Dropping the old agent thaws and kills its function.
                        (agent, start, tail) = (new_agent, new_start, new_tail);
                    }
                    Err(why) => {
                        println!("watch: {why}; the last good build keeps serving");
                    }
                }
            }
            Msg::Stop => break,
        }
    }
    // Thaws and kills the function, removes its directory.
    drop(agent);
    tail.print();
}

/// An agent whose function `binary` has started with `func`'s settings,
/// with what it needs to serve: its start options, its log's tail, and the
/// start's time and pid. The error is one line.
fn started_agent(
    sandbox: &Sandbox,
    binary: &std::path::Path,
    func: &FuncFile,
    freeze: bool,
) -> std::result::Result<(Agent, StartOptions, LogTail, Duration, u32), String> {
    let (command, host_why) = sandbox
        .command(&func.name, binary)
        .map_err(|e| e.to_string())?;
    if let Some(why) = &host_why {
        println!("sandbox: {why}");
    }
    let contained = matches!(sandbox, Sandbox::Server(_)) && host_why.is_none();
    let mut agent =
        Agent::new(command).map_err(|e| format!("could not prepare a work directory: {e}"))?;
    if contained {
        // The server's cgroup too where it can be made: its memory limit,
        // 50 tasks and the real freezer (otherwise stop signals).
        if let Ok(cgroups) =
            fn_emulator::sandbox::Sandbox::new(fn_emulator::sandbox::Mode::Auto, None)
        {
            agent.set_sandbox(std::sync::Arc::new(cgroups));
        }
    }
    agent.set_freeze(freeze);
    let start = start_options(func);
    let mut tail = LogTail::new(agent.log_path().to_owned(), &func.name);
    let started = agent
        .start(start.clone())
        .map(|f| (f.ready_after(), f.pid()));
    tail.print();
    match started {
        Ok((ready_after, pid)) => Ok((agent, start, tail, ready_after, pid)),
        Err(error) => Err(format!("the function did not start: {}", error.what)),
    }
}

/// A call with a body (either way) of at least this many bytes makes the
/// function thread return freed memory once the server is idle.
const LARGE_CALL: usize = 1 << 20;
/// How long the queue must be empty before that.
const TRIM_WHEN_IDLE: Duration = Duration::from_millis(500);

/// Returns the allocator's free pages to the system. glibc keeps freed
/// memory for reuse, and after large calls (up to `MAX_BODY` each, a few
/// copies per call) that is tens of MiB (64 MiB after 32 calls of 9 MiB,
/// measured) that a server sitting idle on a developer's machine has no use
/// for. No safe wrapper exists; this is the crate's only `unsafe`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_freed_memory() {
    // SAFETY: `malloc_trim` takes no pointers and only gives free pages
    // back to the kernel; glibc's allocator locks make it safe to call
    // while other threads allocate.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators (musl's) give large blocks back on `free`.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}

/// What the server makes of an agent's failure: the view the agent
/// attached (a start failure, a refused dial), else the server's generic
/// 500.
fn failure_view(error: &AgentError) -> ServerView {
    error.server.clone().unwrap_or(ServerView {
        client_status: 500,
        message: Some(INTERNAL),
        container: Fate::Killed,
    })
}

fn start_options(func: &FuncFile) -> StartOptions {
    let mut env_set: Vec<(String, String)> = func
        .config
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(memory) = func.memory {
        env_set.push(("FN_MEMORY".into(), memory.to_string()));
    }
    StartOptions {
        env_set,
        ..StartOptions::default()
    }
}

/// Serves one call as the server does: a process that exited on its own
/// since the last call fails this one (the server's call finds a dead
/// container: 502 "error receiving function response"), a container that
/// is gone is replaced first (a cold start), the call goes over the
/// harness, and a container the server would kill is discarded, so the next
/// call starts a new one. The same model as [`Harness::serve`], which gives
/// no call id or headers.
fn serve_one(agent: &mut Agent, start: &StartOptions, job: &Job, tail: &mut LogTail) -> Wire {
    let began = Instant::now();
    if agent.pid().is_some() && !agent.alive() {
        tail.print();
        println!("  the function exited on its own since the last call");
        let view = ServerView {
            client_status: 502,
            message: Some("error receiving function response"),
            container: Fate::Killed,
        };
        return failed_call(agent, job, view, began);
    }
    if agent.pid().is_none() {
        println!("starting a new container");
        let name = agent.command().name.clone();
        match agent.start(start.clone()) {
            Ok(f) => println!(
                "{name} is ready (pid {}, {} ms after exec)",
                f.pid(),
                f.ready_after().as_millis()
            ),
            Err(error) => {
                tail.print();
                println!("  {}", error.what);
                return failed_call(agent, job, failure_view(&error), began);
            }
        }
    }
    let exchange = match agent.call(&job.call) {
        Ok(ex) => ex,
        Err(error) => {
            tail.print();
            println!("  {}", error.what);
            return failed_call(agent, job, failure_view(&error), began);
        }
    };
    tail.print();
    let (answer, view) = client_answer(&exchange, job.call.kind(), job.transport_gzip);
    log_call(&exchange.call_id, job, answer.status, began, &view);
    if view.container == Fate::Killed {
        println!("  the server would kill this container: the next call starts a new one");
        agent.discard();
    }
    answer
}

/// A call that failed before it got an answer (the container did not
/// start, had died, or refused the dial): the server's error with a new
/// call id; whatever is left of the container is not used again.
fn failed_call(agent: &mut Agent, job: &Job, view: ServerView, began: Instant) -> Wire {
    let call_id = agent.next_call_id();
    let mut map = GoHeader::default();
    map.add(wire_names::CALL_ID, &call_id);
    let answer = server_error(view.client_status, view.message.unwrap_or(INTERNAL), map);
    log_call(&call_id, job, answer.status, began, &view);
    if agent.pid().is_some() {
        println!("  the server would kill this container: the next call starts a new one");
    }
    agent.discard();
    answer
}

fn log_call(call_id: &str, job: &Job, status: u16, began: Instant, view: &ServerView) {
    println!(
        "call {call_id}: {} -> {status} in {:.1} ms ({view})",
        job.label,
        began.elapsed().as_secs_f64() * 1000.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness's failures before an answer: its view (a start failure,
    /// a refused dial), else the server's generic 500.
    #[test]
    fn failures_before_an_answer_use_the_harness_view() {
        let failure = AgentError {
            what: "could not connect".to_owned(),
            server: Some(ServerView {
                client_status: 502,
                message: Some("error receiving function response"),
                container: Fate::Killed,
            }),
        };
        assert_eq!(failure_view(&failure).client_status, 502);
        assert_eq!(failure_view(&AgentError::new("x")).client_status, 500);
    }

    #[test]
    fn start_options_carry_config_and_memory() {
        let mut func = FuncFile::new("hello");
        func.config.insert("GREETING".into(), "hi".into());
        func.memory = Some(256);
        let options = start_options(&func);
        assert!(options.env_set.contains(&("GREETING".into(), "hi".into())));
        assert!(
            options
                .env_set
                .contains(&("FN_MEMORY".into(), "256".into()))
        );
    }
}
