//! The sequence played by a real Fn server: every mode is a function of one
//! app, its image a per-mode tag of the fixture image (so that docker's
//! events name the mode), its mode in its config. Each call goes to the
//! server's `/invoke` or trigger endpoint over HTTP; whether the container
//! survived is read from docker's `die` events between one call and the
//! next.
//!
//! Needs the server's API address and a `docker` command that reaches the
//! server's daemon (`DOCKER_HOST`); `scripts/oracle.sh` sets both up.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::{
    FN_IDLE_TIMEOUT_SECS, FN_MEMORY_MB, FN_TIMEOUT_SECS, MODE_VARIABLE, Route, Row, SETTLE,
    message_of, sequence,
};
use crate::Error;
use fn_emulator::outcome::Fate;

/// How long one request to the server may take before the oracle gives up
/// (the slowest call of the sequence waits for a 5 s init timeout).
const REQUEST_LIMIT: Duration = Duration::from_secs(60);

/// A real Fn server to play the sequence against.
#[derive(Debug)]
pub(crate) struct Server {
    api: Api,
    app: String,
    app_id: String,
    image: String,
}

impl Server {
    /// Connects to the API at `api` (`http://host:port`), creating the app
    /// `app` if needed; functions will run tags of `image`.
    pub(crate) fn new(api: &str, app: &str, image: &str) -> Result<Self, Error> {
        let api = Api::new(api)?;
        let created = api.send("POST", "/v2/apps", Some(json!({ "name": app })))?;
        let app_id = match created {
            (200, v) => id_of(&v)?,
            (409, _) => {
                let (_, list) = api.send("GET", &format!("/v2/apps?name={app}"), None)?;
                list.get("items")
                    .and_then(|items| items.get(0))
                    .map(id_of)
                    .ok_or_else(|| Error::Usage(format!("app {app} exists but is not listed")))??
            }
            (status, v) => {
                return Err(Error::Usage(format!(
                    "the server refused to create app {app}: {status} {v}"
                )));
            }
        };
        Ok(Self {
            api,
            app: app.to_owned(),
            app_id,
            image: image.to_owned(),
        })
    }

    /// The same server and app with a client of its own, for another
    /// thread (each client has its own runtime).
    pub(crate) fn another_client(&self) -> Result<Self, Error> {
        Ok(Self {
            api: Api::new(&self.api.base)?,
            app: self.app.clone(),
            app_id: self.app_id.clone(),
            image: self.image.clone(),
        })
    }

    /// Plays the sequence against the fixture in `mode`; one row per call.
    pub(crate) fn run_mode(&self, mode: &str) -> Result<Vec<Row>, Error> {
        // A tag of this run's own (the app is named per run): containers
        // left by an earlier run cannot be taken for this one's.
        let repo = self.image.split(':').next().unwrap_or(&self.image);
        let tag = format!("{repo}-{mode}:{}", self.app);
        docker(&["tag", &self.image, &tag])?;
        let fn_id = self.create_fn(mode, &tag)?;
        let events = Events::watch(&tag)?;
        let mut starts = Vec::new();
        let mut answers = Vec::new();
        let mut last_end = Instant::now();
        for step in sequence() {
            step.wait_after(last_end);
            let path = match step.route {
                Route::Invoke => format!("/invoke/{fn_id}"),
                Route::Trigger => format!("/t/{}/{mode}", self.app),
            };
            let mut headers = vec![("Content-Type", "text/plain")];
            if let Some(op) = step.probe {
                headers.push(("X-Probe", op));
            }
            starts.push(now_nanos());
            let (status, body) = self.api.raw("POST", &path, &headers, step.body.clone())?;
            last_end = Instant::now();
            answers.push((step.name, status, message_of(status, &body)));
        }
        std::thread::sleep(SETTLE);
        starts.push(now_nanos());
        let deaths = events.stop()?;
        let statuses: Vec<u16> = answers.iter().map(|(_, status, _)| *status).collect();
        let rows = answers
            .into_iter()
            .zip(fates(&statuses, &starts, &deaths))
            .map(|((step, status, message), fate)| Row {
                mode: mode.to_owned(),
                step: step.to_owned(),
                status,
                message,
                fate,
            })
            .collect();
        self.api.send("DELETE", &format!("/v2/fns/{fn_id}"), None)?;
        remove_containers(&tag);
        Ok(rows)
    }

