//! Command-line definitions (clap derive) only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use launchready::report::OutputSpec;
use launchready::report::model::FailOn;

#[derive(Debug, Parser)]
#[command(
    name = "launchready",
    version,
    about = "Audit a web product's infrastructure before launch: DNS, TLS, HTTP, email, env, webhooks",
    after_help = "Exit codes: 0 gate passed, 1 gate failed, 2 usage or configuration error, 3 internal error."
)]
pub struct Cli {
    /// When to colour output (NO_COLOR is honoured in auto mode).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Only show problems and the summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Show evidence of passing checks too, and log what launchready does to stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only add noise
pub enum Command {
    /// Audit domains (and everything in launchready.yaml).
    Audit(AuditArgs),
    /// List the checks, or explain one: what it does, why, how to fix, its conditions.
    Checks {
        /// A check id, such as dns.resolves.
        id: Option<String>,
        /// Also load the check specs of this folder.
        #[arg(long, value_name = "DIR")]
        checks_dir: Option<PathBuf>,
    },
    /// List the profiles, or show one.
    Profiles { name: Option<String> },
    /// Print a JSON Schema: of launchready.yaml, or of the JSON report.
    Schema {
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// Print the facts the probes gather about a target, as JSON.
    Facts(FactsArgs),
    /// Render a saved JSON report in other formats, without auditing again.
    Render(RenderArgs),
    /// Print a shell completion script: `launchready completions bash > /etc/bash_completion.d/launchready`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `launchready man > launchready.1`.
    Man,
    /// Compare two saved JSON reports: new problems, fixed ones, status changes.
    Diff(DiffArgs),
    /// Write a commented launchready.yaml from what the working directory holds
    /// (.env.example, .vercel/project.json, Next.js webhook and auth routes).
    Init(InitArgs),
    /// Combine the JSON reports of the shards of one audit (`audit --shard I/N`) into
    /// one report, printed to stdout: summary recomputed, overlapping shards refused.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The product's domains (apex names, such as acme.com).
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Where to write it.
    #[arg(short, long, value_name = "FILE", default_value = "launchready.yaml")]
    pub output: PathBuf,
    /// The project's name in the report (default: the folder's name).
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (`audit --format json=FILE`).
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The later report.
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// Print the diff as JSON (the report's `diff` section) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `--fail-on`: the report's gate threshold, as a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    Fail,
    Warn,
    Never,
    /// Only fail and error findings the --baseline report did not have.
    New,
}

impl From<FailOnArg> for FailOn {
    fn from(a: FailOnArg) -> FailOn {
        match a {
            FailOnArg::Fail => FailOn::Fail,
            FailOnArg::Warn => FailOn::Warn,
            FailOnArg::Never => FailOn::Never,
            FailOnArg::New => FailOn::New,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    Config,
    Report,
}

#[derive(Debug, Args)]
pub struct NetArgs {
    /// Resolve every name through this nameserver instead of the system's.
    #[arg(long, value_name = "IP[:PORT]")]
    pub resolver: Option<String>,
    /// Timeout of one network operation, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,
    /// Trust the CA certificates of this PEM file too (besides the bundled Mozilla roots).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Also trust the operating system's root store (off by default: certificates are
    /// judged against what browsers trust, the bundled Mozilla roots, plus --ca-file;
    /// the system store may hold distrusted or private roots). Honours SSL_CERT_FILE.
    #[arg(long)]
    pub system_roots: bool,
    /// Follow redirects from public to loopback, private, link-local or metadata addresses.
    #[arg(long)]
    pub allow_private: bool,
    /// Send connections for HOST:PORT to ADDR:PORT instead (TLS name and Host header
    /// stay HOST), e.g. to audit a server before DNS points at it. Repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR:PORT")]
    pub connect_to: Vec<launchready::net::options::ConnectTo>,
    /// Connections open at once, all servers together [default: 512, or (open-file
    /// limit - 64) / 2 when that is lower].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Connections open at once to one IP address (domains on one CDN edge share it).
    #[arg(long, value_name = "N", default_value_t = launchready::net::limits::DEFAULT_PER_IP_CONNECTIONS)]
    pub per_ip_connections: usize,
    /// DNS queries per second sent to the resolver (answers are cached for the audit).
    #[arg(long, value_name = "QPS", default_value_t = launchready::net::limits::DEFAULT_DNS_RATE)]
    pub dns_rate: f64,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Domains to audit (each adds its apex and www hosts), besides those in the config.
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// The config file (default: ./launchready.yaml when it exists).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A built-in profile name, or a profile file.
    #[arg(short, long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Output format, optionally to a file: terminal, json, markdown, html, sarif,
    /// junit; e.g. --format sarif=launchready.sarif. Repeatable; one may go to stdout.
    #[arg(long = "format", value_name = "FMT[=PATH]")]
    pub formats: Vec<OutputSpec>,
    /// A folder whose handover.html / handover.md replace the built-in templates.
    #[arg(long, value_name = "DIR")]
    pub template: Option<PathBuf>,
    /// Which findings fail the gate (exit 1).
    #[arg(long, value_enum, default_value_t = FailOnArg::Fail)]
    pub fail_on: FailOnArg,
    /// Do not fail the gate for checks that could not gather their facts.
    #[arg(long)]
    pub allow_errors: bool,
    /// A report of an earlier audit (`--format json=FILE`): the report lists what changed
    /// since, and `--fail-on new` gates only on problems it did not have.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub net: NetArgs,
    /// Probes running at once (connections stay under their own caps).
    #[arg(long, value_name = "N", default_value_t = launchready::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// The longest one target (a domain with its hosts) may take, in seconds; a slow
    /// target never holds up the others.
    #[arg(long, value_name = "SECS", default_value_t = 120.0)]
    pub deadline: f64,
    /// The longest the whole audit may take, in seconds (default: no cap).
    #[arg(long, value_name = "SECS")]
    pub max_duration: Option<f64>,
    /// Also audit the domains of this file: one per line, `#` comments; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub targets_file: Option<PathBuf>,
    /// Audit only shard I of N: the targets whose stable hash falls in it (a domain
    /// always lands in the same shard); combine the reports with `launchready merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<launchready::engine::Shard>,
    /// Run only the checks matching these ids or globs (repeatable, comma-separated).
    #[arg(long, value_name = "GLOB")]
    pub only: Vec<String>,
    /// Leave out the checks matching these ids or globs (repeatable, comma-separated).
    #[arg(long, value_name = "GLOB")]
    pub skip: Vec<String>,
    /// Also load the check specs of this folder.
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    /// A domain or host name, or a URL listed in the config (`webhooks:`, `urls:`).
    pub target: String,
    /// The config file whose settings for TARGET the probes use (default:
    /// ./launchready.yaml when it exists).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only this probe (default: every probe that applies to the target).
    #[arg(long, value_name = "NAME")]
    pub probe: Option<String>,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// A JSON report saved by `audit --format json=FILE` (launchready.report/v1).
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// Output format, optionally to a file: terminal, json, markdown, html, sarif,
    /// junit; e.g. --format html=handover.html. Repeatable; one may go to stdout.
    #[arg(long = "format", value_name = "FMT[=PATH]")]
    pub formats: Vec<OutputSpec>,
    /// A folder whose handover.html / handover.md replace the built-in templates.
    #[arg(long, value_name = "DIR")]
    pub template: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The JSON reports of the shards (`audit --shard I/N --format json=FILE`).
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
}
