use std::process::ExitCode;

use clap::Parser;
use outpost_app::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The window logs its life at info; the CLI keeps stderr for errors.
    init_tracing(if cli.command.is_some() {
        "warn"
    } else {
        "warn,outpost=info,outpost_app=info,outpost_core=info"
    });
    match cli.command {
        Some(command) => outpost_app::cli::run(&cli.global, command),
        None => match outpost_app::app::run(cli.global.db) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Logs go to stderr so `--json` output on stdout stays machine-readable.
/// `RUST_LOG` overrides the default level.
fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
