//! Calls, as the server made them: a hot process's request written and its
//! answer read and classified, or a `default` call's new process.

use std::time::{Duration, Instant, SystemTime};

use fn_emulator::golang::all_unicode_space;
use fn_emulator::outcome::Fate;
use fn_emulator::stdio::process::{ColdEnd, Pulled, run_cold};
use fn_emulator::stdio::read::{Decoded, Reader, Step};
use fn_emulator::stdio::served::{End, Served, exit_code};
use fn_emulator::stdio::wire::{
    CallMeta, cloudevent_request, deadline_string, default_env, http_request, json_request,
};

use super::{EXCESS_WINDOW, StdioHarness};
use crate::stdio::StdioFormat;
use crate::stdio::call::StdioCall;
use crate::verdict::Verdict;

/// A call written to a hot process whose response is not read yet.
#[derive(Debug)]
pub(crate) struct InFlight {
    meta: CallMeta,
    method: String,
    sent: Vec<u8>,
    started: Instant,
    until: Instant,
}

impl InFlight {
    /// What the server made of this call: it ended as `end`, `took` after
    /// it started, with `stdout` (the response's bytes) and `trailing`.
    fn served(
        self,
        format: StdioFormat,
        (stdout, trailing): (Vec<u8>, Vec<u8>),
        end: End,
        took: Duration,
        process: String,
    ) -> Served {
        Served {
            format,
            call_id: self.meta.call_id,
            deadline: self.meta.deadline,
            sent: self.sent,
            stdout,
            trailing,
            view: end.view(format),
            end,
            took,
            process,
        }
    }
}

impl StdioHarness {
    /// Makes one call as the server made it, and classifies it.
    pub(crate) fn call(&mut self, call: &StdioCall) -> Result<Served, Verdict> {
        if self.format.is_hot() {
            let flight = self.start_call(call)?;
            Ok(self.finish_call(flight))
        } else {
            self.cold_call(call)
        }
    }

    fn meta(&mut self, call: &StdioCall) -> CallMeta {
        let call_id = self.next_call_id();
        let deadline = call
            .raw_deadline
            .clone()
            .unwrap_or_else(|| deadline_string(SystemTime::now() + call.timeout));
        CallMeta { call_id, deadline }
    }

    /// Writes a call's request to the hot process (hot formats only).
    pub(crate) fn start_call(&mut self, call: &StdioCall) -> Result<InFlight, Verdict> {
        let (sent, meta) = self.request_bytes(call)?;
        self.write_request(sent, meta, &call.req.method, call.timeout + call.patience)
    }

    /// The bytes a call's request would be written as (hot formats), with
    /// its call id and deadline.
    pub(crate) fn request_bytes(
        &mut self,
        call: &StdioCall,
    ) -> Result<(Vec<u8>, CallMeta), Verdict> {
        let meta = self.meta(call);
        let sent = match self.format {
            StdioFormat::Json => json_request(&call.req, &meta),
            StdioFormat::Http => http_request(&call.req, &meta),
            StdioFormat::Cloudevent => cloudevent_request(&call.req, &meta)
                .map_err(|e| Verdict::fail(format!("harness error: {e}")))?,
            StdioFormat::Default => {
                return Err(Verdict::fail(
                    "harness error: default calls have no stream to write to",
                ));
            }
        };
        Ok((sent, meta))
    }

    /// Writes `bytes` as if they were a request (the server never sent
    /// such bytes; `method` says how to read the answer) and reads one
    /// response, giving up after `limit`.
    pub(crate) fn send_raw(
        &mut self,
        bytes: &[u8],
        method: &str,
        limit: Duration,
    ) -> Result<Served, Verdict> {
        let meta = CallMeta {
            call_id: String::new(),
            deadline: String::new(),
        };
        let flight = self.write_request(bytes.to_vec(), meta, method, limit)?;
        Ok(self.finish_call(flight))
    }

    fn write_request(
        &mut self,
        sent: Vec<u8>,
        meta: CallMeta,
        method: &str,
        limit: Duration,
    ) -> Result<InFlight, Verdict> {
        let p = self.running()?;
        let started = Instant::now();
        p.calls += 1;
        // A failed write shows as the process's end below.
        let _ = p.write(sent.clone());
        Ok(InFlight {
            meta,
            method: method.to_owned(),
            sent,
            started,
            until: started + limit,
        })
    }

