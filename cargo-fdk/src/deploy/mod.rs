//! `cargo fdk deploy`: what `fn deploy --local` does, with no docker CLI and
//! no Fn CLI.
//!
//! 1. Build the image ([`crate::commands::image`]) of the next patch
//!    version, as `fn deploy` bumps it (`--no-bump` keeps func.yaml's), and
//!    write that version into func.yaml once the daemon has it. The new
//!    tag is what makes the server start fresh containers: it keys hot
//!    containers by image, so the same tag with new content could keep
//!    serving the old code.
//! 2. Load it into the Docker daemon the Fn server uses (Engine API on
//!    `DOCKER_HOST`, [`docker`]), or push it to `--registry` ([`registry`]). A tag the daemon already holds as another
//!    image is refused rather than silently moved.
//! 3. Create or update the app (with `--create-app`), the function (image,
//!    memory, timeout, idle_timeout, config) and its triggers through the Fn
//!    API (`FN_API_URL`, [`fn_api`]).
//!
//! ```no_run
//! use cargo_fdk::deploy::{DeployOptions, deploy};
//!
//! let report = deploy(&DeployOptions {
//!     app: "demo".into(),
//!     create_app: true,
//!     ..DeployOptions::default()
//! })?;
//! println!("{} is at {}", report.function, report.invoke_endpoint.unwrap_or_default());
//! # Ok::<(), cargo_fdk::Error>(())
//! ```

pub mod client;
pub mod docker;
pub mod fn_api;
pub mod registry;

use crate::commands::{self, BuildOptions, ImageOptions, ImageReport};
use crate::error::{Error, Result};
use crate::funcfile::{self, FuncFile};
use docker::Docker;
use fn_api::{FnApi, FnSpec};
use registry::Registry;

/// What `cargo fdk deploy` was asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployOptions {
    /// How to build.
    pub build: BuildOptions,
    /// The app to deploy into.
    pub app: String,
    /// Create the app if it does not exist (`fn deploy --create-app`).
    pub create_app: bool,
    /// Keep func.yaml's version.
    pub no_bump: bool,
    /// The Fn API (default `FN_API_URL`, else `http://127.0.0.1:8080`).
    pub api_url: Option<String>,
    /// Push to this registry (`host[:port][/namespace]`) instead of
    /// loading into a daemon.
    pub registry: Option<String>,
}

/// Where the image goes.
enum Destination {
    Daemon(Docker),
    Registry(Registry, String),
}

/// What a deploy did.
#[derive(Debug, Clone)]
pub struct DeployReport {
    /// The function's name.
    pub function: String,
    /// The version deployed (after the bump).
    pub version: String,
    /// The version before, when bumped.
    pub bumped_from: Option<String>,
    /// The image.
    pub image: ImageReport,
    /// The daemon or the registry already had this exact image.
    pub already_there: bool,
    /// Where the image went: the daemon's endpoint, or `registry <domain>`.
    pub destination: String,
    /// The app's id; `true` if this deploy created it.
    pub app: (String, bool),
    /// The function's id; `true` if this deploy created it.
    pub function_id: (String, bool),
    /// Where `/invoke` reaches it.
    pub invoke_endpoint: Option<String>,
    /// Each trigger: name, source, endpoint.
    pub triggers: Vec<(String, String, Option<String>)>,
}

