//! `crm-emulator --port N --control-port M [--token T] [--state FILE]
//! [--rate-limit 100/10s|off] [--seed S] [--dynamics-limit 6000/300s|off]`
//! (plus the flags below; the
//! credentials also come from the environment, to keep them out of argv)
//!
//! Prints one JSON line with the bound URLs on stdout, then logs to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use crm_emulator::{parse_rate_limit, Config, Emulator, RateLimit};

#[derive(Debug, Parser)]
#[command(name = "crm-emulator", version, about)]
struct Args {
    /// CRM port (both APIs); 0 picks a free port.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Control API port; 0 picks a free port.
    #[arg(long, default_value_t = 0)]
    control_port: u16,
    /// Static bearer token (REST token and HubSpot private-app token).
    #[arg(long, env = "CRM_EMULATOR_TOKEN", default_value = "outpost-test-token")]
    token: String,
    /// OAuth client id (REST client credentials and HubSpot's token endpoint).
    #[arg(
        long,
        env = "CRM_EMULATOR_CLIENT_ID",
        default_value = "outpost-client-id"
    )]
    client_id: String,
    /// OAuth client secret (prefer the environment variable to argv).
    #[arg(
        long,
        env = "CRM_EMULATOR_CLIENT_SECRET",
        default_value = "outpost-client-secret",
        hide_env_values = true
    )]
    client_secret: String,
    /// SQLite file that keeps records across restarts (default: memory only).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Rolling-window limit for both APIs, e.g. 100/10s, or off.
    #[arg(long, default_value = "100/10s", value_parser = limit_arg)]
    rate_limit: LimitArg,
    /// Rolling-window limit for the generic REST API only (default: --rate-limit).
    #[arg(long, value_parser = limit_arg)]
    rest_rate_limit: Option<LimitArg>,
    /// Seed of the fault RNG.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Address to bind (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Lifetime of issued OAuth access tokens, in seconds.
    #[arg(long, default_value_t = 1800)]
    token_lifetime: u64,
    /// Milliseconds a new or changed HubSpot object stays invisible to search.
    #[arg(long, default_value_t = 0)]
    search_lag_ms: u64,
    /// Do not send Retry-After on 429 answers.
    #[arg(long)]
    no_retry_after: bool,
    /// Start without the unique `outpost_key` contact property.
    #[arg(long)]
    no_unique_property: bool,
    /// The REST API asks for keys of this shop (1-999999) and refuses others.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=999_999))]
    rest_key_shop: Option<u32>,
    /// Dataverse service protection window, e.g. 6000/300s, or off.
    #[arg(long, default_value = "6000/300s", value_parser = limit_arg)]
    dynamics_limit: LimitArg,
    /// Dataverse concurrent request cap; 0 turns it off.
    #[arg(long, default_value_t = 52)]
    dynamics_concurrency: u32,
    /// Execution time charged per Dataverse request, in milliseconds
    /// (x-ms-ratelimit-time-remaining-xrm-requests counts it down from 1,200,000).
    #[arg(long, default_value_t = 100)]
    dynamics_request_cost_ms: u64,
    /// Zoho API credits per rolling 24 h; 0 turns the budget off.
    #[arg(long, default_value_t = 1_000_000)]
    zoho_credits: u64,
    /// Zoho concurrent requests per org (Enterprise: 20); 0 turns the cap off.
    #[arg(long, default_value_t = 20)]
    zoho_concurrency: u32,
    /// How long each Zoho request holds its concurrency slot, in milliseconds.
    #[arg(long, default_value_t = 0)]
    zoho_request_cost_ms: u64,
    /// The Zoho data centre the emulator is (com, eu, in, com.au, jp, ...).
    #[arg(long, default_value = "com")]
    zoho_data_centre: String,
}

/// Wrapper so clap does not read `Option` as "flag may be absent".
#[derive(Debug, Clone, Copy)]
struct LimitArg(Option<RateLimit>);

fn limit_arg(s: &str) -> Result<LimitArg, String> {
    parse_rate_limit(s).map(LimitArg).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = Config {
        bind: args.bind,
        port: args.port,
        control_port: args.control_port,
        token: args.token,
        oauth_client_id: args.client_id,
        oauth_client_secret: args.client_secret,
        state: args.state,
        hubspot_rate_limit: args.rate_limit.0,
        rest_rate_limit: args.rest_rate_limit.unwrap_or(args.rate_limit).0,
        retry_after: !args.no_retry_after,
        seed: args.seed,
        access_token_lifetime: std::time::Duration::from_secs(args.token_lifetime),
        search_index_lag: std::time::Duration::from_millis(args.search_lag_ms),
        unique_property: (!args.no_unique_property).then(|| "outpost_key".to_string()),
        rest_key_shop: args.rest_key_shop,
        dynamics_rate_limit: args.dynamics_limit.0,
        dynamics_concurrency: args.dynamics_concurrency,
        dynamics_request_cost: std::time::Duration::from_millis(args.dynamics_request_cost_ms),
        zoho_credits: args.zoho_credits,
        zoho_concurrency: args.zoho_concurrency,
        zoho_request_cost: std::time::Duration::from_millis(args.zoho_request_cost_ms),
        zoho_data_centre: args.zoho_data_centre,
        ..Config::default()
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("crm-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    let emu = match Emulator::start(config).await {
        Ok(emu) => emu,
        Err(e) => {
            eprintln!("crm-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let signals = Signals::install();
    let line = serde_json::json!({ "crm": emu.crm_url(), "control": emu.control_url() });
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    signals.wait().await;
    tracing::info!("shutting down");
    emu.shutdown().await;
    ExitCode::SUCCESS
}

/// Ctrl-C or SIGTERM, so `kill` flushes the state file. The handlers are
/// installed before the JSON line is printed: a harness that reads it and
/// sends SIGTERM at once must not kill the process before it can flush.
struct Signals {
    #[cfg(unix)]
    handlers: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Signals {
                handlers: signal(SignalKind::terminate())
                    .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
                    .ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut term, mut int)) = self.handlers {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