    /// Creates the mode's function and its trigger; returns the fn id.
    fn create_fn(&self, mode: &str, image: &str) -> Result<String, Error> {
        let mut config = serde_json::Map::new();
        config.insert(MODE_VARIABLE.to_owned(), Value::from(mode));
        let body = json!({
            "app_id": self.app_id,
            "name": mode,
            "image": image,
            "timeout": FN_TIMEOUT_SECS,
            "idle_timeout": FN_IDLE_TIMEOUT_SECS,
            "memory": FN_MEMORY_MB,
            "config": config,
        });
        let fn_id = match self.api.send("POST", "/v2/fns", Some(body.clone()))? {
            (200, v) => id_of(&v)?,
            (409, _) => {
                // Left over from an earlier run: replace it.
                let query = format!("/v2/fns?app_id={}&name={mode}", self.app_id);
                let (_, list) = self.api.send("GET", &query, None)?;
                if let Some(old) = list.get("items").and_then(|i| i.get(0)) {
                    self.api
                        .send("DELETE", &format!("/v2/fns/{}", id_of(old)?), None)?;
                }
                match self.api.send("POST", "/v2/fns", Some(body))? {
                    (200, v) => id_of(&v)?,
                    (status, v) => return Err(refused("fn", mode, status, &v)),
                }
            }
            (status, v) => return Err(refused("fn", mode, status, &v)),
        };
        let trigger = json!({
            "app_id": self.app_id,
            "fn_id": fn_id,
            "name": mode,
            "type": "http",
            "source": format!("/{mode}"),
        });
        match self.api.send("POST", "/v2/triggers", Some(trigger))? {
            (200, _) => Ok(fn_id),
            (status, v) => Err(refused("trigger", mode, status, &v)),
        }
    }
}

fn refused(what: &str, mode: &str, status: u16, body: &Value) -> Error {
    Error::Usage(format!(
        "the server refused to create the {what} for {mode}: {status} {body}"
    ))
}

fn id_of(v: &Value) -> Result<String, Error> {
    v.get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Usage(format!("no id in the server's answer {v}")))
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Runs `docker ARGS`, failing with its stderr.
fn docker(args: &[&str]) -> Result<String, Error> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("could not run docker", e))?;
    if !out.status.success() {
        return Err(Error::Usage(format!(
            "docker {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Removes the containers still running `image` (the server keeps idle ones).
fn remove_containers(image: &str) {
    let Ok(listing) = docker(&["ps", "-a", "--format", "{{.ID}} {{.Image}}"]) else {
        return;
    };
    for line in listing.lines() {
        if let Some((id, used)) = line.split_once(' ')
            && used == image
        {
            let _ = docker(&["rm", "-f", id]);
        }
    }
}

/// Each call's fate from the deaths docker reported: a death between a
/// call's start and the next call's start is that call's.
///
/// Except a late one: the server answers a failed call first and removes
/// its container after, and where docker is slow the container dies after
/// the next call has started (the sequence leaves 300 ms). Such a death is
/// moved back to the failed call when that call has none of its own and the
/// next call's window holds more deaths than the next call can explain: two
/// or more, or one after an answer of 2xx (a call answered 2xx kills no
/// container). Calls of 2xx never receive a moved death.
fn fates(statuses: &[u16], starts: &[u128], deaths: &[u128]) -> Vec<Fate> {
    let mut counts: Vec<usize> = (0..statuses.len())
        .map(|i| {
            let (from, to) = (starts[i], starts.get(i + 1).copied().unwrap_or(u128::MAX));
            deaths.iter().filter(|&&t| t >= from && t < to).count()
        })
        .collect();
    let failed = |status: u16| !(200..300).contains(&status);
    for i in 0..statuses.len().saturating_sub(1) {
        let next_unexplained = match counts[i + 1] {
            0 => false,
            1 => !failed(statuses[i + 1]),
            _ => true,
        };
        if counts[i] == 0 && failed(statuses[i]) && next_unexplained {
            counts[i] = 1;
            counts[i + 1] -= 1;
        }
    }
    counts
        .into_iter()
        .map(|n| if n > 0 { Fate::Killed } else { Fate::Kept })
        .collect()
}

/// `docker events` for containers of one image: the instants they died.
#[derive(Debug)]
struct Events {
    child: Child,
    deaths: Arc<Mutex<Vec<u128>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Events {
    fn watch(image: &str) -> Result<Self, Error> {
        // From a moment ago, so that no event is lost while it connects.
        let since = format!("{:.3}", now_nanos() as f64 / 1e9 - 1.0);
        let mut child = Command::new("docker")
            .args([
                "events",
                "--since",
                &since,
                "--format",
                "{{json .}}",
                "--filter",
                "type=container",
                "--filter",
                "event=die",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::io("could not run docker events", e))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Error::Usage("docker events has no stdout".into()))?;
        let deaths = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&deaths);
        let image = image.to_owned();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(event) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let of_image = event
                    .pointer("/Actor/Attributes/image")
                    .and_then(Value::as_str)
                    == Some(image.as_str());
                let at = event.get("timeNano").and_then(Value::as_u64);
                if let (true, Some(at)) = (of_image, at) {
                    sink.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(u128::from(at));
                }
            }
        });
        Ok(Self {
            child,
            deaths,
            reader: Some(reader),
        })
    }

    /// The deaths seen; an error if `docker events` had ended by itself
    /// (then it may have missed some).
    fn stop(mut self) -> Result<Vec<u128>, Error> {
        let ended = self.child.try_wait().ok().flatten();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        if let Some(status) = ended {
            return Err(Error::Usage(format!(
                "docker events ended by itself ({status}); is DOCKER_HOST the server's daemon?"
            )));
        }
        Ok(self
            .deaths
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone())
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small HTTP/1.1 client for the server's API (hyper's client, one
/// connection a request).
#[derive(Debug)]
struct Api {
    base: String,
    authority: String,
    runtime: tokio::runtime::Runtime,
}

impl Api {
    fn new(base: &str) -> Result<Self, Error> {
        let authority = base
            .strip_prefix("http://")
            .map(|rest| rest.trim_end_matches('/'))
            .filter(|a| !a.is_empty() && !a.contains('/'))
            .ok_or_else(|| Error::Usage(format!("--api takes http://host:port, not {base:?}")))?
            .to_owned();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::io("could not start a runtime", e))?;
        Ok(Self {
            base: base.to_owned(),
            authority,
            runtime,
        })
    }

    /// A JSON request; the answer's status and JSON body (`null` if none).
    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value), Error> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let (status, answer) =
            self.raw(method, path, &[("Content-Type", "application/json")], bytes)?;
        let value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        Ok((status, value))
    }

    /// One request; the answer's status and body.
    fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), Error> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("Host", &self.authority);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Error::Usage(format!("bad request {method} {path}: {e}")))?;
        let exchange = async {
            let stream = tokio::net::TcpStream::connect(&self.authority).await?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .map_err(io_error)?;
            tokio::spawn(connection);
            let response = sender.send_request(request).await.map_err(io_error)?;
            let status = response.status().as_u16();
            // The server's error answers can carry the function's own
            // `Content-Length` (fn-contract, observed): a body that ends
            // early is the answer's, not a failure of the oracle.
            let body = match response.into_body().collect().await {
                Ok(body) => body.to_bytes().to_vec(),
                Err(_) => Vec::new(),
            };
            Ok::<_, std::io::Error>((status, body))
        };
        let limited = async { tokio::time::timeout(REQUEST_LIMIT, exchange).await };
        match self.runtime.block_on(limited) {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(Error::io(format!("{method} {path} failed"), e)),
            Err(_) => Err(Error::Usage(format!(
                "{method} {path}: no answer within {REQUEST_LIMIT:?}"
            ))),
        }
    }
}