/// Runs a deploy; see the [module docs](self).
pub fn deploy(options: &DeployOptions) -> Result<DeployReport> {
    // The app's name is the server's to judge (letters, digits, `_`, `-`):
    // a create it refuses says why, in its own words.
    // Both services first: a deploy that cannot finish should not bump or build.
    let destination = match &options.registry {
        Some(registry) => {
            let registry = registry.trim_end_matches('/');
            let domain = registry.split('/').next().unwrap_or_default();
            Destination::Registry(Registry::new(domain)?, registry.to_owned())
        }
        None => Destination::Daemon(Docker::from_env()?),
    };
    let api = FnApi::new(options.api_url.as_deref())?;
    if let Destination::Daemon(docker) = &destination {
        docker.ping()?;
    }
    let app = match api.find_app(&options.app)? {
        Some(app) => (app, false),
        None if options.create_app => (api.create_app(&options.app)?, true),
        None => {
            return Err(Error::new(format!(
                "the Fn server at {} has no app `{}` (add --create-app to create it)",
                api.endpoint(),
                options.app
            )));
        }
    };

    let dir = options.build.function_dir();
    let func = FuncFile::load(&dir)?;
    let version = if options.no_bump {
        func.version.clone()
    } else {
        funcfile::next_patch(&func.version)?
    };
    let image = commands::image(&ImageOptions {
        build: options.build.clone(),
        version: Some(version.clone()),
        tag: match &destination {
            Destination::Registry(_, prefix) => Some(format!("{prefix}/{}:{version}", func.name)),
            Destination::Daemon(_) => None,
        },
        ..ImageOptions::default()
    })?;
    let reference = image.image.reference.to_string();
    let refuse = |holder: String, id: String| {
        let advice = if options.no_bump {
            "deploy without --no-bump, or set another version in func.yaml"
        } else {
            "another function of this name used that version: set a higher one in func.yaml"
        };
        Error::new(format!(
            "{holder} already has {reference} as another image ({id}); {advice}"
        ))
    };
    let (already_there, where_to) = match &destination {
        Destination::Daemon(docker) => {
            let there = match docker.image_id(&reference)? {
                Some(id) if id == image.image.image_id() => true,
                Some(id) => return Err(refuse(format!("the daemon at {}", docker.endpoint()), id)),
                None => false,
            };
            if !there {
                docker.load(&image.archive)?;
            }
            (there, docker.endpoint().to_string())
        }
        Destination::Registry(registry, prefix) => {
            let there = match registry.tag_digest(&image.image)? {
                Some(digest) if digest == image.image.manifest.digest => true,
                Some(digest) => return Err(refuse(format!("the registry {prefix}"), digest)),
                None => false,
            };
            if !there {
                registry.push(&image.image)?;
            }
            (there, format!("registry {prefix}"))
        }
    };
    // func.yaml names the new version once the daemon or the registry has an
    // image of it: a build, load or push that fails leaves the file as it was.
    let bumped_from = if options.no_bump {
        None
    } else {
        let path = dir.join(funcfile::FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, &e))?;
        let text = funcfile::with_version(&text, &version)?;
        std::fs::write(&path, text).map_err(|e| Error::io("write", &path, &e))?;
        Some(func.version.clone())
    };

    let spec = FnSpec {
        name: None,
        app_id: None,
        image: reference,
        memory: func.memory,
        timeout: func.timeout,
        idle_timeout: func.idle_timeout,
        config: func.config.clone(),
    };
    let (function, created) = match api.find_fn(&app.0.id, &func.name)? {
        Some(existing) => {
            let mut updated = api.update_fn(&existing.id, &spec)?;
            // An update's answer may leave out the server-made annotations.
            for (key, value) in existing.annotations {
                updated.annotations.entry(key).or_insert(value);
            }
            (updated, false)
        }
        None => (
            api.create_fn(&FnSpec {
                name: Some(func.name.clone()),
                app_id: Some(app.0.id.clone()),
                ..spec
            })?,
            true,
        ),
    };
    let mut triggers = Vec::new();
    for wanted in &func.triggers {
        let trigger = match api.find_trigger(&app.0.id, &function.id, &wanted.name)? {
            Some(t) if t.source == wanted.source && t.kind == wanted.kind => t,
            Some(t) => api.update_trigger(&t.id, &wanted.kind, &wanted.source)?,
            None => api.create_trigger(
                &app.0.id,
                &function.id,
                &wanted.name,
                &wanted.kind,
                &wanted.source,
            )?,
        };
        let endpoint = fn_api::annotation(&trigger.annotations, fn_api::TRIGGER_ENDPOINT);
        triggers.push((
            trigger.name.clone(),
            trigger.source.clone(),
            endpoint.map(str::to_owned),
        ));
    }
    Ok(DeployReport {
        function: func.name.clone(),
        version,
        bumped_from,
        already_there,
        destination: where_to,
        app: (app.0.id, app.1),
        invoke_endpoint: fn_api::annotation(&function.annotations, fn_api::INVOKE_ENDPOINT)
            .map(str::to_owned),
        function_id: (function.id, created),
        image,
        triggers,
    })
}
