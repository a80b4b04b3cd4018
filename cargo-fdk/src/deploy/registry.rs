//! `cargo fdk deploy --registry`: the image pushed to a registry with the
//! OCI distribution API, for an Fn server whose daemon pulls from it.
//!
//! Per blob (the layer, then the config): `HEAD` to skip what the registry
//! has, else `POST /v2/<name>/blobs/uploads/` and one monolithic `PUT` of
//! the bytes to the `Location` it gives, with `?digest=`; then `PUT` of the
//! manifest under the tag. Plain HTTP and no authentication: a registry on
//! the server's own network (Docker pulls over HTTP from `127.0.0.0/8`
//! without configuration). A `401` says that.

use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};

use super::client::{self, Answer, Endpoint, percent_escape};
use crate::error::{Error, Result};
use crate::oci::{Blob, Image, MANIFEST_MEDIA_TYPE};

const CALL_LIMIT: Duration = Duration::from_secs(120);

/// A registry reached at `http://<domain>`.
#[derive(Debug, Clone)]
pub struct Registry {
    endpoint: Endpoint,
    domain: String,
}

impl Registry {
    /// The registry of `domain` (`host[:port]`).
    pub fn new(domain: &str) -> Result<Registry> {
        Ok(Registry {
            endpoint: Endpoint::from_http_url(&format!("http://{domain}"), "the registry")?,
            domain: domain.to_owned(),
        })
    }

    /// The manifest digest the registry holds under `image`'s tag, if any.
    pub fn tag_digest(&self, image: &Image) -> Result<Option<String>> {
        let path = format!(
            "/v2/{}/manifests/{}",
            image.reference.path(),
            image.reference.tag()
        );
        let answer = self.send(Method::HEAD, &path, None)?;
        match answer.status {
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::OK => Ok(answer
                .headers
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)),
            _ => expect(&answer, &[], "HEAD", &path).map(|()| None),
        }
    }

    /// Pushes `image` (its reference names this registry).
    pub fn push(&self, image: &Image) -> Result<()> {
        let name = image.reference.path();
        for blob in [&image.layer, &image.config] {
            self.push_blob(name, blob)?;
        }
        let path = format!("/v2/{name}/manifests/{}", image.reference.tag());
        let answer = self.send(
            Method::PUT,
            &path,
            Some((
                Bytes::from(image.manifest.bytes.clone()),
                MANIFEST_MEDIA_TYPE,
            )),
        )?;
        expect(
            &answer,
            &[StatusCode::CREATED, StatusCode::OK],
            "PUT",
            &path,
        )
    }

    fn push_blob(&self, name: &str, blob: &Blob) -> Result<()> {
        let path = format!("/v2/{name}/blobs/{}", blob.digest);
        if self.send(Method::HEAD, &path, None)?.status == StatusCode::OK {
            return Ok(());
        }
        let start = format!("/v2/{name}/blobs/uploads/");
        let answer = self.send(Method::POST, &start, None)?;
        expect(&answer, &[StatusCode::ACCEPTED], "POST", &start)?;
        let location = answer
            .headers
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Error::new(format!(
                    "the registry {} started an upload with no Location",
                    self.domain
                ))
            })?;
        let upload = format!(
            "{}{}digest={}",
            self.local_path(location)?,
            if location.contains('?') { "&" } else { "?" },
            percent_escape(&blob.digest, b"")
        );
        let answer = self.send(
            Method::PUT,
            &upload,
            Some((Bytes::from(blob.bytes.clone()), "application/octet-stream")),
        )?;
        expect(&answer, &[StatusCode::CREATED], "PUT", &upload)
    }

    /// A `Location` as a path on this registry (it may be absolute).
    fn local_path(&self, location: &str) -> Result<String> {
        if location.starts_with('/') {
            return Ok(location.to_owned());
        }
        for scheme in ["http://", "https://"] {
            if let Some(rest) = location.strip_prefix(scheme) {
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                if authority == self.domain {
                    return Ok(path.to_owned());
                }
            }
        }
        Err(Error::new(format!(
            "the registry {} sends uploads elsewhere ({location}); cargo fdk pushes to the registry itself only",
            self.domain
        )))
    }

    fn send(&self, method: Method, path: &str, body: Option<(Bytes, &str)>) -> Result<Answer> {
        client::send(&self.endpoint, method, path, body, CALL_LIMIT)
            .map_err(|e| Error::new(format!("no registry: {e}")))
    }
}

