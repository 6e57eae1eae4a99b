use std::process::ExitCode;

use clap::Parser;
use outpost_app::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The window logs its life at info; the CLI keeps stderr for errors
    // (with `--json`, for the one error object). sqlx warns about any
    // statement slower than a second: on a busy machine that is noise, not
    // a problem of the command.
    init_tracing(if cli.command.is_some() {
        "warn,sqlx=error"
    } else {
        "warn,sqlx=error,outpost=info,outpost_app=info,outpost_core=info"
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
