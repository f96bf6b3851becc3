//! The `labcheck` command line: argument parsing (clap) and one function per
//! command. Everything else lives in the library.

use clap::{Args, Parser, Subcommand, ValueEnum};
use labcheck::aws::{self, AwsOptions, ConnectError};
use labcheck::course::Course;
use labcheck::engine::{self, RunOptions, account::Account};
use labcheck::params::{Params, Source};
use labcheck::report::{self, Format, Status, output::write_atomic};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const AFTER_HELP: &str = "\
Getting started:
  labcheck list                 see the lab's steps and check ids
  labcheck check                grade every step against your AWS account
  labcheck check s3             grade one step
  labcheck check s3.cors        grade one check (and what it needs)

Rehearse without AWS on the local sandbox:
  sandbox/up && source sandbox/env && labcheck check

Exit codes: 0 all graded checks passed, 1 a check failed, 2 bad usage or bad
input, 3 nothing failed but some checks could not be evaluated.";

/// Grade the Django-on-Elastic-Beanstalk lab against your own AWS account.
///
/// labcheck reads your account (it never changes anything) and tells you, for
/// each step of the lab, what passes, what does not, and how to fix it.
#[derive(Parser)]
#[command(name = "labcheck", version, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// Lab to use (default: deploy-django-eb).
    #[arg(long, global = true, value_name = "ID")]
    lab: Option<String>,
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE or `default`).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// AWS Region (default: region parameter, then your AWS config).
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,
    /// Set a lab parameter, e.g. `--set bucket=my-media-bucket` (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Parameter file (default: ./labcheck.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Read labs from this course folder instead of the built-in copy.
    #[arg(long, global = true, value_name = "DIR")]
    course_dir: Option<PathBuf>,
    /// When to use colours (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Show more: parameters and where each value came from.
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Grade the lab: every step, or the steps and checks you name.
    #[command(after_help = "Examples:
  labcheck check                      every step
  labcheck check s3 cache             two steps
  labcheck check s3.cors              one check (its prerequisites run too)
  labcheck check --format json -o report.json
  labcheck check --set bucket=my-bucket --region eu-west-1")]
    Check(CheckArgs),
    /// List the lab's steps and checks, with their ids and points.
    List(ListArgs),
    /// Print the read-only IAM policy that labcheck's checks need.
    Policy,
}

#[derive(Args)]
struct CheckArgs {
    /// Step ids (s3, cache, rds, project, eb) or check ids (s3.cors); none means all.
    #[arg(value_name = "STEP|CHECK")]
    names: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Longest time one check may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Do NOT verify the cache's TLS certificate (the report says so). Prefer
    /// `--set cache_ca=FILE` when the cache uses a CA of its own.
    #[arg(long)]
    insecure: bool,
}

#[derive(Args)]
struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Human,
    Json,
}

/// A command's failure: the message and the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl ToString) -> Self {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }
    fn unavailable(message: impl ToString) -> Self {
        Failure {
            code: 3,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let color = use_color(cli.common.color);
    console::set_colors_enabled(color);
    console::set_colors_enabled_stderr(color);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Check(args) => check(&cli.common, args, color).await,
            Command::List(args) => list(&cli.common, args),
            Command::Policy => policy(&cli.common),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("{} {}", console::style("error:").red().bold(), f.message);
            ExitCode::from(f.code)
        }
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
        }
    }
}

fn load_course(common: &Common) -> Result<Course, Failure> {
    Course::load(common.course_dir.as_deref()).map_err(Failure::usage)
}

fn config_path(common: &Common) -> Option<PathBuf> {
    common
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("labcheck.toml")).filter(|p| p.is_file()))
}

