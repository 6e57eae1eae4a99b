//! Every customer field as a `--flag VALUE`, built from the core's field
//! list so a new field gets its flag without touching the CLI.

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use outpost_core::customer::{CustomerFields, Field};

/// `--first-name F --last-name L ...`: one flag per [`Field`].
#[derive(Debug, Clone, Default)]
pub struct FieldArgs(pub CustomerFields);

/// The flag of a field: its name in kebab case (`postal_code` → `--postal-code`).
pub fn flag(field: Field) -> String {
    field.name().replace('_', "-")
}

impl FromArgMatches for FieldArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut args = FieldArgs::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for &field in Field::ALL {
            if let Some(value) = matches.get_one::<String>(field.name()) {
                *self.0.slot(field) = Some(value.clone());
            }
        }
        Ok(())
    }
}

impl Args for FieldArgs {
    fn augment_args(cmd: Command) -> Command {
        Field::ALL.iter().fold(cmd, |cmd, &field| {
            let spec = field.spec();
            cmd.arg(
                Arg::new(field.name())
                    .long(flag(field))
                    .value_name(spec.label.to_uppercase().replace(' ', "_"))
                    .help(format!("{} (e.g. {})", spec.label, spec.hint)),
            )
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}
