//! What `cargo fdk build` and `cargo fdk image` do, as functions that
//! return what happened; [`crate::cli`] parses arguments and prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::build::{self, Built, TargetChoice};
use crate::elf::ElfInfo;
use crate::error::{Error, Result};
use crate::funcfile::FuncFile;
use crate::oci::{self, Image, ImageSpec};
use crate::project::Project;
use crate::reference::Reference;

/// Label: the FDK version the function was built with (`fdk-rust/X.Y.Z`,
/// what the function sends as `Fn-Fdk-Version`).
pub const LABEL_FDK_VERSION: &str = "io.fnproject.fdk.version";
/// Label: the function's name.
pub const LABEL_TITLE: &str = "org.opencontainers.image.title";
/// Label: the function's version.
pub const LABEL_VERSION: &str = "org.opencontainers.image.version";

/// Options shared by `build` and `image`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// The function's `Cargo.toml` (default `./Cargo.toml`).
    pub manifest_path: Option<PathBuf>,
    /// The binary target, when the package has several.
    pub bin: Option<String>,
    /// The target triple (default: musl if installed, else gnu + crt-static).
    pub target: Option<String>,
}

impl BuildOptions {
    fn manifest_path(&self) -> PathBuf {
        self.manifest_path
            .clone()
            .unwrap_or_else(|| PathBuf::from("Cargo.toml"))
    }

    /// The function's directory: where `Cargo.toml` and `func.yaml` are.
    pub fn function_dir(&self) -> PathBuf {
        match self.manifest_path().parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// A function read from disk: its func.yaml and its crate.
#[derive(Debug, Clone)]
pub struct Function {
    /// func.yaml.
    pub func: FuncFile,
    /// The crate.
    pub project: Project,
}

/// Reads func.yaml and the crate (func.yaml first: it is the clearer error).
pub fn load(options: &BuildOptions) -> Result<Function> {
    let func = FuncFile::load(&options.function_dir())?;
    let project = Project::load(
        &options.manifest_path(),
        options.bin.as_deref(),
        Some(&func.name),
    )?;
    Ok(Function { func, project })
}

/// `cargo fdk build`: a static release binary of the function.
pub fn build(options: &BuildOptions) -> Result<(Function, Built)> {
    let function = load(options)?;
    let target = build::choose_target(&function.project.dir, options.target.as_deref())?;
    let built = build::build(&function.project, &target)?;
    Ok((function, built))
}

/// Copies the binary to `out` (e.g. `.fn/func` for a Dockerfile), mode 0755.
pub fn copy_binary(from: &Path, out: &Path) -> Result<()> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|err| Error::io("create", parent, &err))?;
    }
    std::fs::copy(from, out).map_err(|err| Error::io("write", out, &err))?;
    set_executable(out)
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|err| Error::io("chmod", path, &err))
}

/// Options of `cargo fdk image`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageOptions {
    /// How to build the binary.
    pub build: BuildOptions,
    /// Use this static binary instead of building one.
    pub binary: Option<PathBuf>,
    /// The image reference (default `[$FN_REGISTRY/]name:version` from func.yaml).
    pub tag: Option<String>,
    /// The output directory (default `<target dir>/fdk-image/<name>-<version>`).
    pub out: Option<PathBuf>,
    /// The version to build instead of func.yaml's (a deploy builds the
    /// bumped version before it writes func.yaml).
    pub version: Option<String>,
}

/// What `cargo fdk image` made.
#[derive(Debug, Clone)]
pub struct ImageReport {
    /// The image.
    pub image: Image,
    /// The binary it holds.
    pub binary: PathBuf,
    /// The binary's ELF facts.
    pub elf: ElfInfo,
    /// How the binary was built, when this command built it.
    pub target: Option<TargetChoice>,
    /// The binary's size.
    pub binary_size: u64,
    /// The OCI image layout directory.
    pub layout: PathBuf,
    /// The oci-archive/docker-archive tarball.
    pub archive: PathBuf,
    /// Its size.
    pub archive_size: u64,
    /// From having the binary to the image written.
    pub elapsed: Duration,
}

/// `cargo fdk image`: builds (unless `binary` is given), then writes the
/// layout and the archive.
pub fn image(options: &ImageOptions) -> Result<ImageReport> {
    let mut func = FuncFile::load(&options.build.function_dir())?;
    if let Some(version) = &options.version {
        func.version.clone_from(version);
    }
    // The reference is checked before any build: a bad tag fails fast.
    let reference = match &options.tag {
        Some(tag) => Reference::parse(tag)?,
        None => {
            let registry = std::env::var("FN_REGISTRY").ok();
            Reference::from_parts(registry.as_deref(), &func.name, &func.version).map_err(
                |err| {
                    Error::new(format!(
                        "{err} (from func.yaml's name and version{})",
                        if registry.is_some() {
                            " and FN_REGISTRY"
                        } else {
                            ""
                        }
                    ))
                },
            )?
        }
    };
    let created = oci::source_date_epoch()?;
    let manifest = options.build.manifest_path();
    let (binary, target, project) = match &options.binary {
        Some(binary) => {
            // The crate is optional here; it only tells the FDK version.
            let project = manifest
                .is_file()
                .then(|| Project::load(&manifest, options.build.bin.as_deref(), Some(&func.name)))
                .transpose()?;
            (binary.clone(), None, project)
        }
        None => {
            let (function, built) = build(&options.build)?;
            (built.path, Some(built.target), Some(function.project))
        }
    };
    let start = Instant::now();
    let elf = build::check_static(&binary)?;
    let bytes = std::fs::read(&binary).map_err(|err| Error::io("read", &binary, &err))?;
    let architecture = elf.oci_architecture().ok_or_else(|| {
        Error::new(format!(
            "{}: ELF machine {} is not one Fn runs",
            binary.display(),
            elf.machine
        ))
    })?;
    let mut labels = BTreeMap::from([
        (LABEL_TITLE.to_owned(), func.name.clone()),
        (LABEL_VERSION.to_owned(), func.version.clone()),
    ]);
    if let Some(version) = project.as_ref().and_then(|p| p.fdk_version.as_ref()) {
        labels.insert(LABEL_FDK_VERSION.to_owned(), format!("fdk-rust/{version}"));
    }
    let binary_size = bytes.len() as u64;
    let image = Image::build(&ImageSpec {
        binary: bytes,
        reference,
        architecture: architecture.to_owned(),
        labels,
        created,
    })?;
    let out = match &options.out {
        Some(out) => out.clone(),
        None => {
            let target_dir = match &project {
                Some(project) => project.target_directory.clone(),
                None => options.build.function_dir().join("target"),
            };
            target_dir
                .join("fdk-image")
                .join(format!("{}-{}", func.name, image.reference.tag()))
        }
    };
    std::fs::create_dir_all(&out).map_err(|err| Error::io("create", &out, &err))?;
    let layout = out.join("layout");
    image.write_layout(&layout)?;
    let archive = out.join("image.tar");
    let archive_size = image.write_archive(&archive, created)?;
    Ok(ImageReport {
        image,
        binary,
        elf,
        target,
        binary_size,
        layout,
        archive,
        archive_size,
        elapsed: start.elapsed(),
    })
}