    /// Reads and classifies the response to `flight`; kills the process if
    /// the server would have, else freezes it.
    pub(crate) fn finish_call(&mut self, flight: InFlight) -> Served {
        let format = self.format;
        let freeze = self.freeze;
        let max = self.max_response;
        let gone = self.gone.take();
        let Some(p) = self.current.as_mut() else {
            let end = End::Exited {
                partial: false,
                status: None,
            };
            let took = flight.started.elapsed();
            let nothing = (Vec::new(), Vec::new());
            return flight.served(format, nothing, end, took, "no process".into());
        };
        let mut process = format!("process {}, call {} on it", p.pid(), p.calls);
        if p.calls == 1 {
            process.push_str(&format!(
                " (a new process{})",
                gone.map_or(String::new(), |g| format!(": {g}"))
            ));
        }
        let mut reader = Reader::new(format, &flight.method);
        let mut eof = false;
        let (end, used) = loop {
            match reader.feed(p.pending(), eof) {
                // The server's clamp cut stdout at the limit: the response
                // never completed (`common.NewClampWriter`).
                Step::Done { used, .. } if max.is_some_and(|max| used > max) => {
                    break (End::TooLarge(used), used);
                }
                Step::Done { used, decoded } => {
                    let end = match decoded {
                        Decoded::Response(response) => End::Answered {
                            response,
                            excess: None,
                        },
                        Decoded::Undecodable(e) => End::Undecodable(e),
                        Decoded::Unmappable(e) => End::Unmappable(e),
                        Decoded::Crash(e) => End::Crash(e),
                    };
                    break (end, used);
                }
                Step::Bad(e) => break (End::Undecodable(e), p.pending().len()),
                Step::Ended { partial } => {
                    let end = match p.read_error() {
                        Some(e) => End::Undecodable(format!("reading stdout failed: {e}")),
                        None => End::Exited {
                            partial,
                            status: p.wait_exit(Duration::from_millis(200)),
                        },
                    };
                    break (end, p.pending().len());
                }
                // Every reader decides at the end of the stream; be safe.
                Step::More if eof => {
                    break (
                        End::Exited {
                            partial: true,
                            status: p.wait_exit(Duration::from_millis(200)),
                        },
                        p.pending().len(),
                    );
                }
                Step::More => {}
            }
            if let Some(max) = max
                && p.pending().len() > max
            {
                break (End::TooLarge(p.pending().len()), p.pending().len());
            }
            match p.pull(flight.until) {
                Pulled::Bytes => {}
                Pulled::Eof => eof = true,
                Pulled::Timeout => break (End::TimedOut, p.pending().len()),
            }
        };
        let took = flight.started.elapsed();
        let stdout = p.consume(used);

        // SIO-IO-8: what follows a response within 100 ms.
        let mut trailing = Vec::new();
        let mut end = end;
        if let End::Answered { excess, .. } = &mut end {
            let until = Instant::now() + EXCESS_WINDOW;
            while p.pull(until) == Pulled::Bytes {}
            trailing = p.consume(p.pending().len());
            let is_excess = match format {
                StdioFormat::Json | StdioFormat::Cloudevent => !all_unicode_space(&trailing),
                _ => !trailing.is_empty(),
            };
            if is_excess {
                *excess = Some(trailing.clone());
            }
            // stdout ended with the response: the process is exiting; reap
            // it, so that the next call knows it is gone.
            if p.stdout_ended() {
                let _ = p.wait_exit(Duration::from_millis(200));
            }
        }
        if end.view(format).fate == Fate::Killed {
            let why = match &end {
                End::TimedOut => "the server killed the previous process at the call's deadline",
                End::Answered { .. } => "the server killed the previous process for excess data",
                End::Exited { .. } => "the previous process exited during a call",
                _ => "the server killed the previous process after a response it could not use",
            };
            self.discard(why);
        } else if freeze && let Some(p) = self.current.as_mut() {
            p.freeze();
        }
        flight.served(format, (stdout, trailing), end, took, process)
    }

    /// One `default` call: a new process with the per-call environment.
    fn cold_call(&mut self, call: &StdioCall) -> Result<Served, Verdict> {
        let meta = self.meta(call);
        let mut env = self.env();
        env.extend(default_env(&call.req, &meta));
        let mut sent = String::new();
        for (k, v) in &env {
            sent.push_str(&format!("{k}={v}\n"));
        }
        let mut sent = format!("environment:\n{sent}stdin, then EOF:\n").into_bytes();
        sent.extend_from_slice(&call.req.body);
        let started = Instant::now();
        let until = started + call.timeout + call.patience;
        let launch = self.launch(env);
        let run = run_cold(&launch, &call.req.body, call.pieces, call.pause, until)
            .map_err(|e| self.not_executed(&e))?;
        let took = started.elapsed();
        let (end, process) = match run.end {
            ColdEnd::Exited(status) => {
                let code = exit_code(status);
                let end = if code == 0 {
                    End::cold_success(run.stdout.clone())
                } else {
                    End::ExitCode(code)
                };
                (end, format!("process {} (one per call), {status}", run.pid))
            }
            ColdEnd::TimedOut => (
                End::TimedOut,
                format!("process {} (one per call), killed at the deadline", run.pid),
            ),
        };
        let flight = InFlight {
            meta,
            method: String::new(),
            sent,
            started,
            until,
        };
        Ok(flight.served(self.format, (run.stdout, Vec::new()), end, took, process))
    }
}