/// `labcheck check`: grade the lab.
async fn check(common: &Common, args: &CheckArgs, color: bool) -> Result<u8, Failure> {
    let course = load_course(common)?;
    let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
    let selected = engine::select(lab, &args.names).map_err(Failure::usage)?;
    let env = |var: &str| std::env::var(var).ok();
    let mut params = Params::gather(config_path(common).as_deref(), &common.set, &env).map_err(Failure::usage)?;

    let region = common
        .region
        .clone()
        .or_else(|| params.explicit("region").map(str::to_string));
    let sdk = aws::load(&AwsOptions {
        profile: common.profile.clone(),
        region,
    })
    .await;
    let region = sdk
        .region()
        .map(|r| r.to_string())
        .ok_or_else(|| Failure::usage(ConnectError::NoRegion))?;
    let identity = aws::identify(&sdk).await.map_err(Failure::unavailable)?;
    if params.explicit("region").is_none() || common.region.is_some() {
        params.set(
            "region",
            &region,
            if common.region.is_some() {
                Source::Flag
            } else {
                Source::Aws
            },
        );
    }
    if params.explicit("account").is_none() {
        params.set("account", &identity.account, Source::Aws);
    }
    let account_id = params.explicit("account").unwrap_or_default().to_string();
    let mut account = Account::new(sdk, params, account_id, identity.arn);
    if args.insecure {
        account.insecure = true;
        account.note("--insecure: the cache's TLS certificate was NOT verified; a passing cache.reachable proves less");
    }
    let account = Arc::new(account);
    for secret in identity.secrets {
        account.add_secret(&secret);
    }
    if common.verbose {
        for (name, value, source) in account.public_params() {
            eprintln!("  {name:16} = {value:40} ({source})");
        }
    }

    let progress = progress_bar(
        selected.len() as u64,
        args.format == Format::Human && args.output.is_none(),
    );
    let mut opts = RunOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..RunOptions::default()
    };
    if let Some(bar) = progress.clone() {
        opts.on_done = Some(Arc::new(move |id: &str, _status: Status| {
            bar.set_message(id.to_string());
            bar.inc(1);
        }));
    }
    let report = engine::run(lab, &selected, account, &opts).await;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }

    let text = report::render(&report, args.format, color && args.output.is_none());
    match &args.output {
        Some(path) => {
            write_atomic(path, text.as_bytes())
                .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
            eprintln!(
                "wrote {} ({}/{} points, {} failed)",
                path.display(),
                report.score,
                report.max_score,
                report.count(Status::Fail)
            );
        }
        None => print!("{text}"),
    }
    Ok(report.verdict() as u8)
}

fn progress_bar(len: u64, wanted: bool) -> Option<indicatif::ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} checking {pos}/{len} {wide_msg}").expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}

/// `labcheck list`: the lab's steps and checks.
fn list(common: &Common, args: &ListArgs) -> Result<u8, Failure> {
    let course = load_course(common)?;
    let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
    match args.format {
        ListFormat::Json => {
            let steps: Vec<_> = lab
                .steps
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "id": s.id, "title": s.title,
                        "checks": s.checks.iter().map(|c| serde_json::json!({
                            "id": c.id, "title": c.title, "kind": c.kind, "points": c.points, "needs": c.needs,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let labs: Vec<_> = course
                .labs
                .iter()
                .map(|l| serde_json::json!({"id": l.id, "title": l.title}))
                .collect();
            let doc = serde_json::json!({"labs": labs, "lab": lab.id, "steps": steps});
            println!("{}", serde_json::to_string_pretty(&doc).expect("serializes"));
        }
        ListFormat::Human => {
            let bold = console::Style::new().bold();
            let dim = console::Style::new().dim();
            println!(
                "{} {}",
                bold.apply_to(&lab.title),
                dim.apply_to(format!("({})", lab.id))
            );
            let width = lab.checks().map(|(_, c)| c.id.len()).max().unwrap_or(0);
            for step in &lab.steps {
                let points: u32 = step.checks.iter().map(|c| c.points).sum();
                println!(
                    "\n{}  {}  {}",
                    bold.apply_to(&step.id),
                    step.title,
                    dim.apply_to(format!("{points} points"))
                );
                if step.checks.is_empty() {
                    println!("  {}", dim.apply_to("(no graded checks)"));
                }
                for c in &step.checks {
                    let needs = if c.needs.is_empty() {
                        String::new()
                    } else {
                        format!("needs {}", c.needs.join(", "))
                    };
                    println!(
                        "  {:width$}  {:2} pt  {}  {}",
                        c.id,
                        c.points,
                        c.title,
                        dim.apply_to(needs)
                    );
                }
            }
            if course.labs.len() > 1 {
                let others: Vec<&str> = course
                    .labs
                    .iter()
                    .map(|l| l.id.as_str())
                    .filter(|id| *id != lab.id)
                    .collect();
                println!("\nother labs: {}", others.join(", "));
            }
            println!("\nGrade with `labcheck check [STEP|CHECK ...]`.");
        }
    }
    Ok(0)
}

/// `labcheck policy`: the IAM policy derived from the check kinds the lab uses.
fn policy(common: &Common) -> Result<u8, Failure> {
    let course = load_course(common)?;
    let lab = course.lab(common.lab.as_deref()).map_err(Failure::usage)?;
    let mut actions: Vec<&str> = lab
        .checks()
        .filter_map(|(_, c)| labcheck::checks::find(&c.kind))
        .flat_map(|k| k.iam_actions.iter().copied())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "LabcheckReadOnly", "Effect": "Allow", "Action": actions, "Resource": "*" }],
    });
    println!("{}", serde_json::to_string_pretty(&doc).expect("serializes"));
    Ok(0)
}