fn expect(answer: &Answer, ok: &[StatusCode], method: &str, path: &str) -> Result<()> {
    if ok.contains(&answer.status) {
        return Ok(());
    }
    let why = if answer.status == StatusCode::UNAUTHORIZED {
        " (the registry wants credentials; cargo fdk pushes only to registries that take anonymous pushes)"
    } else {
        ""
    };
    Err(Error::new(format!(
        "the registry refused {method} {path}: {} {}{why}",
        answer.status.as_u16(),
        answer.text()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::ImageSpec;
    use crate::reference::Reference;
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// What the fake registry holds: blobs by digest, manifests by tag, and
    /// every request line it saw.
    #[derive(Default)]
    struct Store {
        blobs: BTreeMap<String, Vec<u8>>,
        manifests: BTreeMap<String, (String, Vec<u8>)>,
        seen: Vec<String>,
    }

    /// A registry that takes anonymous monolithic uploads, checking each
    /// digest as a real one does, and answers with an absolute `Location`
    /// that already has a query.
    fn fake_registry() -> (String, Arc<Mutex<Store>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let domain = listener.local_addr().unwrap().to_string();
        let store = Arc::new(Mutex::new(Store::default()));
        let (shared, host) = (Arc::clone(&store), domain.clone());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let (mut length, mut kind) = (0, String::new());
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                    let (name, value) = header.split_once(':').unwrap();
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap(),
                        "content-type" => kind = value.trim().to_owned(),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let mut words = line.split(' ');
                let (method, target) = (words.next().unwrap(), words.next().unwrap());
                let mut store = shared.lock().unwrap();
                store.seen.push(format!("{method} {target}"));
                let path = target.split('?').next().unwrap();
                let answer = if method == "HEAD" && path.contains("/blobs/") {
                    let digest = path.rsplit('/').next().unwrap();
                    if store.blobs.contains_key(digest) {
                        "200 OK\r\n".to_owned()
                    } else {
                        "404 Not Found\r\n".to_owned()
                    }
                } else if method == "HEAD" {
                    let tag = path.rsplit('/').next().unwrap();
                    match store.manifests.get(tag) {
                        Some((digest, _)) => {
                            format!("200 OK\r\nDocker-Content-Digest: {digest}\r\n")
                        }
                        None => "404 Not Found\r\n".to_owned(),
                    }
                } else if method == "POST" {
                    format!("202 Accepted\r\nLocation: http://{host}/v2/upload/1?state=x\r\n")
                } else if path.contains("/manifests/") {
                    assert_eq!(kind, MANIFEST_MEDIA_TYPE);
                    let digest = crate::oci::sha256_digest(&body);
                    let tag = path.rsplit('/').next().unwrap().to_owned();
                    store.manifests.insert(tag, (digest, body));
                    "201 Created\r\n".to_owned()
                } else {
                    let digest = target.split("digest=").nth(1).unwrap().replace("%3A", ":");
                    let actual = crate::oci::sha256_digest(&body);
                    if digest == actual && target.contains("state=x&") {
                        store.blobs.insert(digest, body);
                        "201 Created\r\n".to_owned()
                    } else {
                        "400 Bad Request\r\n".to_owned()
                    }
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {answer}Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        (domain, store)
    }

    #[test]
    fn pushes_blobs_then_the_manifest_and_skips_what_is_there() {
        let (domain, store) = fake_registry();
        let mut binary = vec![0x7f, b'E', b'L', b'F'];
        binary.resize(4096, 7);
        let image = Image::build(&ImageSpec {
            binary,
            reference: Reference::parse(&format!("{domain}/team/hello:0.0.2")).unwrap(),
            architecture: "amd64".into(),
            labels: BTreeMap::new(),
            created: 0,
        })
        .unwrap();
        let registry = Registry::new(&domain).unwrap();
        assert_eq!(registry.tag_digest(&image).unwrap(), None);
        registry.push(&image).unwrap();
        {
            let store = store.lock().unwrap();
            assert_eq!(
                store.blobs.get(&image.layer.digest),
                Some(&image.layer.bytes)
            );
            assert_eq!(
                store.blobs.get(&image.config.digest),
                Some(&image.config.bytes)
            );
            assert_eq!(store.manifests["0.0.2"].1, image.manifest.bytes);
        }
        assert_eq!(
            registry.tag_digest(&image).unwrap().as_deref(),
            Some(image.manifest.digest.as_str())
        );
        // Again: the blobs are there, only HEADs and the manifest go out.
        store.lock().unwrap().seen.clear();
        registry.push(&image).unwrap();
        let seen = store.lock().unwrap().seen.clone();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(seen[..2].iter().all(|s| s.starts_with("HEAD ")), "{seen:?}");
        assert_eq!(seen[2], "PUT /v2/team/hello/manifests/0.0.2");
    }

    #[test]
    fn foreign_locations_and_credentials_are_clear_errors() {
        let registry = Registry::new("127.0.0.1:5000").unwrap();
        assert_eq!(registry.local_path("/v2/x?s=1").unwrap(), "/v2/x?s=1");
        assert_eq!(
            registry.local_path("http://127.0.0.1:5000/v2/x").unwrap(),
            "/v2/x"
        );
        let err = registry
            .local_path("https://s3.example/bucket")
            .unwrap_err();
        assert!(err.to_string().contains("sends uploads elsewhere"), "{err}");
        let answer = Answer {
            status: StatusCode::UNAUTHORIZED,
            headers: hyper::HeaderMap::new(),
            body: Bytes::new(),
        };
        let err = expect(&answer, &[StatusCode::CREATED], "POST", "/v2/x").unwrap_err();
        assert!(err.to_string().contains("wants credentials"), "{err}");
    }
}
