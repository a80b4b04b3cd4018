//! `fdk-conformance run --format json|http|default|cloudevent`: the cases
//! of the four stdin/stdout formats of Fn 0.3.602, played with the
//! emulator's side of those formats ([`fn_emulator::stdio`]: the request
//! bytes, reading answers as the server did, what the server made of them).
//!
//! [`harness`] is what a case works with (calls, the running process, the
//! evidence a failure shows); the run itself is [`crate::suite`]'s.

pub(crate) mod call;
pub(crate) mod harness;

pub(crate) use fn_emulator::stdio::StdioFormat;
