//! `cargo fdk deploy`: its options, and the report of what was deployed.

use clap::Args;

use super::build::BuildTarget;
use crate::commands::BuildOptions;
use crate::error::Result;

/// The options of `cargo fdk deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// Which binary to build.
    #[command(flatten)]
    pub build: BuildTarget,
    /// The app to deploy into
    #[arg(long, value_name = "APP", allow_hyphen_values = true, required = true)]
    pub app: String,
    /// Create the app if the server has none of that name
    #[arg(long)]
    pub create_app: bool,
    /// Keep func.yaml's version instead of bumping its patch number
    #[arg(long)]
    pub no_bump: bool,
    /// The Fn API (default: $FN_API_URL, else http://127.0.0.1:8080)
    #[arg(long, value_name = "URL", allow_hyphen_values = true)]
    pub api_url: Option<String>,
    /// Push the image to this registry (HOST[:PORT][/NAMESPACE], plain
    /// HTTP, anonymous) instead of loading it into $DOCKER_HOST
    #[arg(
        long,
        value_name = "REGISTRY",
        allow_hyphen_values = true,
        verbatim_doc_comment
    )]
    pub registry: Option<String>,
}

/// `cargo fdk deploy`: the image built, bumped, loaded or pushed, and the
/// function created or updated on the Fn server (see [`crate::deploy`]).
pub(super) fn deploy_function(args: DeployArgs) -> Result<()> {
    let report = crate::deploy::deploy(&crate::deploy::DeployOptions {
        build: BuildOptions::from(args.build),
        app: args.app.clone(),
        create_app: args.create_app,
        no_bump: args.no_bump,
        api_url: args.api_url,
        registry: args.registry,
    })?;
    let made = |created: bool| if created { "created" } else { "updated" };
    if let Some(from) = &report.bumped_from {
        println!("Bumped   {} {from} -> {}", report.function, report.version);
    }
    println!(
        "Image    {} ({}; {} {})",
        report.image.image.reference,
        report.image.image.image_id(),
        match (
            report.already_there,
            report.destination.starts_with("registry ")
        ) {
            (true, _) => "already in",
            (false, true) => "pushed to",
            (false, false) => "loaded into",
        },
        report.destination
    );
    println!(
        "App      {} ({}{})",
        args.app,
        report.app.0,
        if report.app.1 { ", created" } else { "" }
    );
    println!(
        "Function {} ({}, {})",
        report.function,
        report.function_id.0,
        made(report.function_id.1)
    );
    if let Some(endpoint) = &report.invoke_endpoint {
        println!("invoke   {endpoint}");
    }
    for (name, source, endpoint) in &report.triggers {
        match endpoint {
            Some(endpoint) => println!("trigger  {name} {source}: {endpoint}"),
            None => println!("trigger  {name} {source}"),
        }
    }
    Ok(())
}