fn io_error(e: hyper::Error) -> std::io::Error {
    std::io::Error::other(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts at 0, 1000, 2000, 3000 (ns, for short).
    const STARTS: [u128; 5] = [0, 1000, 2000, 3000, 4000];

    #[test]
    fn deaths_count_for_the_call_whose_window_holds_them() {
        let got = fates(&[200, 502, 200, 200], &STARTS, &[1500]);
        assert_eq!(got, [Fate::Kept, Fate::Killed, Fate::Kept, Fate::Kept]);
    }

    /// A failed call's container dies after the next call started: the
    /// next call answered 200, so the death is the failed call's.
    #[test]
    fn a_late_death_after_a_failure_moves_back() {
        let got = fates(&[502, 200, 200, 200], &STARTS, &[1100]);
        assert_eq!(got, [Fate::Killed, Fate::Kept, Fate::Kept, Fate::Kept]);
        // Two failures in a row, each killing: the first death is late,
        // both land in the second window.
        let got = fates(&[502, 502, 200, 200], &STARTS, &[1100, 1200]);
        assert_eq!(got, [Fate::Killed, Fate::Killed, Fate::Kept, Fate::Kept]);
    }

    /// One death after two failures, in the second window: the second call
    /// can explain it, so nothing moves (the first kept its container).
    #[test]
    fn a_death_the_next_failure_explains_stays() {
        let got = fates(&[502, 502, 200, 200], &STARTS, &[1100]);
        assert_eq!(got, [Fate::Kept, Fate::Killed, Fate::Kept, Fate::Kept]);
        // A 2xx call never takes a moved death.
        let got = fates(&[200, 200, 200, 200], &STARTS, &[1100]);
        assert_eq!(got, [Fate::Kept, Fate::Killed, Fate::Kept, Fate::Kept]);
    }
}
