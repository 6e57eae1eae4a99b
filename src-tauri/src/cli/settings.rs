//! `outpost settings set|show`: the device's settings (not an endpoint's),
//! for now the default region phone numbers without a country code are read
//! in. Changing them needs the admin passphrase once one is set.

use clap::Subcommand;
use outpost_core::app::AppError;
use outpost_core::app_settings::{AppSettings, AppSettingsInput, RegionSource};
use outpost_core::Outpost;

use super::admin;
use super::output::Output;
use crate::error::IpcError;

/// What `--default-region` takes to follow the OS locale again.
const AUTO: &str = "auto";

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Change settings; the ones not given stay as they are.
    Set {
        /// The country phone numbers typed without a country code belong to
        /// (ISO 3166-1 alpha-2, e.g. DE); `auto` follows the OS locale.
        #[arg(long, value_name = "CC")]
        default_region: Option<String>,
    },
    /// Show the settings and where the default region comes from.
    Show,
}

pub async fn run(app: &Outpost, command: SettingsCommand, out: &Output) -> Result<(), IpcError> {
    match command {
        SettingsCommand::Set { default_region } => {
            let Some(region) = default_region else {
                return Err(AppError::invalid_input(
                    "default_region",
                    "Nothing to change: give --default-region CC (or auto).",
                )
                .into());
            };
            let input = AppSettingsInput {
                default_region: Some(region).filter(|r| !r.trim().eq_ignore_ascii_case(AUTO)),
            };
            // Checked before the passphrase is asked for.
            input.region().map_err(outpost_core::Error::Validation)?;
            admin::require(app).await?;
            let settings = app.set_app_settings(&input).await?;
            out.print(&settings, || describe(&settings));
        }
        SettingsCommand::Show => {
            let settings = app.app_settings();
            out.print(&settings, || describe(&settings));
        }
    }
    Ok(())
}

fn describe(s: &AppSettings) -> String {
    let region = match (s.default_region, s.default_region_source) {
        (Some(r), Some(RegionSource::Setting)) => format!("{r} (set on this device)"),
        (Some(r), _) => format!("{r} (from the OS locale)"),
        (None, _) => "none: phone numbers need their country code (+49 ...)".to_owned(),
    };
    format!("default region: {region}")
}
