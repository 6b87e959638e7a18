//! `flowd serve --config FILE` (or `FLOWD_CONFIG`): a TOML file holding any `serve` flag
//! under its long name (`listen = "127.0.0.1:9000"`, `workers = 4`,
//! `deny-upstream = ["private"]`). The file's values become the flags' defaults before the
//! command line is parsed again, so a flag beats an environment variable, which beats the
//! file, which beats flowd's own default. Unknown keys and values a flag would refuse are
//! errors that name the key.

use std::path::Path;

use anyhow::Context as _;
use clap::{ArgAction, Command, CommandFactory, FromArgMatches};

/// The subcommand a config file configures.
const SUBCOMMAND: &str = "serve";
/// The flag (and argument id) naming the file.
const CONFIG_ARG: &str = "config";

/// Parses the command line of `C`, with `flowd serve`'s defaults taken from its config file
/// when one is named. Exits (status 2) on a bad command line or a bad config file.
pub fn parse<C: CommandFactory + FromArgMatches>() -> C {
    let matches = C::command().get_matches();
    let config = matches
        .subcommand()
        .filter(|(name, _)| *name == SUBCOMMAND)
        .and_then(|(_, serve)| serve.get_one::<std::path::PathBuf>(CONFIG_ARG).cloned());
    let matches = match config {
        None => matches,
        Some(path) => match with_file_defaults(C::command(), &path) {
            Ok(command) => command.get_matches(),
            Err(error) => {
                eprintln!("flowd: error: {error:#}");
                std::process::exit(2);
            }
        },
    };
    C::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// `command` with the values of the config file at `path` as the defaults of `serve`'s flags.
fn with_file_defaults(command: Command, path: &Path) -> anyhow::Result<Command> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the config file {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text)
        .with_context(|| format!("the config file {} is not valid TOML", path.display()))?;
    // Read from a built copy (actions and value parsers filled in); the defaults go on the
    // unbuilt command, which parsing builds.
    let mut built = command.clone();
    built.build();
    let serve = built
        .find_subcommand(SUBCOMMAND)
        .context("flowd has no serve command")?;
    let defaults = file_defaults(serve, &table)
        .with_context(|| format!("in the config file {}", path.display()))?;
    Ok(command.mut_subcommand(SUBCOMMAND, |mut serve| {
        for (id, values) in defaults {
            serve = serve.mut_arg(id, |arg| arg.default_values(values));
        }
        serve
    }))
}

/// The flags of `serve` the file sets: each argument id with its values, checked by the
/// flag's own parser.
fn file_defaults(
    serve: &Command,
    table: &toml::Table,
) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let mut defaults = Vec::new();
    for (key, value) in table {
        let Some(arg) = serve
            .get_arguments()
            .find(|arg| arg.get_long() == Some(key.as_str()) && settable(arg))
        else {
            anyhow::bail!("{}", unknown_key(serve, key));
        };
        let many = matches!(arg.get_action(), ArgAction::Append);
        let values = match value {
            toml::Value::Array(items) if many => items
                .iter()
                .map(|item| scalar(key, item))
                .collect::<anyhow::Result<Vec<_>>>()?,
            toml::Value::Array(_) => {
                anyhow::bail!("`{key}` takes one value, not a list")
            }
            other => vec![scalar(key, other)?],
        };
        // The flag's own parser, on a command of that one flag.
        for value in &values {
            let probe = Command::new(SUBCOMMAND)
                .no_binary_name(true)
                .arg(arg.clone());
            let given: std::ffi::OsString = format!("--{key}={value}").into();
            if let Err(error) = probe.try_get_matches_from([given]) {
                anyhow::bail!("`{key}`: {}", first_line(&error));
            }
        }
        defaults.push((arg.get_id().as_str().to_owned(), values));
    }
    Ok(defaults)
}

/// Whether a config file may set `arg` (every long flag but `--config` and `--help`).
fn settable(arg: &clap::Arg) -> bool {
    !matches!(arg.get_long(), Some(CONFIG_ARG | "help" | "version") | None)
        && !matches!(
            arg.get_action(),
            ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
        )
}

/// A value of the file as the command line would give it.
fn scalar(key: &str, value: &toml::Value) -> anyhow::Result<String> {
    Ok(match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Integer(number) => number.to_string(),
        toml::Value::Float(number) => number.to_string(),
        toml::Value::Boolean(flag) => flag.to_string(),
        toml::Value::Datetime(_) => anyhow::bail!("`{key}` takes a string or a number, not a date"),
        toml::Value::Array(_) => {
            anyhow::bail!("`{key}` takes a string or a number, not a nested list")
        }
        toml::Value::Table(_) => anyhow::bail!("`{key}` takes a string or a number, not a table"),
    })
}

/// The message for a key no flag has, with the closest flag names.
fn unknown_key(serve: &Command, key: &str) -> String {
    let mut close: Vec<(usize, &str)> = serve
        .get_arguments()
        .filter(|arg| settable(arg))
        .filter_map(|arg| arg.get_long())
        .map(|long| (edit_distance(&key.replace('_', "-"), long), long))
        .filter(|(distance, long)| {
            *distance <= (long.len() / 3).max(2) || (key.len() >= 4 && long.contains(key))
        })
        .collect();
    close.sort();
    let names: Vec<String> = close
        .iter()
        .take(3)
        .map(|(_, long)| format!("`{long}`"))
        .collect();
    let hint = if names.is_empty() {
        "the keys are the long flags of `flowd serve --help`".to_owned()
    } else {
        format!("did you mean {}?", names.join(" or "))
    };
    format!("unknown key `{key}` ({hint})")
}

/// The first line of a clap error, without its `error: ` prefix.
fn first_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let line = rendered.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// Levenshtein distance between two short names.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[right.len()]
}
