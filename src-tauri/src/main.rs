use std::process::ExitCode;

use clap::Parser;
use outpost_app::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The window and the headless service (`sync --watch`) log their life
    // at info; the other commands keep stderr for errors (with `--json`,
    // for the one error object). sqlx warns about any statement slower
    // than a second: on a busy machine that is noise, not a problem of the
    // command.
    let long_running = cli.command.as_ref().is_none_or(|c| c.is_service());
    init_tracing(if long_running {
        "warn,sqlx=error,outpost=info,outpost_app=info,outpost_core=info"
    } else {
        "warn,sqlx=error"
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

/// Logs go to stderr so `--json` output on stdout stays machine-readable
/// (under systemd, stderr is the journal: no colour codes there).
/// `RUST_LOG` overrides the default level.
fn init_tracing(default: &str) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
